// One worker_thread of test/native/stress.test.ts (not a test file itself):
// waits at a barrier until every worker has loaded the addon, so that they
// really overlap, then runs the C designs' stress on the shared world it is
// handed, on this thread, and posts its stats back.

import { parentPort, workerData } from 'node:worker_threads';
import { nativeDesigns } from '../../native/designs.js';

export interface StressJob {
  readonly handle: number;
  readonly seed: number;
  readonly ops: number;
  /** One Int32: workers arrived at the start line; all start once it reaches `workers`. */
  readonly start: SharedArrayBuffer;
  readonly workers: number;
}

const job = workerData as StressJob;
const native = nativeDesigns();
if (!native.ok) throw new Error(native.reason);
const arrived = new Int32Array(job.start);
Atomics.add(arrived, 0, 1);
Atomics.notify(arrived, 0);
const deadline = Date.now() + 10_000;
for (let n = Atomics.load(arrived, 0); n < job.workers; n = Atomics.load(arrived, 0)) {
  if (Date.now() > deadline) throw new Error(`only ${n} of ${job.workers} stress workers started`);
  Atomics.wait(arrived, 0, n, 1000);
}
parentPort?.postMessage(native.addon.stressThread(job.handle, job.seed, job.ops));
