// D6 global-alloc: the control design with kernel-allocated ids.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Registration } from '../../designs/design.js';
import { globalAlloc } from '../../designs/global-alloc.js';
import type { Result } from '../../designs/kernel/errno.js';
import { programSpec } from '../../designs/world.js';
import { finish, registered, setup, stepUntil, submitAndSettle, unwrap } from '../helpers.js';

describe('global-alloc', () => {
  it('hands out ids itself, ignoring any id userspace asks for', () => {
    const s = registered(globalAlloc, programSpec('a'), 4000);
    assert.deepEqual(s.reg.name, { kind: 'id', id: 0 });
    const b = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('b'))));
    const r = unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: b, id: 0 })));
    assert.deepEqual(r.name, { kind: 'id', id: 1 });
  });

  it('does not hand a freed id out again at once (cyclic allocation)', () => {
    const s = registered(globalAlloc);
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    const r = unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd })));
    assert.deepEqual(r.name, { kind: 'id', id: 1 });
    assert.equal(submitAndSettle({ ...s, reg: r }, 1), 0);
  });

  it('has no discovery: userspace never chooses an id', () => {
    assert.equal(registered(globalAlloc).m.ops.discover, null);
  });
});

describe('global-alloc interleavings', () => {
  it('gives two racing registrations distinct ids', () => {
    const s = setup(globalAlloc);
    const b = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('b'))));
    const r1 = s.m.scheduler.add('r1', s.m.ops.register(s.proc, { progFd: s.progFd }), s.proc);
    const r2 = s.m.scheduler.add('r2', s.m.ops.register(s.proc, { progFd: b }), s.proc);
    assert.equal(s.m.scheduler.run(Array.from({ length: 40 }, (_, i) => i % 2)).kind, 'done');
    const ids = [r1.result, r2.result].map((r) => unwrap(r as Result<Registration>).name);
    assert.deepEqual(ids.map((n) => (n.kind === 'id' ? n.id : -1)).sort(), [0, 1]);
  });
});

describe('global-alloc program lifetime', () => {
  /**
   * A request on a ring without the setup flag: prep fails before storing
   * the op, and ->fail(), under a lock ->unreg() does not take and outside
   * SRCU, loads the pointer at id 0 and is preempted before the call. The
   * registration (id 0) is then removed and its last reference dropped.
   */
  function callerInsideAtUnregister(mutations: string[]) {
    const s = registered(globalAlloc, programSpec('a'));
    s.m.world.trace.mutations = new Set(mutations);
    assert.deepEqual(s.reg.name, { kind: 'id', id: 0 });
    const plain = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    const sub = s.m.scheduler.add(
      'sub',
      s.m.uring.submit(s.proc, plain, s.m.sqe({ kind: 'id', id: 5 }, 1)),
      s.proc,
    );
    stepUntil(s.m, sub, 'fail_fn: load'); // the xarray entry and its fail_fn are loaded
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg))); // xa_erase; no SRCU reader to wait for
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd)));
    const kworker = s.m.scheduler.actors.find((a) => a.name === 'kworker:free-prog1');
    assert.ok(kworker, 'the last put queued the free');
    return { s, sub, kworker };
  }

  it('keeps a program whose pointer a caller has loaded until that call returns', () => {
    const { s, sub, kworker } = callerInsideAtUnregister([]);
    stepUntil(s.m, kworker, 'synchronize_rcu_mult: grace period');
    assert.equal(s.m.scheduler.runnable().includes(kworker), false, 'waits for the caller');
    finish(s.m, sub);
    assert.equal(s.m.settle().kind, 'done');
    assert.deepEqual(
      s.m.world.trace.ofKind('callback').map((e) => [e.event.callback, e.event.freed]),
      [['fail', false]],
    );
    assert.equal(s.m.world.programs[0]?.freed, true);
  });

  it('is a use after free when the free does not wait (planted bug rcu-no-grace)', () => {
    const { s, sub, kworker } = callerInsideAtUnregister(['rcu-no-grace']);
    finish(s.m, kworker);
    assert.equal(s.m.world.programs[0]?.freed, true);
    finish(s.m, sub);
    assert.deepEqual(
      s.m.world.trace.ofKind('callback').map((e) => [e.event.callback, e.event.freed]),
      [['fail', true]],
    );
  });
});
