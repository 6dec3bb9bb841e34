// The C designs' concurrent stress: worker_threads sharing one design
// instance through the addon's handle, and the standalone iou-stress binary
// (the one the sanitizer runs build). Every violation counter, wrong, failed
// and missing completion must stay 0 (use-after-free calls through a stale
// ops pointer, the posted request path's own, aside); with names per ring,
// threads also register on each other's rings while those rings submit;
// designs with a setup flag also get rings without it. Then exit()'s oops
// and hang in sequential worlds, and per-ctx's self-deadlock, pinned by a
// watchdog. Skips with the reason when the addon
// or the binary is not built.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { clean, nativeDesigns, type StressStats } from '../../native/designs.js';
import { STRESS_BINARY } from '../../native/index.js';
import type { StressJob } from './stress-worker.js';

const native = nativeDesigns();
const designs = native.ok ? native.addon.designDefs().map((d) => d.name) : [];
const WORKER = new URL('./stress-worker.js', import.meta.url);
const WORKERS = 3;
const OPS = 10_000;

/** One worker's stats, or a rejection saying how it ended without them. */
function stressWorker(job: StressJob): Promise<StressStats> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: job });
    let stats: StressStats | undefined;
    worker.once('message', (m: StressStats) => {
      stats = m;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (stats !== undefined && code === 0) resolve(stats);
      else reject(new Error(`stress worker (seed ${job.seed}) exited ${code} without stats`));
    });
  });
}

describe('stress from worker_threads on one shared world', {
  skip: native.ok ? false : native.reason,
}, () => {
  for (const [d, design] of designs.entries()) {
    it(`${design}: ${WORKERS} workers × ${OPS} ops, no violation and every request completed`, async () => {
      assert.ok(native.ok);
      const { addon } = native;
      const handle = addon.stressCreate(design);
      const start = new SharedArrayBuffer(4);
      const runs = await Promise.allSettled(
        Array.from({ length: WORKERS }, (_, w) =>
          stressWorker({ handle, seed: 1000 * (d + 1) + w, ops: OPS, start, workers: WORKERS }),
        ),
      );
      // Only once every worker is done with the world may it be destroyed.
      const violations = addon.stressFinish(handle);
      for (const run of runs) if (run.status === 'rejected') throw run.reason;
      assert.ok(clean(violations), `violations: ${JSON.stringify(violations)}`);
      for (const [w, run] of runs.entries()) {
        assert.equal(run.status, 'fulfilled');
        const s = run.value;
        assert.deepEqual(
          { wrongProgram: s.wrongProgram, failed: s.failed, missing: s.missing },
          { wrongProgram: 0, failed: 0, missing: 0 },
          `worker ${w}`,
        );
        assert.equal(s.completed, s.submitted, `worker ${w}: every SQE has its CQE`);
        assert.ok(s.registered > 0, `worker ${w} registered something`);
        assert.ok(s.submitted > 0, `worker ${w} submitted something`);
      }
      // Names per ring: threads register on each other's rings, and requests find them.
      const perRing = addon.designDefs().find((x) => x.name === design)?.scope === 'ring';
      const total = (key: keyof StressStats) =>
        runs.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value[key] : 0), 0);
      assert.equal(total('crossRegistered') > 0, perRing, 'registrations on rings of others');
      assert.equal(
        total('crossCompleted') > 0,
        perRing,
        'requests ran what another thread put there',
      );
      // Rings without the setup flag: every request on them fails, none runs a program.
      const flagged = addon.designDefs().find((x) => x.name === design)?.setupFlag;
      assert.equal(total('unflaggedRings') > 0, flagged, 'rings without the setup flag');
      assert.equal(total('unflaggedFailed') > 0, flagged, 'their requests failed');
    });
  }

  it('per-ctx: an unregister sleeps until its own pending free runs, which only a watchdog can do', () => {
    assert.ok(native.ok);
    const r = native.addon.selfDeadlock();
    assert.deepEqual(
      { completed: r.completed, caught: r.caught, unregisterRet: r.unregisterRet, freed: r.freed },
      { completed: true, caught: true, unregisterRet: 0, freed: true },
    );
    assert.ok(clean(r.violations), JSON.stringify(r.violations));
  });
});

describe('standalone iou-stress', {
  skip: existsSync(STRESS_BINARY) ? false : 'iou-stress not built (npm run build:native)',
}, () => {
  it('runs every design clean and prints one ok line per design', () => {
    const run = spawnSync(STRESS_BINARY, ['--threads', '3', '--ops', '2000', '--seed', '7'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const all = run.stdout.trim().split('\n');
    const lines = all.filter(
      (line) => !line.startsWith('self-deadlock ') && !line.startsWith('exit-paths '),
    );
    const names = lines.map((line) => line.split(/\s+/)[0]);
    if (native.ok) assert.deepEqual(names, designs);
    else assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /^\S+\s+ok\s/);
    // Then exit(): per-ctx's oops in exit_task_work(), global-array's exit kept waiting by a parked request.
    assert.match(
      all.at(-2) ?? '',
      /^exit-paths per-ctx, global-array\s+ok\s+oops 1 {2}parked exit -35$/,
    );
    // Last: the per-ctx self-deadlock, caught and ended by the watchdog.
    assert.match(
      all.at(-1) ?? '',
      /^self-deadlock per-ctx\s+ok\s+cqe 1 caught 1 unregister 0 freed 1$/,
    );
    // The global designs with a setup flag also ran ->fail() on a ring without it while the table shrank.
    if (native.ok)
      for (const d of native.addon.designDefs()) {
        const line = lines.find((l) => l.split(/\s+/)[0] === d.name) ?? '';
        const unlisted = Number(/ unlisted (\d+) /.exec(line)?.[1]);
        assert.equal(unlisted > 0, d.scope === 'global' && d.setupFlag, `${d.name}: ${line}`);
      }
  });

  it('answers bad usage with one line and exit 2', () => {
    const run = spawnSync(STRESS_BINARY, ['--threads', '0'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(run.stderr, /^iou-stress: --threads wants 1\.\.64/);
  });
});
