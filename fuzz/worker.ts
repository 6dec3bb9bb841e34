// A fuzz worker thread: runs the tasks it is sent, one at a time, and
// answers each with its results (or the error, as one line).

import { parentPort } from 'node:worker_threads';
import { runTask, type Task } from './matrix.js';

parentPort?.on('message', (task: Task) => {
  try {
    parentPort?.postMessage({ ok: true, results: runTask(task) });
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
