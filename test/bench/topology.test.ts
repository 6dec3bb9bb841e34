// Threads and placement: the default ladder follows the CPUs this process
// may run on, --threads and --cpus are checked against them before a run,
// and workers take one physical core each before any SMT sibling (read
// from a sysfs tree, here fake ones in a temp dir).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  coreFirstOrder,
  type Machine,
  planPlacement,
  readTopology,
  thisMachine,
  threadLadder,
} from '../../bench/topology.js';
import { parseWorkers } from '../../bench/workers.js';

/** A machine of `n` CPUs numbered from 0, each its own core. */
const machine = (n: number): Machine => {
  const allowed = Array.from({ length: n }, (_, i) => i);
  return { allowed, order: allowed };
};

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fake /sys/devices/system/cpu: cpuN/topology/{physical_package_id,core_id} for each [pkg, core]. */
function sysfs(places: readonly (readonly [number, number])[]): string {
  const root = mkdtempSync(join(tmpdir(), 'iou-topology-'));
  dirs.push(root);
  places.forEach(([pkg, core], cpu) => {
    const dir = join(root, `cpu${cpu}`, 'topology');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'physical_package_id'), `${pkg}\n`);
    writeFileSync(join(dir, 'core_id'), `${core}\n`);
  });
  return root;
}

describe('default thread ladder', () => {
  it('doubles up to the usable CPUs and ends on their count', () => {
    assert.deepEqual(threadLadder(1), [1]);
    assert.deepEqual(threadLadder(2), [1, 2]);
    assert.deepEqual(threadLadder(6), [1, 2, 4, 6]);
    assert.deepEqual(threadLadder(64), [1, 2, 4, 8, 16, 32, 64]);
  });

  it('is what bench runs without --threads, for affinity masks of 1, 2, 6 and 64 CPUs', () => {
    for (const [n, ladder] of [
      [1, [1]],
      [2, [1, 2]],
      [6, [1, 2, 4, 6]],
      [64, [1, 2, 4, 8, 16, 32, 64]],
    ] as const) {
      const options = parseWorkers({}, machine(n));
      const { warnings } = options;
      assert.deepEqual(options.threads, ladder);
      assert.equal(options.placement.mode, 'topology');
      assert.deepEqual(options.placement.cpus, machine(n).allowed);
      // One CPU: the run says before it starts that nothing runs in parallel.
      assert.equal(warnings.length, n === 1 ? 1 : 0);
    }
    const { warnings } = parseWorkers({}, { allowed: [5], order: [5] });
    assert.match(warnings[0] ?? '', /^bench: only 1 CPU usable \(affinity 5\): threads 1;/);
  });

  it('follows --cpus when given: its distinct CPUs are the usable ones', () => {
    const options = parseWorkers({ cpus: '3,1,3' }, machine(4));
    assert.deepEqual(options.threads, [1, 2]);
    assert.deepEqual(options.placement, { mode: 'cpus', cpus: [3, 1, 3] });
  });
});

describe('--threads, --cpus, --oversubscribe, --no-pin', () => {
  it('accepts up to 1024 threads and refuses 1025', () => {
    const big = parseWorkers({ threads: '1024' }, machine(1024));
    assert.deepEqual(big.threads, [1024]);
    assert.equal(big.placement.cpus.length, 1024);
    assert.throws(
      () => parseWorkers({ threads: '1025' }, machine(2048)),
      /^Error: --threads: '1025' is not a whole number from 1 to 1024$/,
    );
  });

  it('refuses more thread counts than the native runners take', () => {
    const many = Array.from({ length: 17 }, (_, i) => i + 1).join(',');
    assert.throws(
      () => parseWorkers({ threads: many }, machine(32)),
      /^Error: --threads: 17 counts; at most 16 per run$/,
    );
  });

  it('refuses more threads than usable CPUs without --oversubscribe, naming the count', () => {
    assert.throws(
      () => parseWorkers({ threads: '1,4' }, machine(2)),
      /--threads: 4 threads but this process may run on 2 CPUs \(affinity 0-1\); add --oversubscribe/,
    );
    assert.throws(
      () => parseWorkers({ threads: '2', cpus: '1,1' }, machine(2)),
      /--threads: 2 threads but --cpus gives 1 CPU \(affinity 0-1\)/,
    );
  });

  it('runs them with --oversubscribe, unpinned, and records that it was asked', () => {
    const options = parseWorkers({ threads: '4', oversubscribe: true }, machine(2));
    assert.deepEqual(options.threads, [4]);
    assert.equal(options.oversubscribe, true);
    assert.deepEqual(options.placement, { mode: 'off', cpus: [] });
  });

  it('refuses a --cpus entry outside the affinity mask before the run', () => {
    assert.throws(
      () => parseWorkers({ cpus: '0,99' }, machine(2)),
      /^Error: --cpus: CPU 99 is not one this process may run on \(affinity 0-1\)$/,
    );
    // This process's own mask, as bench reads it: CPU 4095 is on no machine this suite runs on.
    assert.throws(
      () => parseWorkers({ cpus: '4095' }, thisMachine()),
      /--cpus: CPU 4095 is not one/,
    );
  });

  it('--no-pin leaves the workers to the scheduler; with --cpus it is a contradiction', () => {
    assert.deepEqual(parseWorkers({ 'no-pin': true }, machine(2)).placement, {
      mode: 'off',
      cpus: [],
    });
    assert.throws(
      () => parseWorkers({ 'no-pin': true, cpus: '0' }, machine(2)),
      /--cpus and --no-pin contradict/,
    );
  });
});

describe('placement by topology', () => {
  it('takes one CPU per physical core, socket by socket, before any SMT sibling', () => {
    // Two sockets of two cores with two threads each, numbered as Linux does on x86:
    // first thread of every core (cpu0-3), then the siblings (cpu4-7); core ids repeat per socket.
    const root = sysfs([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    assert.deepEqual(coreFirstOrder(readTopology(all, root)), [0, 1, 2, 3, 4, 5, 6, 7]);
    // Siblings numbered next to each other (cpu0/cpu1 one core): every core once, then the seconds.
    const paired = sysfs([
      [0, 0],
      [0, 0],
      [0, 1],
      [0, 1],
      [1, 0],
      [1, 0],
      [1, 1],
      [1, 1],
    ]);
    assert.deepEqual(coreFirstOrder(readTopology(all, paired)), [0, 2, 4, 6, 1, 3, 5, 7]);
    // Restricted to an affinity mask: only its CPUs, still core-first.
    assert.deepEqual(coreFirstOrder(readTopology([1, 2, 3, 6], paired)), [1, 2, 6, 3]);
  });

  it('counts a CPU whose ids cannot be read as a core of its own', () => {
    const root = sysfs([
      [0, 0],
      [0, 0],
    ]);
    assert.deepEqual(readTopology([0, 1, 2], root)[2], { cpu: 2, pkg: null, core: null });
    assert.deepEqual(coreFirstOrder(readTopology([0, 1, 2], root)), [0, 2, 1]);
  });

  it("pins the run's largest thread count on the first CPUs of that order", () => {
    const m: Machine = { allowed: [0, 1, 2, 3], order: [0, 2, 1, 3] };
    assert.deepEqual(planPlacement(m, 2, null, true), { mode: 'topology', cpus: [0, 2] });
    assert.deepEqual(planPlacement(m, 5, null, true), { mode: 'off', cpus: [] });
    assert.deepEqual(planPlacement(m, 2, null, false), { mode: 'off', cpus: [] });
    assert.deepEqual(planPlacement(m, 2, [3], true), { mode: 'cpus', cpus: [3] });
  });
});
