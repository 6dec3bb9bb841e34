// Requests are recycled: io_kiocbs come from a per-ring cache, last freed
// first reused, and neither the command area nor cqe.res is cleared between
// users. A prep that fails before writing the command area leaves the
// previous user's values for ->fail(); an op that completes without setting
// a result posts the previous user's. A request fresh from the slab holds
// the ring's residue (all zero unless the ring was created with one).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DesignDef, ProgramName } from '../../designs/design.js';
import { globalArray } from '../../designs/global-array.js';
import type { RingOptions } from '../../designs/io-uring.js';
import { neg } from '../../designs/kernel/errno.js';
import { Machine } from '../../designs/machine.js';
import { perCtx } from '../../designs/per-ctx.js';
import { perFd } from '../../designs/per-fd.js';
import { perFdFixed } from '../../designs/per-fd-fixed.js';
import { type Process, type ProgramSpec, programSpec } from '../../designs/world.js';
import { argsFor, callbacksOf, registered, type Setup, unwrap } from '../helpers.js';

/** Submits one SQE naming `name` on `ringFd` and settles; returns the request id. */
function submit(s: Setup, ringFd: number, name: ProgramName, userData: number, async = false) {
  const id = unwrap(
    s.m.run(s.proc, s.m.uring.submit(s.proc, ringFd, s.m.sqe(name, userData, async))),
  );
  assert.equal(s.m.settle().kind, 'done');
  return id;
}

const requestOf = (s: Setup, id: number) => {
  const req = s.m.world.requests.find((r) => r.id === id);
  assert.ok(req, `request ${id} exists`);
  return req;
};

/** The CQE res posted for `userData` on any ring. */
const resOf = (s: Setup, userData: number) =>
  s.m.world.rings.flatMap((r) => r.cq).find((c) => c.userData === userData)?.res;

/** A machine with one process, a ring made with `opts` and `spec` loaded and registered at id 3. */
function registeredOn(design: DesignDef, opts: Partial<RingOptions>, spec: ProgramSpec) {
  const m = new Machine(design);
  const proc: Process = m.world.createProcess({ name: 'server' });
  const ringFd = unwrap(
    m.run(proc, m.uring.setup(proc, { bpf: design.setupFlag !== null, ...opts })),
  );
  const progFd = unwrap(m.run(proc, m.world.loadProgram(proc, spec)));
  const reg = unwrap(m.run(proc, m.ops.register(proc, argsFor(design, progFd, ringFd, 3))));
  return { m, proc, ringFd, progFd, reg };
}

describe('the request cache', () => {
  it('reuses the io_kiocb freed last on the ring, keeping its command area and result', () => {
    const s = registered(perCtx, programSpec('p', { issue: { res: 42, ret: 0 } }));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 1, true))));
    unwrap(s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe(s.reg.name, 2, true))));
    assert.equal(s.m.settle().kind, 'done');
    const freed = s.m.world.trace.ofKind('request-freed').map((e) => e.event.request);
    assert.equal(freed.length, 2);
    const third = submit(s, s.ringFd, { kind: 'id', id: 9 }, 3);
    assert.equal(requestOf(s, third).recycledFrom, freed.at(-1), 'last in, first out');
    assert.equal(requestOf(s, third).cmd.op, 3, 'op 9 is past the table: prep never wrote');
    assert.equal(requestOf(s, third).cmd.ops?.id, 1);
    assert.equal(requestOf(s, 1).recycledFrom, null, 'the first request came from the slab');
  });

  it('keeps one cache per ring: a new ring starts from the slab', () => {
    const s = registered(perCtx);
    submit(s, s.ringFd, s.reg.name, 1);
    const ring2 = unwrap(s.m.run(s.proc, s.m.uring.setup(s.proc, { bpf: true })));
    const id = submit(s, ring2, { kind: 'id', id: 3 }, 2);
    assert.equal(requestOf(s, id).recycledFrom, null);
    assert.deepEqual(requestOf(s, id).cmd, { op: 0, ops: null });
    assert.deepEqual(callbacksOf(s.m, id), [], 'slot 3 is empty on the second ring');
  });
});

describe('->fail() after a prep that failed before writing the command area', () => {
  it('per-ctx: runs the previous request fail_fn when the op slot is empty (EOPNOTSUPP)', () => {
    const s = registered(perCtx, programSpec('a'), 3);
    submit(s, s.ringFd, s.reg.name, 1);
    const id = submit(s, s.ringFd, { kind: 'id', id: 5 }, 2);
    assert.equal(resOf(s, 2), neg('EOPNOTSUPP'));
    assert.deepEqual(callbacksOf(s.m, id), ['fail:prog1']);
  });

  it('per-ctx: runs it for an op past the table too (EINVAL)', () => {
    const s = registered(perCtx, programSpec('a'), 3);
    submit(s, s.ringFd, s.reg.name, 1);
    const id = submit(s, s.ringFd, { kind: 'id', id: 16 }, 2);
    assert.equal(resOf(s, 2), neg('EINVAL'));
    assert.deepEqual(callbacksOf(s.m, id), ['fail:prog1']);
  });

  it('per-ctx: calls into the freed program once its registration and fd are gone', () => {
    const s = registered(perCtx, programSpec('a'), 3);
    submit(s, s.ringFd, s.reg.name, 1);
    unwrap(s.m.run(s.proc, s.m.ops.unregister(s.proc, s.reg)));
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd)));
    assert.equal(s.m.settle().kind, 'done');
    assert.equal(s.m.world.programs[0]?.freed, true);
    const id = submit(s, s.ringFd, s.reg.name, 2);
    assert.equal(resOf(s, 2), neg('EOPNOTSUPP'), 'the slot was cleared');
    const fail = s.m.world.trace.ofKind('callback').filter((e) => e.event.request === id);
    assert.deepEqual(
      fail.map((e) => [e.event.callback, e.event.program, e.event.freed]),
      [['fail', 1, true]],
    );
  });

  it('per-fd: runs the previous request fail_fn for a closed fd (EBADF)', () => {
    const s = registered(perFd, programSpec('a'));
    submit(s, s.ringFd, s.reg.name, 1);
    const id = submit(s, s.ringFd, { kind: 'fd', fd: 42 }, 2);
    assert.equal(resOf(s, 2), neg('EBADF'));
    assert.deepEqual(callbacksOf(s.m, id), ['fail:prog1']);
  });

  it('per-fd: after the program fd is closed, that fail_fn runs on the freed program', () => {
    const s = registered(perFd, programSpec('a'));
    submit(s, s.ringFd, s.reg.name, 1);
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.progFd)));
    assert.equal(s.m.settle().kind, 'done');
    const id = submit(s, s.ringFd, s.reg.name, 2);
    const fail = s.m.world.trace.ofKind('callback').filter((e) => e.event.request === id);
    assert.deepEqual(
      fail.map((e) => [e.event.callback, e.event.program, e.event.freed]),
      [['fail', 1, true]],
    );
  });

  it('per-fd-fixed: runs the previous request fail_fn for an empty slot (EBADF)', () => {
    const s = registered(perFdFixed, programSpec('a'));
    submit(s, s.ringFd, s.reg.name, 1);
    const id = submit(s, s.ringFd, { kind: 'fixed', index: 7 }, 2);
    assert.equal(resOf(s, 2), neg('EBADF'));
    assert.deepEqual(callbacksOf(s.m, id), ['fail:prog1']);
  });

  it('global-array: on a ring without the flag (EACCES) it reads the slot of the residue op', () => {
    const s = registeredOn(
      globalArray,
      { bpf: false, residue: { op: 3, ops: null, res: 0 } },
      programSpec('a'),
    );
    const id = unwrap(
      s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe({ kind: 'id', id: 9 }, 1))),
    );
    assert.equal(s.m.world.rings[0]?.cq[0]?.res, neg('EACCES'));
    assert.deepEqual(callbacksOf(s.m, id), ['fail:prog1']);
  });

  it('global-array: with the default residue it reads slot 0, empty here', () => {
    const s = registeredOn(globalArray, { bpf: false }, programSpec('a'));
    const id = unwrap(
      s.m.run(s.proc, s.m.uring.submit(s.proc, s.ringFd, s.m.sqe({ kind: 'id', id: 3 }, 1))),
    );
    assert.deepEqual(callbacksOf(s.m, id), []);
  });
});

describe('the result of a request', () => {
  it('per-ctx: an op without issue_fn completes with the res the previous request left', () => {
    const s = registered(perCtx, programSpec('no-issue', { issue: null }), 3);
    submit(s, s.ringFd, { kind: 'id', id: 5 }, 1);
    assert.equal(resOf(s, 1), neg('EOPNOTSUPP'));
    submit(s, s.ringFd, s.reg.name, 2);
    assert.equal(resOf(s, 2), neg('EOPNOTSUPP'), 'issue set no result: the stale one is posted');
  });

  it('per-ctx: a program that sets its result overwrites the stale one', () => {
    const s = registered(perCtx, programSpec('sets', { issue: { res: 7, ret: 0 } }), 3);
    submit(s, s.ringFd, { kind: 'id', id: 5 }, 1);
    submit(s, s.ringFd, s.reg.name, 2);
    assert.equal(resOf(s, 2), 7);
  });

  it('per-fd: the first request on a ring posts the residue res (0 by default)', () => {
    const noIssue = programSpec('no-issue', { issue: null });
    const plain = registeredOn(perFd, {}, noIssue);
    unwrap(
      plain.m.run(
        plain.proc,
        plain.m.uring.submit(plain.proc, plain.ringFd, plain.m.sqe(plain.reg.name, 1)),
      ),
    );
    assert.equal(plain.m.world.rings[0]?.cq[0]?.res, 0);
    const old = registeredOn(perFd, { residue: { op: 0, ops: null, res: 11 } }, noIssue);
    unwrap(
      old.m.run(old.proc, old.m.uring.submit(old.proc, old.ringFd, old.m.sqe(old.reg.name, 1))),
    );
    assert.equal(old.m.world.rings[0]?.cq[0]?.res, 11);
  });
});

describe('the residue option', () => {
  it('per-ctx: a request fresh from the slab fails into the residue ops pointer', () => {
    const m = new Machine(perCtx);
    const proc = m.world.createProcess({ name: 'server' });
    unwrap(m.run(proc, m.world.loadProgram(proc, programSpec('old'))));
    const old = m.world.programs[0];
    assert.ok(old);
    const ringFd = unwrap(
      m.run(proc, m.uring.setup(proc, { bpf: true, residue: { op: 2, ops: old, res: 0 } })),
    );
    const id = unwrap(m.run(proc, m.uring.submit(proc, ringFd, m.sqe({ kind: 'id', id: 4 }, 1))));
    assert.equal(m.world.rings[0]?.cq[0]?.res, neg('EOPNOTSUPP'));
    assert.deepEqual(callbacksOf(m, id), ['fail:prog1']);
  });

  it('applies only to requests fresh from the slab, not to recycled ones', () => {
    const m = new Machine(perCtx);
    const proc = m.world.createProcess({ name: 'server' });
    unwrap(m.run(proc, m.world.loadProgram(proc, programSpec('old'))));
    const old = m.world.programs[0] ?? null;
    const ringFd = unwrap(
      m.run(proc, m.uring.setup(proc, { bpf: true, residue: { op: 2, ops: old, res: 0 } })),
    );
    const progFd = unwrap(m.run(proc, m.world.loadProgram(proc, programSpec('new'))));
    unwrap(m.run(proc, m.ops.register(proc, { progFd, ringFd, id: 3 })));
    const first = unwrap(
      m.run(proc, m.uring.submit(proc, ringFd, m.sqe({ kind: 'id', id: 3 }, 1))),
    );
    const second = unwrap(
      m.run(proc, m.uring.submit(proc, ringFd, m.sqe({ kind: 'id', id: 4 }, 2))),
    );
    assert.equal(m.world.requests.find((r) => r.id === second)?.recycledFrom, first);
    assert.deepEqual(callbacksOf(m, second), ['fail:prog2'], 'what the first request wrote');
  });
});
