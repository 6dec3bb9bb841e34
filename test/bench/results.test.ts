import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type BenchOptions, type Lane, LaneSkipped, metric } from '../../bench/lane.js';
import { readResults, validateResults, writeAtomic } from '../../bench/results.js';
import { BenchRun } from '../../bench/runner.js';
import { globalArray } from '../../designs/global-array.js';

const options: BenchOptions = {
  quick: true,
  lanes: ['a', 'b', 'c'],
  designs: [globalArray],
  batches: [1],
  threads: [1],
  rings: [1, 16],
  cpus: [],
  oversubscribe: false,
  placement: { mode: 'off', cpus: [] },
  rounds: 3,
  durationMs: 1,
  libbpf: null,
};

const okLane: Lane = {
  name: 'a',
  title: 'works',
  run: async (ctx) => {
    ctx.progress(1, 1);
    return {
      metrics: [
        metric(
          { id: 'a/x', lane: 'a', labels: { k: 1 }, unit: 'ns/req', better: 'lower' },
          [1, 2, 3],
        ),
        metric(
          { id: 'a/y', lane: 'a', labels: { k: 2 }, unit: 'ns/req', better: 'lower' },
          [2, 4, 6],
          {
            id: 'a/x',
            values: [1, 2, 3],
          },
        ),
      ],
      notes: ['a note'],
      details: { any: ['json'] },
    };
  },
};
const skippedLane: Lane = {
  name: 'b',
  title: 'cannot',
  run: async () => Promise.reject(new LaneSkipped('no io_uring here')),
};
const failingLane: Lane = {
  name: 'c',
  title: 'crashes',
  run: async () => Promise.reject(new Error('boom\nstack')),
};

async function sampleRun(lanes: Lane[]) {
  const run = new BenchRun(
    options,
    { quick: true },
    ['npm', 'run', 'bench'],
    { kernel: 'x' },
    '0.1.0',
  );
  await run.run(lanes);
  return run;
}

describe('runner', () => {
  it('records ok, skipped and failed lanes, and marks a failure incomplete', async () => {
    const r = (await sampleRun([okLane, skippedLane, failingLane])).results();
    assert.deepEqual(
      r.lanes.map((l) => [l.lane, l.status, l.reason]),
      [
        ['a', 'ok', null],
        ['b', 'skipped', 'no io_uring here'],
        ['c', 'failed', 'boom'],
      ],
    );
    assert.equal(r.complete, false);
    assert.equal(r.incompleteReason, 'c lane failed: boom');
  });

  it('is complete when lanes only skip', async () => {
    const r = (await sampleRun([okLane, skippedLane])).results();
    assert.equal(r.complete, true);
    assert.equal(r.incompleteReason, null);
  });

  it('keeps the ratio to the baseline per round', async () => {
    const r = (await sampleRun([okLane])).results();
    const y = r.lanes[0]?.metrics[1];
    assert.equal(y?.vsBaseline?.baseline, 'a/x');
    assert.equal(y?.vsBaseline?.ratio.median, 2);
    assert.equal(y?.summary.n, 3);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: these tests break the schema on purpose, field by field.
type Loose = Record<string, any>;

describe('results schema', () => {
  it('survives a JSON round trip unchanged and valid', async () => {
    const r = (await sampleRun([okLane, skippedLane])).results();
    const back = JSON.parse(JSON.stringify(r)) as unknown;
    const checked = validateResults(back);
    assert.ok(checked.ok, checked.ok ? '' : checked.error);
    assert.deepEqual(checked.results, r);
  });

  it('rejects another schema version, a missing field, a bad value and a duplicate id', async () => {
    const good = JSON.parse(JSON.stringify((await sampleRun([okLane])).results())) as Record<
      string,
      unknown
    >;
    const bad = (mutate: (r: Loose) => void) => {
      const copy = structuredClone(good) as Loose;
      mutate(copy);
      const checked = validateResults(copy);
      return checked.ok ? 'accepted' : checked.error;
    };
    assert.match(
      bad((r) => (r.schemaVersion = 2)),
      /schemaVersion is 2; this suite reads version 1/,
    );
    assert.match(
      bad((r) => delete r.lanes),
      /results.lanes must be an array/,
    );
    assert.match(
      bad((r) => (r.lanes[0].metrics[0].values = [1, null])),
      /values\[1\] must be a finite number/,
    );
    assert.match(
      bad((r) => (r.lanes[0].metrics[0].values = [])),
      /values must not be empty/,
    );
    assert.match(
      bad((r) => (r.lanes[0].status = 'fine')),
      /status must be one of ok, skipped, failed, interrupted/,
    );
    assert.match(
      bad((r) => (r.lanes[0].metrics[1].id = 'a/x')),
      /metric id 'a\/x' appears twice/,
    );
  });

  it('reads a file with a one-line error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iou-results-'));
    const path = join(dir, 'results.json');
    writeFileSync(path, '{ not json');
    const r = readResults(path);
    assert.ok(!r.ok && r.error.startsWith(`${path}: not JSON`));
    const missing = readResults(join(dir, 'nope.json'));
    assert.ok(!missing.ok && missing.error.endsWith('ENOENT'));
  });

  it('writes atomically, leaving no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iou-results-'));
    writeAtomic(join(dir, 'r.json'), '{"a":1}');
    assert.deepEqual(readdirSync(dir), ['r.json']);
    assert.equal(readFileSync(join(dir, 'r.json'), 'utf8'), '{"a":1}');
    assert.throws(() => writeAtomic(join(dir, 'missing-dir', 'r.json'), 'x'));
    assert.equal(existsSync(join(dir, 'missing-dir')), false);
  });
});
