import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Results } from '../../bench/results.js';
import { compareHtml, compareResults, compareText } from '../../reports/compare.js';
import { sampleResults } from './fixtures.js';

const CLI = fileURLToPath(new URL('../../reports/compare-cli.js', import.meta.url));

function files(a: Results, b: Results | string): [string, string] {
  const dir = mkdtempSync(join(tmpdir(), 'iou-compare-'));
  writeFileSync(join(dir, 'base.json'), JSON.stringify(a));
  writeFileSync(join(dir, 'new.json'), typeof b === 'string' ? b : JSON.stringify(b));
  return [join(dir, 'base.json'), join(dir, 'new.json')];
}

const compare = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('compare', () => {
  it('flags a planted 10 % slowdown as a regression (exit 1)', async () => {
    const base = await sampleResults({ seed: 1 });
    const slower = await sampleResults({ seed: 2, scale: 1.1 });
    const c = compareResults(base, slower);
    assert.ok(c.ok);
    const nop = c.deltas.find((d) => d.id === 'kernel/nop/b128/t1');
    assert.ok(nop?.regression, 'nop regressed');
    assert.ok(Math.abs((nop?.change.change ?? 0) - 0.1) < 0.02);
    const [a, b] = files(base, slower);
    const run = compare([a, b]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /\+\d+\.\d%.*kernel\/nop\/b128\/t1 REGRESSION/);
    for (const line of run.stdout.split('\n')) assert.ok(line.length <= 80, line);
  });

  it('does not flag a copy whose noise stays inside the intervals (exit 0)', async () => {
    const base = await sampleResults({ seed: 1 });
    const again = await sampleResults({ seed: 3 });
    const c = compareResults(base, again);
    assert.ok(c.ok);
    assert.deepEqual(
      c.deltas.filter((d) => d.regression).map((d) => d.id),
      [],
    );
    const [a, b] = files(base, again);
    const run = compare([a, b]);
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /0 regressions/);
  });

  it('reports an improvement without failing', async () => {
    const c = compareResults(
      await sampleResults({ seed: 1 }),
      await sampleResults({ seed: 4, scale: 0.85 }),
    );
    assert.ok(c.ok && c.deltas.some((d) => d.improvement) && !c.deltas.some((d) => d.regression));
    assert.match(compareText(c, 'a', 'b'), /improved/);
  });

  it('respects --threshold: a 10 % slowdown is no regression at 15 %', async () => {
    const [a, b] = files(
      await sampleResults({ seed: 1 }),
      await sampleResults({ seed: 2, scale: 1.1 }),
    );
    assert.equal(compare([a, b, '--threshold', '15']).status, 0);
  });

  it('calls no regression when a run was under QEMU TCG, and says why (exit 0)', async () => {
    const base = await sampleResults({ seed: 1 });
    const slower = await sampleResults({ seed: 2, scale: 1.1 });
    const tcgBase = await sampleResults({ seed: 1, virtualization: 'tcg' });
    const tcgSlower = await sampleResults({ seed: 2, scale: 1.1, virtualization: 'tcg' });
    const cases: [Results, Results, string][] = [
      [tcgBase, slower, 'the base run is'],
      [base, tcgSlower, 'the new run is'],
      [tcgBase, tcgSlower, 'both runs are'],
    ];
    for (const [a, b, who] of cases) {
      const line = `CAVEAT: ${who} under QEMU TCG: timings not valid, no regression called`;
      const c = compareResults(a, b);
      assert.ok(c.ok);
      assert.equal(c.deltas.length > 0, true);
      assert.equal(
        c.deltas.some((d) => d.regression || d.improvement),
        false,
        who,
      );
      assert.match(compareHtml(c, 'a', 'b'), new RegExp(`Caveat: ${who} under QEMU TCG`));
      const run = compare(files(a, b));
      assert.equal(run.status, 0, run.stdout);
      const lines = run.stdout.split('\n');
      assert.equal(lines[0], line);
      assert.equal(lines.filter((l) => l.includes('QEMU TCG')).length, 1);
      assert.doesNotMatch(run.stdout, /REGRESSION|improved/);
      for (const l of lines) assert.ok(l.length <= 80, l);
    }
    // The same slowdown without TCG is still a regression, and says nothing about TCG.
    const plain = compare(files(base, slower));
    assert.equal(plain.status, 1);
    assert.doesNotMatch(plain.stdout, /TCG/);
    // A kvm run's timings count.
    const kvm = await sampleResults({ seed: 2, scale: 1.1, virtualization: 'kvm' });
    assert.equal(compare(files(base, kvm)).status, 1);
  });

  it('answers unusable input with one line and exit 2', async () => {
    const base = await sampleResults();
    const other = { ...base, schemaVersion: 2 } as unknown as Results;
    const cases: [[string, string] | string[], RegExp][] = [
      [files(base, other), /schemaVersion is 2; this suite reads version 1/],
      [files(base, { ...base, lanes: [] }), /no metric is in both files/],
      [files(base, '{'), /not JSON/],
      [[files(base, base)[0]], /give a base and a new results file/],
    ];
    for (const [args, pattern] of cases) {
      const run = compare(args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stdout}`);
      assert.equal(run.stderr.trim().split('\n').length, 1);
      assert.match(run.stderr, pattern);
    }
  });
});
