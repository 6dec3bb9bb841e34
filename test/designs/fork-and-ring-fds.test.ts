// fork() copies the fd table (kernel/fork.c copy_files -> dup_fd), so a
// child holds the parent's rings and links; and registered ring fds
// (IORING_REGISTER_RING_FDS, io_uring/tctx.c) let a task name its ring by
// index after closing the fd -- but per-ctx's ->reg() resolves ring_fd with
// fget in the attaching process (io_uring_register_get_file(ring_fd, false)
// in 20260106101126.4064990-7-ming.lei@redhat.com), so that caller can no
// longer name the ring when it registers a program.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalArray } from '../../designs/global-array.js';
import { IO_RINGFD_REG_MAX } from '../../designs/io-uring.js';
import type { Op } from '../../designs/kernel/step.js';
import { Machine } from '../../designs/machine.js';
import { perCtx } from '../../designs/per-ctx.js';
import { programSpec } from '../../designs/world.js';
import { CHECKS } from '../../fuzz/properties.js';
import type { Scenario } from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';
import { errnoOf, registered, setup, unwrap } from '../helpers.js';

describe('World.fork', () => {
  it('copies the fd table with a reference per file, and the credentials', () => {
    const s = setup(globalArray);
    const child = unwrap(s.m.run(s.proc, s.m.world.fork(s.proc)));
    assert.deepEqual(
      child.fds.list().map(([fd, f]) => [fd, f.label]),
      s.proc.fds.list().map(([fd, f]) => [fd, f.label]),
    );
    assert.equal(s.proc.fds.peek(s.ringFd)?.refs.count, 2);
    assert.equal(child.creds, s.proc.creds);
    assert.equal(child.ns, s.proc.ns);
    // The parent's close leaves the child's fd open.
    unwrap(s.m.run(s.proc, s.m.world.close(s.proc, s.ringFd)));
    assert.equal(child.fds.peek(s.ringFd)?.refs.count, 1);
  });

  it("a child submits on the parent's ring; on a DEFER_TASKRUN (SINGLE_ISSUER) ring it gets EEXIST", () => {
    for (const deferTaskrun of [false, true]) {
      const m = new Machine(globalArray);
      const parent = m.world.createProcess({ name: 'parent' });
      const ringFd = unwrap(m.run(parent, m.uring.setup(parent, { bpf: true, deferTaskrun })));
      unwrap(m.run(parent, m.uring.submit(parent, ringFd, m.sqe({ kind: 'id', id: 0 }, 1))));
      const child = unwrap(m.run(parent, m.world.fork(parent)));
      const r = m.run(child, m.uring.submit(child, ringFd, m.sqe({ kind: 'id', id: 0 }, 2)));
      m.settle();
      if (deferTaskrun) assert.equal(errnoOf(r), 'EEXIST');
      else assert.ok(r.ok);
    }
  });

  it("a child holding the link fd keeps the registration past the parent's exit", () => {
    const s = registered(globalArray, programSpec('p'), 2);
    const child = unwrap(s.m.run(s.proc, s.m.world.fork(s.proc)));
    unwrap(s.m.run(s.proc, s.m.world.exit(s.proc)));
    s.m.settle();
    // The child's request at the id still runs the dead parent's program.
    unwrap(s.m.run(child, s.m.uring.submit(child, s.ringFd, s.m.sqe(s.reg.name, 9))));
    s.m.settle();
    const runs = () =>
      s.m.world.trace.ofKind('callback').filter((e) => e.event.callback === 'issue').length;
    assert.equal(runs(), 1);
    // Its close is the last link reference: ->unreg() runs then, and the id is free again.
    unwrap(s.m.run(child, s.m.world.close(child, s.reg.linkFd ?? -1)));
    unwrap(s.m.run(child, s.m.uring.submit(child, s.ringFd, s.m.sqe(s.reg.name, 10))));
    s.m.settle();
    assert.equal(runs(), 1, 'nothing runs at the id after the last link fd closed');
  });
});

/** Runs `op` as one task of `proc`: registered rings belong to the task that registered them. */
function asOneTask<T>(m: Machine, proc: Parameters<Machine['run']>[0], op: () => Op<T>): T {
  return m.run(proc, op());
}

describe('registered ring fds (IORING_REGISTER_RING_FDS)', () => {
  it('a task names its ring by index after closing the fd; per-ctx ->reg() then cannot find it', () => {
    const m = new Machine(perCtx);
    const proc = m.world.createProcess({ name: 'server' });
    const out = asOneTask(m, proc, function* () {
      const ringFd = unwrap(yield* m.uring.setup(proc, { bpf: true }));
      const progFd = unwrap(yield* m.world.loadProgram(proc, programSpec('p')));
      const index = unwrap(yield* m.uring.registerRingFd(proc, ringFd));
      unwrap(yield* m.world.close(proc, ringFd));
      const sqe = m.sqe({ kind: 'id', id: 1 }, 1);
      const submitted = yield* m.uring.submit(proc, { registered: index }, sqe);
      const reg = yield* m.ops.register(proc, { progFd, ringFd, id: 1 });
      const unreg = yield* m.uring.unregisterRingFd(index);
      const after = yield* m.uring.submit(proc, { registered: index }, sqe);
      return { submitted, reg, unreg, after };
    });
    m.settle();
    assert.ok(out.submitted.ok, 'the registered index still names the ring');
    assert.equal(errnoOf(out.reg), 'EBADF', 'ring_fd is resolved with fget in the attaching task');
    assert.ok(out.unreg.ok);
    assert.equal(errnoOf(out.after), 'EBADF');
    assert.equal(m.world.trace.ofKind('ring-freed').length, 1, 'the last reference went with it');
  });

  it('another task of the process has its own table: the index means nothing there', () => {
    const m = new Machine(globalArray);
    const proc = m.world.createProcess({ name: 'server' });
    const index = asOneTask(m, proc, function* () {
      const ringFd = unwrap(yield* m.uring.setup(proc, { bpf: true }));
      return unwrap(yield* m.uring.registerRingFd(proc, ringFd));
    });
    const r = m.run(
      proc,
      m.uring.submit(proc, { registered: index }, m.sqe({ kind: 'id', id: 0 }, 1)),
    );
    assert.equal(errnoOf(r), 'EBADF');
  });

  it('errors: not a ring, no such fd, a full table, an index out of range', () => {
    const m = new Machine(globalArray);
    const proc = m.world.createProcess({ name: 'server' });
    const out = asOneTask(m, proc, function* () {
      const ringFd = unwrap(yield* m.uring.setup(proc, { bpf: true }));
      const progFd = unwrap(yield* m.world.loadProgram(proc, programSpec('p')));
      const notRing = yield* m.uring.registerRingFd(proc, progFd);
      const noFd = yield* m.uring.registerRingFd(proc, 999);
      for (let i = 0; i < IO_RINGFD_REG_MAX; i++)
        unwrap(yield* m.uring.registerRingFd(proc, ringFd));
      const full = yield* m.uring.registerRingFd(proc, ringFd);
      const past = yield* m.uring.submit(
        proc,
        { registered: IO_RINGFD_REG_MAX },
        m.sqe({ kind: 'id', id: 0 }, 1),
      );
      return { notRing, noFd, full, past };
    });
    assert.equal(errnoOf(out.notRing), 'EOPNOTSUPP');
    assert.equal(errnoOf(out.noFd), 'EBADF');
    assert.equal(errnoOf(out.full), 'EBUSY');
    assert.equal(errnoOf(out.past), 'EINVAL');
  });

  it("exit puts the task's registered rings (io_uring_files_cancel -> io_uring_unreg_ringfd)", () => {
    const m = new Machine(globalArray);
    const proc = m.world.createProcess({ name: 'server' });
    asOneTask(m, proc, function* () {
      const ringFd = unwrap(yield* m.uring.setup(proc, { bpf: true }));
      unwrap(yield* m.uring.registerRingFd(proc, ringFd));
      unwrap(yield* m.world.exit(proc));
    });
    m.settle();
    assert.equal(m.world.trace.ofKind('ring-freed').length, 1);
    assert.equal(m.world.registeredRings.size, 0);
  });
});

describe('protocols that fork', () => {
  const program = { prep: 0, issueRet: 0, issueRes: 0, fail: true, cleanup: true };
  const scenario = (deferTaskrun: boolean, protocol: 'exclusive' | 'restart'): Scenario => ({
    processes: [{ ns: 0, team: 0, deferTaskrun }],
    actors: [{ process: 0, protocol, id: 0, program, requests: [false], extra: 0, fork: true }],
    priorities: [],
    changes: [],
  });

  for (const protocol of ['exclusive', 'restart'] as const) {
    it(`${protocol}: the child submits on the parent's ring (EEXIST on DEFER_TASKRUN) and exits`, () => {
      for (const deferTaskrun of [false, true]) {
        const o = simulate(globalArray, scenario(deferTaskrun, protocol));
        assert.equal(o.outcome.kind, 'done');
        const child = o.log.submits.filter((s) => s.actor.endsWith('/child'));
        assert.equal(child.length, deferTaskrun ? 0 : 1, `deferTaskrun ${deferTaskrun}`);
        assert.equal(CHECKS.hijack(o), null);
        // The child exited; the service (or its restarted self) is the one left.
        assert.equal(o.m.world.processes.filter((p) => p.alive).length, 1);
      }
    });
  }
});
