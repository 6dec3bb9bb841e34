// The corpus format and `npm run fuzz -- --replay FILE`: a corrupt corpus
// file is its own problem, by name, while the others still load and replay;
// the validator names what is wrong with an entry; --replay exits 0 when
// the violation still occurs, 1 when it no longer does and 2, with one line
// naming the file, for anything that is not a corpus entry.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CORPUS_FORMAT,
  type CorpusEntry,
  corpusEntryProblem,
  loadCorpus,
  readCorpusEntry,
} from '../../fuzz/corpus.js';
import { explain } from '../../fuzz/engine.js';
import type { Scenario } from '../../fuzz/scenario.js';

const CLI = fileURLToPath(new URL('../../fuzz/cli.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'iou-corpus-'));

const program = { prep: 0, issueRet: 0, issueRes: 0, fail: false, cleanup: true };
/** A hostile process asking global-array for id `id`: past its 256 entries at 300. */
const hostileScenario = (id: number): Scenario => ({
  processes: [{ ns: 1, team: 9 }],
  actors: [{ process: 0, protocol: 'hostile', id, program, requests: [false], extra: 0 }],
  priorities: [],
  changes: [],
});

function entry(id = 300): CorpusEntry {
  const why = explain('global-array', 'bounds', hostileScenario(300));
  assert.ok(why !== null);
  return {
    format: CORPUS_FORMAT,
    design: 'global-array',
    property: 'bounds',
    mutant: null,
    protocol: 'mixed',
    message: why.message,
    seed: 1,
    path: '0',
    scenario: hostileScenario(id),
  };
}

function write(dir: string, name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

describe('corpus loader', () => {
  it('gives a corrupt file its own problem, by name, and still loads the good one', () => {
    const dir = tmp();
    write(dir, 'a-corrupt.json', JSON.stringify(entry()).slice(0, 80));
    write(dir, 'b-good.json', entry());
    const items = loadCorpus(dir);
    assert.deepEqual(
      items.map((i) => i.file),
      ['a-corrupt.json', 'b-good.json'],
    );
    const [bad, good] = items;
    assert.equal(bad?.entry, null);
    assert.match(bad?.problem ?? '', /^not valid JSON/);
    assert.equal(good?.problem, null);
    const e = good?.entry;
    assert.ok(e !== null && e !== undefined);
    assert.equal(explain(e.design, e.property, e.scenario)?.message, e.message);
  });

  it('reads an entry written before the format field as format 1', () => {
    const { format: _, ...old } = entry();
    assert.equal(corpusEntryProblem(old), null);
  });

  it('names what is wrong with an entry', () => {
    const e = entry();
    const cases: [unknown, RegExp][] = [
      [[1, 2], /not a corpus entry/],
      [{ ...e, format: CORPUS_FORMAT + 1 }, /format 2 is newer than this suite reads \(1\)/],
      [{ ...e, design: 'per-ring' }, /unknown design 'per-ring'/],
      [{ ...e, property: 'teleport' }, /unknown property 'teleport'/],
      [{ ...e, mutant: 'no-such-bug' }, /'no-such-bug' is not a planted bug of global-array/],
      [{ ...e, scenario: undefined }, /no scenario|scenario is not an object/],
      [
        { ...e, scenario: { ...e.scenario, actors: 'x' } },
        /scenario.actors is not a non-empty list/,
      ],
      [
        { ...e, scenario: { ...e.scenario, actors: [{ ...e.scenario.actors[0], process: 3 }] } },
        /scenario.actors\[0\].process is not the index of one of the 1 processes/,
      ],
      [
        { ...e, scenario: { ...e.scenario, actors: [{ ...e.scenario.actors[0], protocol: 'x' }] } },
        /scenario.actors\[0\].protocol is not one of/,
      ],
      [
        { ...e, scenario: { ...e.scenario, processes: [{ ns: 0, team: 0, rings: 4 }] } },
        /scenario.processes\[0\].rings is not a whole number from 1 to 3/,
      ],
      [
        {
          ...e,
          scenario: { ...e.scenario, actors: [{ ...e.scenario.actors[0], crossRing: 'swap' }] },
        },
        /scenario.actors\[0\].crossRing is not one of clone, msg/,
      ],
      [
        {
          ...e,
          scenario: {
            ...e.scenario,
            actors: [{ ...e.scenario.actors[0], program: { ...program, memcpy: 1 } }],
          },
        },
        /scenario.actors\[0\].program.memcpy is not true or false/,
      ],
    ];
    for (const [x, pattern] of cases) assert.match(corpusEntryProblem(x) ?? 'valid', pattern);
    // Fields the validator does not know are let through: scenarios may grow.
    assert.equal(corpusEntryProblem({ ...e, scenario: { ...e.scenario, later: [1] } }), null);
  });

  it('says a missing file is missing', () => {
    assert.equal(readCorpusEntry(join(tmp(), 'nope.json')).problem, 'no such file');
  });
});

function fuzz(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

describe('npm run fuzz -- --replay', () => {
  it('exits 0 and prints the message and the marked swimlane when the violation still occurs', () => {
    const file = write(tmp(), 'still.json', entry());
    const run = fuzz(['--replay', file]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /still\.json: global-array violates bounds: a0:hostile:/);
    assert.ok(lines.some((l) => /^violated at step \d+ \(a0:hostile: /.test(l)));
    assert.equal(lines.filter((l) => l.startsWith('>>')).length, 1);
    assert.ok(lines.every((l) => l.length <= 80 && !l.includes('\t')));
  });

  it('exits 1 with one line when the scenario no longer violates the property', () => {
    const file = write(tmp(), 'gone.json', entry(3));
    const run = fuzz(['--replay', file]);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, `${file}: global-array no longer violates bounds on this scenario\n`);
  });

  it('is what a run prints for each counterexample it saves, seeds the next run, and a run says when the corpus holds another', () => {
    const corpus = tmp();
    const args = ['--designs', 'global-array', '--properties', 'bounds', '--protocols', 'mixed'];
    const small = [...args, '--runs', '30', '--no-mutants', '--jobs', '1', '--corpus', corpus];
    const file = join(corpus, 'global-array--bounds.json');
    const first = fuzz(small);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(
      first.stdout.includes(`new counterexample saved; replay: npm run fuzz -- --replay ${file}\n`),
    );
    const saved = readCorpusEntry(file);
    assert.equal(saved.problem, null);
    assert.equal(saved.entry?.format, CORPUS_FORMAT);
    assert.equal(fuzz(['--replay', file]).status, 0);
    // The saved scenario seeds the next run, which finds it again first: no note.
    const again = fuzz(small);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /holds an earlier counterexample/);
    // A saved scenario that no longer fails: the run finds another, keeps the file and says so.
    write(corpus, 'global-array--bounds.json', entry(3));
    const second = fuzz(small);
    assert.equal(second.status, 0, second.stderr);
    assert.match(
      second.stdout.replace(/\s+/g, ' '),
      / global-array--bounds\.json holds an earlier counterexample of global-array \/ bounds: its replay runs that one /,
    );
  });

  const dir = tmp();
  const bad: [string, string, RegExp][] = [
    ['missing', join(dir, 'missing.json'), /: no such file$/],
    [
      'truncated',
      write(dir, 'cut.json', JSON.stringify(entry()).slice(0, 100)),
      /: not valid JSON/,
    ],
    ['not JSON', write(dir, 'text.json', 'hello\n'), /: not valid JSON/],
    ['a directory', dir, /: is a directory$/],
    ['an unknown design', write(dir, 'd.json', { ...entry(), design: 'x' }), /unknown design 'x'/],
    [
      'an unknown property',
      write(dir, 'p.json', { ...entry(), property: 'y' }),
      /unknown property 'y'/,
    ],
    ['no scenario', write(dir, 's.json', { ...entry(), scenario: undefined }), /no scenario/],
    [
      'the wrong shape',
      write(dir, 'w.json', { ...entry(), scenario: { processes: [] } }),
      /scenario.processes is not a non-empty list/,
    ],
  ];
  for (const [what, file, pattern] of bad) {
    it(`exits 2 with one line naming the file for ${what}`, () => {
      const run = fuzz(['--replay', file]);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
      assert.ok(run.stderr.startsWith(`fuzz: --replay ${file}: `), run.stderr);
      assert.match(run.stderr.trimEnd(), pattern);
    });
  }
});
