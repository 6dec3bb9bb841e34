// The null-call property on v1: an IOSQE_ASYNC request is issued on io-wq
// (inside SRCU only, no uring_lock) while another thread unregisters the
// program. ->unreg() zeroes the slot member by member before it waits in
// synchronize_srcu(), so a worker that tested issue_fn just before reloads
// NULL for the call; run back to back, the property holds.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalArray } from '../../designs/global-array.js';
import { CHECKS } from '../../fuzz/properties.js';
import { FuzzLog } from '../../fuzz/protocols.js';
import type { Observation } from '../../fuzz/simulate.js';
import { registered, stepUntil, unwrap } from '../helpers.js';

/** Registers and submits one async request; with `preempt`, unregisters once the worker has tested issue_fn. */
function run(preempt: boolean): Observation {
  const s = registered(globalArray);
  unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
  const worker = s.m.scheduler.actors.find((a) => a.name.startsWith('iowq:'));
  assert.ok(worker);
  stepUntil(s.m, worker, 'issue: read bpf_ops[op]');
  s.m.scheduler.stepActor(worker); // the test: issue_fn is set
  if (preempt) {
    const unreg = s.m.scheduler.add('unregister', s.m.ops.unregister(s.proc, s.reg), s.proc);
    stepUntil(s.m, unreg, 'synchronize_srcu(uring_bpf_srcu): grace period');
  }
  const outcome = s.m.settle();
  return { m: s.m, log: new FuzzLog(), outcome };
}

describe('null-call property', () => {
  it('holds when the io-wq issue runs its test and its call back to back', () => {
    assert.equal(CHECKS['null-call'](run(false)), null);
  });

  it('fails, naming request, callback, actor and place, when unregister zeroes the slot between them', () => {
    const o = run(true);
    assert.equal(o.outcome.kind, 'done');
    assert.match(
      CHECKS['null-call'](o) ?? '',
      /^issue of request 1 called a NULL pointer in issue \(by iowq:req1\)/,
    );
    assert.equal(CHECKS['use-after-free'](o), null, 'the program was never freed under it');
  });
});
