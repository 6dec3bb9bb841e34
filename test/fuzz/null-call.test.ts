// The null-call property on a hand-built scenario: one exclusive service on
// v1 submits an IOSQE_ASYNC request and then unregisters. Preempting the
// io-wq issue right after it tested issue_fn lets ->unreg() zero the slot
// before the second load, which reads NULL; without the preemption the
// property holds.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalArray } from '../../designs/global-array.js';
import { CHECKS } from '../../fuzz/properties.js';
import type { Scenario } from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';

/** Actors by creation order: the ring's setup, the service, its io-wq worker (the worker runs first). */
const base: Scenario = {
  processes: [{ ns: 0, team: 0 }],
  actors: [
    {
      process: 0,
      protocol: 'exclusive',
      id: 1,
      program: { prep: 0, issueRet: 0, issueRes: 7, fail: true, cleanup: true },
      requests: [true],
      extra: 0,
    },
  ],
  priorities: [0, 50, 100],
  changes: [],
};

/** The step after which the io-wq worker has tested issue_fn, in a run without preemption. */
function stepAfterTheTest(): number {
  const o = simulate(globalArray, base);
  const i = o.m.scheduler.history.findIndex(
    (h) => h.actor.startsWith('iowq:') && h.label === 'issue: read bpf_ops[op]',
  );
  assert.ok(i >= 0, 'the worker tested issue_fn');
  return i + 1;
}

describe('null-call property', () => {
  it('holds when the io-wq issue runs its test and its call back to back', () => {
    assert.equal(CHECKS['null-call'](simulate(globalArray, base)), null);
  });

  it('fails, naming request, callback, actor and place, when unregister zeroes the slot between them', () => {
    const scenario = { ...base, changes: [stepAfterTheTest()] };
    const o = simulate(globalArray, scenario);
    assert.equal(o.outcome.kind, 'done');
    assert.equal(
      CHECKS['null-call'](o),
      'issue of request 1 called a NULL pointer in issue (by iowq:req1)',
    );
    assert.equal(CHECKS['use-after-free'](o), null, 'the program was never freed under it');
  });
});
