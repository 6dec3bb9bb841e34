// D3 per-ctx as posted in v2/v3, and the +unregistering-bit variant.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IOU_ISSUE_SKIP_COMPLETE } from '../../designs/io-uring.js';
import { neg } from '../../designs/kernel/errno.js';
import { perCtx, perCtxUnregisteringBit } from '../../designs/per-ctx.js';
import { programSpec } from '../../designs/world.js';
import {
  callbacksOf,
  errnoOf,
  registered,
  setup,
  stepUntil,
  submitAndSettle,
  unwrap,
} from '../helpers.js';

describe('per-ctx register', () => {
  it('rejects an id of 16 or more with EINVAL', () => {
    const s = setup(perCtx);
    const r = s.m.run(
      s.proc,
      s.m.ops.register(s.proc, { progFd: s.progFd, ringFd: s.ringFd, id: 16 }),
    );
    assert.equal(errnoOf(r), 'EINVAL');
  });

  it('resolves ring_fd in the attaching process: EBADF, EOPNOTSUPP for a non-ring fd', () => {
    const s = setup(perCtx);
    const reg = (ringFd: number) =>
      s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, ringFd, id: 1 }));
    assert.equal(errnoOf(reg(99)), 'EBADF');
    assert.equal(errnoOf(reg(s.progFd)), 'EOPNOTSUPP');
  });

  it('rejects a ring created without the setup flag with EINVAL', () => {
    const s = setup(perCtx);
    const plain = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    const r = s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, ringFd: plain, id: 1 }));
    assert.equal(errnoOf(r), 'EINVAL');
  });

  it('fails with EBUSY when the slot already has ops', () => {
    const s = registered(perCtx, programSpec('a'), 2);
    const other = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('b'))));
    const r = s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: other, ringFd: s.ringFd, id: 2 }));
    assert.equal(errnoOf(r), 'EBUSY');
  });

  it('keeps names per ring: the same id on two rings holds two programs', () => {
    const s = registered(perCtx, programSpec('a'), 2);
    const ring2 = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: true })));
    const other = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('b'))));
    unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: other, ringFd: ring2, id: 2 })));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, ring2, s.m.sqe({ kind: 'id', id: 2 }, 1))));
    assert.deepEqual(callbacksOf(s.m, 1).slice(0, 1), ['prep:prog2']);
  });
});

describe('per-ctx requests', () => {
  it('fails prep with EOPNOTSUPP on a ring without the flag and EINVAL for op >= 16', () => {
    const s = registered(perCtx);
    const plain = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, plain, s.m.sqe(s.reg.name, 1))));
    assert.equal(s.m.world.rings[1]?.cq[0]?.res, neg('EOPNOTSUPP'));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe({ kind: 'id', id: 16 }, 2))));
    assert.equal(s.m.world.rings[0]?.cq[0]?.res, neg('EINVAL'));
  });

  it('turns an issue return of IOU_ISSUE_SKIP_COMPLETE into -EINVAL', () => {
    const s = registered(
      perCtx,
      programSpec('p', { issue: { res: 0, ret: IOU_ISSUE_SKIP_COMPLETE } }),
    );
    assert.equal(submitAndSettle(s, 1), neg('EINVAL'));
    assert.deepEqual(callbacksOf(s.m, 1), [
      'prep:prog1',
      'issue:prog1',
      'fail:prog1',
      'cleanup:prog1',
    ]);
  });

  it('takes a slot reference only when prep_fn succeeds, and drops it in cleanup', () => {
    const s = registered(perCtx, programSpec('p', { prep: neg('EIO') }));
    assert.equal(submitAndSettle(s, 1), neg('EIO'));
    const refs = s.m.world.trace
      .ofKind('ref')
      .filter((e) => e.event.object.includes('bpf_ext_ops[3]'));
    assert.deepEqual(
      refs.map((e) => e.event.value),
      [1],
      'only the registration set it',
    );
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1', 'fail:prog1']);
  });
});

describe('per-ctx unregister', () => {
  it('waits for in-flight requests before clearing the slot', () => {
    const s = registered(perCtx, programSpec('p'), 3);
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    const unreg = s.m.scheduler.add('unreg', s.m.ops.unregister(s.proc, s.reg), s.proc);
    stepUntil(s.m, unreg, 'wait_event(bpf_wq');
    assert.equal(
      s.m.scheduler.runnable().includes(unreg),
      false,
      'the request still holds a reference',
    );
    assert.equal(s.m.settle().kind, 'done');
    const order = s.m.world.trace
      .all()
      .filter(
        (e) =>
          (e.event.kind === 'callback' && e.event.callback === 'cleanup') ||
          (e.event.kind === 'slot-write' && e.event.program === null),
      )
      .map((e) => e.event.kind);
    assert.deepEqual(order, ['callback', 'slot-write'], 'cleanup ran before the slot was cleared');
  });

  it('deadlocks when the unregistering thread submitted the request: its free is its own task work', () => {
    const s = registered(perCtx, programSpec('p'), 3);
    const w = s.m.world;
    const sqe = s.m.sqe(s.reg.name, 1, true);
    const thread = s.m.scheduler.add(
      'thread',
      (function* () {
        yield* w.userSyscall(s.proc, s.m.uring.submit(s.proc, s.ringFd, sqe));
        yield* w.userSyscall(s.proc, s.m.ops.unregister(s.proc, s.reg));
      })(),
      s.proc,
    );
    // The thread runs first until it blocks in ->unreg(); io-wq then completes the request and
    // queues its free (and the cleanup that drops the slot reference) on the blocked thread.
    const outcome = s.m.settle();
    assert.equal(outcome.kind, 'deadlock');
    assert.ok(outcome.kind === 'deadlock');
    assert.deepEqual(outcome.blocked, [
      { actor: 'thread', waitingFor: 'wait_event(bpf_wq, refcount == 0)', ownWork: 1 },
    ]);
    assert.equal(thread.done, false);
    assert.deepEqual(
      w.trace.ofKind('task-work').map((e) => [e.event.task, e.event.what]),
      [['thread', 'free']],
    );
  });

  it('does not deadlock when io-wq finishes before the thread unregisters', () => {
    const s = registered(perCtx, programSpec('p'), 3);
    const w = s.m.world;
    s.m.scheduler.add(
      'thread',
      (function* () {
        yield* w.userSyscall(
          s.proc,
          s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true)),
        );
        yield* w.userSyscall(s.proc, s.m.ops.unregister(s.proc, s.reg));
      })(),
      s.proc,
    );
    // Let io-wq (added second) run whenever it can: the free is queued while the thread is
    // still in io_uring_enter, which runs it on the way out.
    const iowq = s.m.scheduler.actors.length; // the next actor: spawned by the thread's submit
    const priorities = Array.from({ length: iowq + 1 }, (_, i) => (i === iowq ? 9 : 0));
    assert.equal(s.m.scheduler.runPriorities(priorities, []).kind, 'done');
    assert.deepEqual(
      w.trace.ofKind('callback').map((e) => e.event.callback),
      ['prep', 'issue', 'cleanup'],
    );
  });

  it('starves while new requests keep arriving: prep admits while refcount != 0', () => {
    const s = registered(perCtx, programSpec('p'), 3);
    const submit = (ud: number) =>
      s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, ud, true)));
    unwrap(submit(1));
    const unreg = s.m.scheduler.add('unreg', s.m.ops.unregister(s.proc, s.reg), s.proc);
    stepUntil(s.m, unreg, 'wait_event(bpf_wq');
    for (let ud = 2; ud < 50; ud++) {
      unwrap(submit(ud)); // admitted: refcount is still >= 1
      // Let the previous request finish; the new one keeps the count above zero.
      for (const a of s.m.scheduler.actors) {
        if (!a.done && a !== unreg && !a.name.endsWith(`req${ud}`)) {
          while (!a.done && s.m.scheduler.runnable().includes(a)) s.m.scheduler.stepActor(a);
        }
      }
      assert.equal(unreg.done, false);
    }
    assert.equal(
      s.m.world.rings[0]?.cq.filter((c) => c.res === 0).length,
      48,
      'every request ran the program',
    );
  });

  it('+unregistering-bit: refuses new requests once unregister starts, so it finishes', () => {
    const s = registered(perCtxUnregisteringBit, programSpec('p'), 3);
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    const unreg = s.m.scheduler.add('unreg', s.m.ops.unregister(s.proc, s.reg), s.proc);
    stepUntil(s.m, unreg, 'wait_event(bpf_wq');
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 2, true))));
    assert.equal(s.m.world.rings[0]?.cq.find((c) => c.userData === 2)?.res, neg('EOPNOTSUPP'));
    assert.equal(s.m.settle().kind, 'done');
    assert.equal(unreg.done, true);
  });

  it("resolves ring_fd again at unregister: a reused fd makes it remove another ring's program", () => {
    const s = registered(perCtx, programSpec('first'), 1);
    // The first ring goes; a new ring (of another user of this process) takes its fd number.
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.ringFd)));
    assert.equal(s.m.settle().kind, 'done');
    const ring2 = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: true })));
    assert.equal(ring2, s.ringFd, 'same fd number');
    const other = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('second'))));
    unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: other, ringFd: ring2, id: 1 })));
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg))); // detaching the FIRST link
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, ring2, s.m.sqe({ kind: 'id', id: 1 }, 1))));
    assert.equal(
      s.m.world.rings[1]?.cq[0]?.res,
      neg('EOPNOTSUPP'),
      "the second program's slot was cleared",
    );
  });

  it('->unreg() in an exiting task oopses: exit_files() already left current->files NULL', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    // Another process shares the ring (its fd passed over a socket), then the registrant dies.
    const peer = s.m.world.createProcess({ name: 'peer' });
    const peerRing = unwrap(s.m.run(s.proc, s.m.world.passFd(s.proc, s.ringFd, peer)));
    // exit_task_work() runs the link's __fput (newest first), whose ->unreg() fgets ring_fd.
    assert.throws(() => s.m.run(s.proc, s.m.world.exit(s.proc)), /oopsed: fget\(3\)/);
    assert.equal(s.m.world.trace.ofKind('null-deref').length, 1);
    assert.deepEqual(s.m.world.trace.ofKind('unregistered'), [], '->unreg() never returned');
    // The task died inside ->unreg(): the link's program reference is never dropped and the slot keeps it.
    assert.equal(s.m.world.programs[0]?.freed, false);
    unwrap(s.m.run(peer, s.m.uring.submit(peer, peerRing, s.m.sqe(s.reg.name, 1))));
    const calls = s.m.world.trace
      .ofKind('callback')
      .map((e) => [e.event.callback, e.event.program]);
    assert.deepEqual(calls[0], ['prep', 1], "the peer's request runs the dead process's program");
  });

  it('->unreg() from a kworker finds no fd (init_files): the slot keeps the program, no oops', () => {
    const s = registered(perCtx, programSpec('p'), 1);
    const link = s.reg.linkFd ?? -1;
    // Pinned in bpffs, the link outlives the fd; unpinning then puts it from a kworker (proc null).
    unwrap(s.m.run(s.proc, s.m.world.pinLink(s.proc, link, 'ops')));
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, link)));
    assert.deepEqual(s.m.world.trace.ofKind('unregistered'), [], 'the pin keeps the link');
    unwrap(s.m.run(s.proc, s.m.world.unpinLink('ops')));
    assert.deepEqual(s.m.world.trace.ofKind('unregistered'), [], 'unlink returns first');
    s.m.settle();
    assert.equal(s.m.world.trace.ofKind('null-deref').length, 0);
    assert.deepEqual(
      s.m.world.trace.ofKind('unregistered').map((e) => [e.actor.split('#')[0], e.event.ret]),
      [['kworker:link-put1', neg('EBADF')]],
    );
  });
});
