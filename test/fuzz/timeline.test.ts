// The swimlane as text: at most 80 columns and no tabs whatever the actors
// and labels, one column per actor in order of first appearance, the
// violating step marked, labels wrapped inside their column without
// splitting a number, and narrow lanes when too many actors share a line.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SwimlaneStep, swimlane, swimlaneText, wrapCell } from '../../fuzz/timeline.js';

const steps: SwimlaneStep[] = [
  { actor: 'p0#1', label: 'start' },
  { actor: 'p0#1', label: 'io_uring_setup' },
  { actor: 'a0:exclusive', label: 'start' },
  { actor: 'a0:exclusive', label: 'mutex_lock(ring#1.uring_lock)' },
  { actor: 'a1:hostile', label: 'start' },
  { actor: 'a1:hostile', label: 'prep: read bpf_ops[op] of request 123456789 at index 65535' },
  { actor: 'a0:exclusive', label: 'mutex_lock(ring#1.uring_lock): wait' },
  { actor: 'iowq:req12', label: 'io-wq issue req12' },
];

const marked = (lines: readonly string[]) => lines.filter((l) => l.startsWith('>>'));

describe('swimlane text', () => {
  it('has one column per actor, in order of first appearance, and leaves out bare starts', () => {
    const lane = swimlane(steps, 5);
    assert.deepEqual(lane.actors, ['p0#1', 'a0:exclusive', 'a1:hostile', 'iowq:req12']);
    assert.deepEqual(
      lane.rows.map((r) => r.step),
      [1, 3, 5, 6, 7],
    );
    assert.deepEqual(
      lane.rows.map((r) => r.column),
      [0, 1, 2, 1, 3],
    );
    // A start step is shown when it is the violating one.
    assert.deepEqual(
      swimlane(steps, 2).rows.map((r) => r.step),
      [1, 2, 3, 5, 6, 7],
    );
  });

  it('stays within 80 columns with no tabs, and marks the violating step once', () => {
    const lines = swimlaneText(steps, 5);
    for (const l of lines) {
      assert.ok(l.length <= 80, `${l.length} columns: ${l}`);
      assert.ok(!l.includes('\t'));
    }
    const m = marked(lines);
    assert.equal(m.length, 1);
    assert.match(m[0] ?? '', /^>> +5 .*\*prep:/);
    // The label sits in its actor's column: the third, after the header's first two.
    const header = lines.find((l) => l.trimStart().startsWith('step')) ?? '';
    assert.equal((m[0] ?? '').indexOf('*prep'), header.indexOf('[2] a1:hostile'));
    // The legend names every actor with what it is.
    assert.ok(lines.some((l) => l.includes('[3] iowq:req12: io-wq worker issuing request 12')));
  });

  it('wraps a long label inside its column, with no number split', () => {
    const lines = swimlaneText(steps, 5);
    const start = lines.findIndex((l) => l.startsWith('>>'));
    const col = (lines[start] ?? '').indexOf('*prep');
    const wrapped: string[] = [];
    for (let i = start; i < lines.length; i++) {
      const l = lines[i] ?? '';
      if (i > start && l.slice(0, col).trim() !== '') break;
      wrapped.push(l.slice(col).trim());
    }
    assert.ok(wrapped.length > 1, 'the label wraps');
    assert.equal(wrapped.join(' '), '*prep: read bpf_ops[op] of request 123456789 at index 65535');
  });

  it('falls back to narrow lanes with many actors, and to numbered rows with very many', () => {
    for (const actors of [7, 30]) {
      const many: SwimlaneStep[] = Array.from({ length: 60 }, (_, i) => ({
        actor: `a${i % actors}:exclusive`,
        label: `synchronize_srcu(uring_bpf_srcu): grace period ${i}`,
      }));
      const lines = swimlaneText(many, 40);
      assert.ok(
        lines.every((l) => l.length <= 80),
        lines.find((l) => l.length > 80),
      );
      assert.equal(marked(lines).length, 1);
      assert.match(marked(lines)[0] ?? '', /\*synchronize_srcu/);
      // Each label is whole on its row: with narrow lanes nothing is wrapped at 80 columns here.
      assert.ok(lines.some((l) => l.endsWith('grace period 40')));
    }
  });

  it('shows a window ending just after the violating step when asked for fewer steps', () => {
    const long: SwimlaneStep[] = Array.from({ length: 100 }, (_, i) => ({
      actor: `a${i % 2}:exclusive`,
      label: `step ${i}`,
    }));
    const lines = swimlaneText(long, 50, { maxSteps: 10 });
    assert.equal(marked(lines).length, 1);
    assert.ok(lines.some((l) => l.includes('... 44 earlier steps')));
    assert.ok(lines.some((l) => l.includes('... 46 later steps')));
    const shown = lines.filter((l) => /^(>>| {2}) +\d+ /.test(l));
    assert.equal(shown.length, 10);
  });
});

describe('wrapCell', () => {
  it('cuts long words after punctuation and never before a digit', () => {
    for (const [text, width] of [
      ['mutex_lock(ring#12345.uring_lock): wait', 12],
      ['exit_files(100): fput(prog#1)', 10],
      ['io_uring_register_get_file(3)', 16],
      ['request 123456789', 10],
    ] as const) {
      const pieces = wrapCell(text, width);
      for (const p of pieces) assert.ok(p.length <= width, `${p} is wider than ${width}`);
      assert.equal(pieces.join('').replaceAll(' ', ''), text.replaceAll(' ', ''));
      for (let i = 1; i < pieces.length; i++) {
        const prev = pieces[i - 1] ?? '';
        const next = pieces[i] ?? '';
        // A piece that starts with a digit continues a word only if that word was a number longer than the line.
        if (/^\d/.test(next) && /\S$/.test(prev) && text.includes(`${prev.slice(-1)}${next[0]}`))
          assert.fail(`'${prev}' / '${next}' splits a number or parts it from its name`);
      }
    }
  });
});
