// The fuzzer itself: the corpus of counterexamples still fails the way it
// was saved (verdicts cannot change silently; one test per file, so a
// damaged file fails alone, by name), a run is the same on one worker or
// two, planted bugs are caught, and bad options are one line.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findDesign } from '../../designs/registry.js';
import { loadCorpus } from '../../fuzz/corpus.js';
import { explain, type JobResult } from '../../fuzz/engine.js';
import { runMatrix } from '../../fuzz/matrix.js';
import { mutantsOf } from '../../fuzz/mutants.js';

const CLI = fileURLToPath(new URL('../../fuzz/cli.js', import.meta.url));

describe('counterexample corpus', () => {
  const corpus = loadCorpus();

  it('is not empty', () => {
    assert.ok(corpus.length > 0);
  });

  for (const item of corpus) {
    it(`${item.file}: still violates its property the same way`, () => {
      const { entry } = item;
      assert.ok(entry !== null, `${item.file}: ${item.problem}`);
      const now = explain(entry.design, entry.property, entry.scenario, entry.mutant ?? null);
      assert.ok(
        now !== null,
        `${item.file}: ${entry.design} no longer violates ${entry.property} with the saved scenario`,
      );
      assert.equal(now.message, entry.message, item.file);
    });
  }
});

/** A result without its wall-clock timings, which differ between runs. */
function untimed(r: JobResult) {
  return {
    ...r,
    ms: 0,
    counterexample:
      r.counterexample === null ? null : { ...r.counterexample, timeToFirstFailureMs: 0 },
  };
}

describe('fuzz runs', () => {
  const designs = ['global-array', 'per-fd'].map((n) => {
    const f = findDesign(n);
    assert.ok(f.ok);
    return f.design;
  });
  const base = {
    seed: 7,
    runs: 60,
    mutantRuns: 60,
    timeLimitMs: 60_000,
    designs,
    properties: ['hijack', 'use-after-free', 'completion'] as const,
    protocols: ['exclusive', 'restart'] as const,
    mutants: false,
  };

  it('gives the same verdicts and counterexamples on one worker and on two', async () => {
    const serial = await runMatrix({
      ...base,
      properties: [...base.properties],
      protocols: [...base.protocols],
      jobs: 1,
    });
    const parallel = await runMatrix({
      ...base,
      properties: [...base.properties],
      protocols: [...base.protocols],
      jobs: 2,
    });
    assert.deepEqual(parallel.results.map(untimed), serial.results.map(untimed));
    assert.ok(
      serial.results.some((r) => r.verdict === 'violated'),
      'the global array violates something',
    );
  });

  it('catches every bug planted in per-fd with the default budget', async () => {
    const report = await runMatrix({
      ...base,
      seed: 1,
      runs: 400,
      mutantRuns: 4000,
      designs: [designs[1] as (typeof designs)[number]],
      properties: ['use-after-free', 'pairing', 'deadlock'],
      protocols: ['exclusive', 'shared-by-id', 'restart'],
      mutants: true,
      jobs: 2,
    });
    assert.deepEqual(
      report.mutants.map((m) => [m.mutant, m.killed]),
      mutantsOf('per-fd').map((m) => [m, true]),
    );
  });
});

describe('fuzz output', () => {
  it('prints each counterexample with its replay command and marked swimlane, within 80 columns', () => {
    const run = spawnSync(
      process.execPath,
      [
        CLI,
        ...['--designs', 'global-array', '--properties', 'bounds', '--protocols', 'mixed'],
      ].concat(['--runs', '30', '--no-mutants', '--no-corpus', '--jobs', '1']),
      { encoding: 'utf8', env: { ...process.env, CI: 'true' } },
    );
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    for (const l of lines) assert.ok(l.length <= 80 && !l.includes('\t'), l);
    assert.ok(
      lines.includes('  replay: npm run fuzz -- --replay fuzz/corpus/global-array--bounds.json'),
      run.stdout,
    );
    assert.equal(lines.filter((l) => l.startsWith('  >>')).length, 1, run.stdout);
    assert.match(run.stdout, /violated at step \d+ \(a\d+:hostile: /);
  });

  it('answers bad options with one line and exit 2', () => {
    for (const [args, pattern] of [
      [['--properties', 'hijack,teleport'], /unknown property 'teleport'/],
      [['--designs', 'nope'], /unknown design 'nope'/],
      [['--runs', '0'], /--runs: '0' is not a whole number from 1/],
    ] as const) {
      const run = spawnSync(process.execPath, [CLI, ...args, '--no-corpus'], { encoding: 'utf8' });
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1);
      assert.match(run.stderr, pattern);
    }
  });
});
