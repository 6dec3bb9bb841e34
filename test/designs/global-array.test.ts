// D1 global-array as posted in v1, and the +bounds-fix variant.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalArray, globalArrayBoundsFix } from '../../designs/global-array.js';
import { IOU_ISSUE_SKIP_COMPLETE } from '../../designs/io-uring.js';
import { neg } from '../../designs/kernel/errno.js';
import { programSpec } from '../../designs/world.js';
import {
  callbacksOf,
  errnoOf,
  finish,
  registered,
  setup,
  stepUntil,
  submitAndSettle,
  unwrap,
} from '../helpers.js';

describe('global-array register', () => {
  it('writes past bpf_ops[256] for an id of 300: the posted code has no bounds check', () => {
    const s = registered(globalArray, programSpec('p'), 300);
    assert.equal(s.reg.name.kind === 'id' && s.reg.name.id, 300);
    const oob = s.m.world.trace.ofKind('out-of-bounds').map((e) => e.event);
    // The issue_fn test, then the struct copy: one store per member.
    assert.deepEqual(
      oob.map((e) => [e.access, e.index]),
      [['read', 300], ...Array.from({ length: 5 }, () => ['write', 300])],
    );
  });

  it('rejects an id of 256 or more with EINVAL in +bounds-fix, before any lock', () => {
    const s = setup(globalArrayBoundsFix);
    const before = s.m.world.trace.ofKind('lock').length;
    const result = s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, id: 256 }));
    assert.equal(errnoOf(result), 'EINVAL');
    assert.equal(s.m.world.trace.ofKind('lock').length, before);
  });

  it('rejects ids that do not fit the u16 id field with EINVAL', () => {
    const s = setup(globalArray);
    for (const id of [-1, 65536, 1.5]) {
      assert.equal(
        errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, id }))),
        'EINVAL',
      );
    }
  });

  it('fails with EBUSY only when the slot has an issue_fn', () => {
    const s = registered(globalArray, programSpec('first'), 5);
    const second = unwrap(s.m.run(s.proc, s.m.world.loadProgram(s.proc, programSpec('second'))));
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: second, id: 5 }))),
      'EBUSY',
    );

    const t = registered(globalArray, programSpec('no-issue', { issue: null }), 5);
    const other = unwrap(t.m.run(t.proc, t.m.world.loadProgram(t.proc, programSpec('other'))));
    const reg = unwrap(t.m.run(t.proc, t.m.ops.register(t.proc, { progFd: other, id: 5 })));
    assert.deepEqual(reg.name, { kind: 'id', id: 5 }, 'a slot without issue_fn is overwritten');
  });

  it('fails a bad program fd with EBADF and a non-program fd with EINVAL', () => {
    const s = setup(globalArray);
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: 99, id: 1 }))),
      'EBADF',
    );
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.ringFd, id: 1 }))),
      'EINVAL',
    );
  });

  it('takes the global mutex, then every BPF ring uring_lock, newest first, skipping rings without the flag', () => {
    const s = setup(globalArray);
    unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: true })));
    unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    const before = s.m.world.trace.all().length;
    unwrap(s.m.run(s.proc, s.m.ops.register(s.proc, { progFd: s.progFd, id: 1 })));
    const locks = s.m.world.trace
      .all()
      .slice(before)
      .filter((e) => e.event.kind === 'lock')
      .map((e) => (e.event.kind === 'lock' ? e.event.lock : ''));
    assert.deepEqual(locks, ['uring_bpf_ctx_lock', 'ring#2.uring_lock', 'ring#1.uring_lock']);
  });
});

describe('global-array unregister', () => {
  it('detaches once: a second unregister of the same link is a no-op returning 0', () => {
    const s = registered(globalArray);
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    const writes = s.m.world.trace.ofKind('slot-write').length;
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    assert.equal(
      s.m.world.trace.ofKind('slot-write').length,
      writes,
      '->unreg() did not run again',
    );
  });

  it('fails an fd that is not a link with EBADF or EINVAL', () => {
    const s = registered(globalArray);
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.unregister(s.proc, { ...s.reg, linkFd: 99 }))),
      'EBADF',
    );
    assert.equal(
      errnoOf(s.m.run(s.proc, s.m.ops.unregister(s.proc, { ...s.reg, linkFd: s.progFd }))),
      'EINVAL',
    );
  });

  it('unregisters on process exit, since the link closes', () => {
    const s = registered(globalArray);
    const observer = s.m.world.createProcess({ name: 'observer' });
    const discover = s.m.ops.discover;
    assert.ok(discover);
    assert.deepEqual(s.m.run(observer, discover(observer)), { ok: true, value: [3] });
    unwrap(s.m.run(s.proc, s.m.world.exit(s.proc)));
    assert.deepEqual(s.m.run(observer, discover(observer)), { ok: true, value: [] });
  });
});

describe('global-array requests', () => {
  it('fails prep with EACCES on a ring without IORING_SETUP_BPF', () => {
    const s = registered(globalArray);
    const plain = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, plain, s.m.sqe(s.reg.name, 1))));
    assert.equal(s.m.world.rings[1]?.cq[0]?.res, neg('EACCES'));
  });

  it('runs the fail_fn of slot 0 after EACCES: prep returned before storing the op', () => {
    const s = registered(globalArray, programSpec('zero'), 0);
    const plain = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, plain, s.m.sqe({ kind: 'id', id: 9 }, 1))));
    assert.deepEqual(callbacksOf(s.m, 1), ['fail:prog1']);
  });

  it('fails prep with EOPNOTSUPP when the slot has no prep_fn', () => {
    const s = registered(globalArray, programSpec('p', { prep: null }));
    assert.equal(submitAndSettle(s, 1), neg('EOPNOTSUPP'));
  });

  it('passes an issue return of IOU_ISSUE_SKIP_COMPLETE through: the request never completes', () => {
    const s = registered(
      globalArray,
      programSpec('p', { issue: { res: 0, ret: IOU_ISSUE_SKIP_COMPLETE } }),
    );
    assert.equal(submitAndSettle(s, 1), null);
    assert.equal(s.m.world.requests[0]?.state, 'parked');
  });

  it('never runs cleanup_fn: prep does not set REQ_F_NEED_CLEANUP', () => {
    const s = registered(globalArray);
    submitAndSettle(s, 1);
    submitAndSettle(s, 2, true);
    assert.equal(
      s.m.world.trace.ofKind('callback').filter((e) => e.event.callback === 'cleanup').length,
      0,
    );
  });
});

describe('global-array interleavings', () => {
  it('issues a punted request with a program registered after its prep (re-read, no reference)', () => {
    const s = registered(globalArray, programSpec('victim'), 7);
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    // The io-wq worker has not run yet; the slot changes hands under it.
    const hostile = s.m.world.createProcess({ name: 'hostile' });
    const evil = unwrap(s.m.run(hostile, s.m.world.loadProgram(hostile, programSpec('evil'))));
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    unwrap(s.m.run(hostile, s.m.ops.register(hostile, { progFd: evil, id: 7 })));
    assert.equal(s.m.settle().kind, 'done');
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1', 'issue:prog2']);
  });

  it('makes unregister wait in synchronize_srcu for an io-wq issue inside its read section', () => {
    const s = registered(globalArray, programSpec('p'), 7);
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    const worker = s.m.scheduler.actors.find((a) => a.name.startsWith('iowq:'));
    assert.ok(worker);
    stepUntil(s.m, worker, 'issue: read bpf_ops[op]'); // inside the read section, nothing loaded yet
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd))); // only the link holds the program now
    const unreg = s.m.scheduler.add('unreg', s.m.ops.unregister(s.proc, s.reg), s.proc);
    stepUntil(s.m, unreg, 'synchronize_srcu(uring_bpf_srcu): grace period');
    assert.equal(s.m.scheduler.runnable().includes(unreg), false, 'blocked by the reader');
    finish(s.m, worker);
    assert.equal(
      s.m.world.programs[0]?.released,
      false,
      'the link holds it while unregister waits',
    );
    assert.equal(s.m.settle().kind, 'done');
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1'], 'the issue found the slot zeroed');
    assert.equal(s.m.world.rings[0]?.cq[0]?.res, neg('ECANCELED'));
    assert.equal(s.m.world.trace.ofKind('null-call').length, 0);
    assert.equal(s.m.world.programs[0]?.freed, true, 'freed once unregister finished');
  });

  it("calls NULL when ->unreg() zeroes issue_fn between the io-wq issue's test and its call", () => {
    const s = registered(globalArray, programSpec('p'), 7);
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    const worker = s.m.scheduler.actors.find((a) => a.name.startsWith('iowq:'));
    assert.ok(worker);
    stepUntil(s.m, worker, 'issue_fn: load'); // the test loaded issue_fn: set
    const unreg = s.m.scheduler.add('unreg', s.m.ops.unregister(s.proc, s.reg), s.proc);
    stepUntil(s.m, unreg, 'synchronize_srcu(uring_bpf_srcu): grace period'); // every member zeroed
    assert.equal(s.m.scheduler.runnable().includes(unreg), false, 'still waits for the reader');
    finish(s.m, worker);
    const nulls = s.m.world.trace.ofKind('null-call');
    assert.deepEqual(
      nulls.map((e) => [e.actor, e.event.request, e.event.callback]),
      [['iowq:req1', 1, 'issue']],
      'the second load of issue_fn read NULL',
    );
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1']);
    assert.equal(s.m.settle().kind, 'done');
  });

  it("lets an io-wq issue between two member writes of a copy run the new registration's issue_fn", () => {
    // A slot without issue_fn can be registered over; the copy lands one member at a time.
    const s = registered(globalArray, programSpec('old', { issue: null }), 7);
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    const hostile = s.m.world.createProcess({ name: 'hostile', ns: 1 });
    const evil = unwrap(s.m.run(hostile, s.m.world.loadProgram(hostile, programSpec('evil'))));
    const reg = s.m.scheduler.add(
      'reg',
      s.m.ops.register(hostile, { progFd: evil, id: 7 }),
      hostile,
    );
    stepUntil(s.m, reg, 'bpf_ops[7].fail_fn'); // id, prep_fn and issue_fn are prog2's
    const members = new Map<string, number | null>();
    for (const e of s.m.world.trace.ofKind('slot-write'))
      if (e.event.index === 7 && e.event.field !== undefined)
        members.set(e.event.field, e.event.program);
    assert.deepEqual(Object.fromEntries(members), {
      id: 2,
      prep_fn: 2,
      issue_fn: 2,
      fail_fn: 1,
      cleanup_fn: 1,
    });
    const worker = s.m.scheduler.actors.find((a) => a.name.startsWith('iowq:'));
    assert.ok(worker);
    finish(s.m, worker);
    assert.deepEqual(callbacksOf(s.m, 1), ['prep:prog1', 'issue:prog2']);
    assert.equal(s.m.settle().kind, 'done');
  });

  it("runs another registration's fail_fn on a ring without the setup flag: its ->fail() takes no lock the copy takes", () => {
    const s = registered(globalArray, programSpec('old', { issue: null }), 0);
    const plain = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: false })));
    // prep fails with EACCES before storing the op, so ->fail() reads slot 0.
    const sub = s.m.scheduler.add(
      'sub',
      s.m.uring.submit(s.proc, plain, s.m.sqe({ kind: 'id', id: 9 }, 1)),
      s.proc,
    );
    stepUntil(s.m, sub, 'fail_fn: load'); // the test loaded prog1's fail_fn
    const hostile = s.m.world.createProcess({ name: 'hostile', ns: 1 });
    const evil = unwrap(s.m.run(hostile, s.m.world.loadProgram(hostile, programSpec('evil'))));
    unwrap(s.m.run(hostile, s.m.ops.register(hostile, { progFd: evil, id: 0 })));
    finish(s.m, sub);
    assert.deepEqual(callbacksOf(s.m, 1), ['fail:prog2'], 'the second load read the new copy');
  });

  it('cannot register while a submitter holds uring_lock', () => {
    const s = setup(globalArray);
    const reg = s.m.scheduler.add(
      'reg',
      s.m.ops.register(s.proc, { progFd: s.progFd, id: 1 }),
      s.proc,
    );
    const sub = s.m.scheduler.add(
      'sub',
      s.m.uring.submit(s.proc, s.ringFd, s.m.sqe({ kind: 'id', id: 1 }, 1)),
      s.proc,
    );
    stepUntil(s.m, sub, 'prep: read');
    stepUntil(s.m, reg, 'mutex_lock(ring#1.uring_lock): wait');
    assert.equal(s.m.scheduler.runnable().includes(reg), false);
    assert.equal(s.m.settle().kind, 'done');
    assert.equal(
      s.m.world.rings[0]?.cq[0]?.res,
      neg('EOPNOTSUPP'),
      'prep ran before the registration',
    );
  });
});
