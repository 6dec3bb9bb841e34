// Deadlocks as cycles, on hand-written schedules: the wait-for cycle a
// blocked run ends in, the lock-order cycle a run that got through still
// shows, and the `deadlock` property's message with who raised each kind.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DesignDef } from '../../designs/design.js';
import { globalArray } from '../../designs/global-array.js';
import { Machine } from '../../designs/machine.js';
import { perCtx } from '../../designs/per-ctx.js';
import type { Actor, Outcome } from '../../designs/scheduler.js';
import { type Process, programSpec } from '../../designs/world.js';
import { jobSeed, runJob } from '../../fuzz/engine.js';
import { CHECKS } from '../../fuzz/properties.js';
import { FuzzLog } from '../../fuzz/protocols.js';
import { stepUntil, unwrap } from '../helpers.js';

const deadlockMessage = (m: Machine, outcome: Outcome) =>
  CHECKS.deadlock({ m, log: new FuzzLog(), outcome });

/** A machine with one process and `addresses.length` rings (with the setup flag) at those addresses. */
function rings(design: DesignDef, addresses: readonly number[], buffers = 0) {
  const m = new Machine(design);
  const proc = m.world.createProcess({ name: 'p' });
  const fds = addresses.map((address) =>
    unwrap(m.run(proc, m.uring.setup(proc, { bpf: true, address, buffers }))),
  );
  return { m, proc, fds };
}

function load(m: Machine, proc: Process, label: string, memcpy = false): number {
  return unwrap(m.run(proc, m.world.loadProgram(proc, programSpec(label, { memcpy }))));
}

/** v1 registration of `progFd` at `id` as actor `name`, not yet run. */
function registerActor(m: Machine, proc: Process, name: string, progFd: number, id: number) {
  return m.scheduler.add(
    name,
    m.world.userSyscall(proc, m.ops.register(proc, { progFd, id })),
    proc,
  );
}

/** Pseudo-random choice lists (a fixed LCG): many interleavings, the same on every run. */
function choiceLists(count: number, length: number): number[][] {
  let x = 12345;
  return Array.from({ length: count }, () =>
    Array.from({ length }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % 7;
    }),
  );
}

describe('v1 registration against IORING_REGISTER_CLONE_BUFFERS', () => {
  it('deadlocks when lock_two_rings() order (address) is opposite to the v1 list order', () => {
    // Ring 1 then ring 2: list_add() puts ring 2 first, lock_two_rings() takes ring 1 first.
    const { m, proc, fds } = rings(globalArray, [1, 2]);
    const [a, b] = fds as [number, number];
    const reg = registerActor(m, proc, 'reg', load(m, proc, 'p'), 0);
    const clone = m.scheduler.add(
      'clone',
      m.world.userSyscall(proc, m.uring.cloneBuffers(proc, a, b)),
      proc,
    );
    // clone: dst lock, drop it, lock_two_rings() takes ring#1 and is about to take ring#2.
    stepUntil(m, clone, 'mutex_lock(ring#1.uring_lock)');
    m.scheduler.stepActor(clone);
    stepUntil(m, clone, 'mutex_lock(ring#1.uring_lock)');
    stepUntil(m, clone, 'mutex_lock(ring#2.uring_lock)');
    // reg: uring_bpf_ctx_lock, then ring#2 (list head), about to take ring#1.
    stepUntil(m, reg, 'mutex_lock(ring#1.uring_lock)');
    const outcome = m.scheduler.run();
    assert.equal(outcome.kind, 'deadlock');
    assert.ok(outcome.kind === 'deadlock' && outcome.cycle !== undefined);
    assert.deepEqual(outcome.cycle.map((l) => l.actor).sort(), ['clone', 'reg']);
    const message = deadlockMessage(m, outcome) ?? '';
    assert.match(
      message,
      /reg holds uring_bpf_ctx_lock, ring#2.uring_lock, waits ring#1.uring_lock held by clone/,
    );
    assert.match(
      message,
      /uring_locks of several rings out of order; raised: Caleb Sander Mateos, CADUfDZrCvqR-1HConMx_xPQMgNPwn=jCDpbNBfqWrPucU3krzg@mail.gmail.com/,
    );
    assert.equal(m.world.trace.ofKind('lock-order').length, 1);
  });

  it('shows the lock-order cycle even in a run that got through', () => {
    const { m, proc, fds } = rings(globalArray, [1, 2]);
    const [a, b] = fds as [number, number];
    m.run(proc, m.ops.register(proc, { progFd: load(m, proc, 'p'), id: 0 }));
    m.run(proc, m.uring.cloneBuffers(proc, a, b));
    const outcome = m.settle();
    assert.equal(outcome.kind, 'done');
    assert.match(deadlockMessage(m, outcome) ?? '', /^possible deadlock: lock order .*Caleb/);
  });

  it('never deadlocks nor shows a cycle when the addresses follow the list order', () => {
    for (const choices of choiceLists(40, 80)) {
      // Ring 2 (the list head) at the lower address: both take ring#2 first.
      const { m, proc, fds } = rings(globalArray, [2, 1]);
      const [a, b] = fds as [number, number];
      registerActor(m, proc, 'reg', load(m, proc, 'p'), 0);
      m.scheduler.add('clone', m.world.userSyscall(proc, m.uring.cloneBuffers(proc, a, b)), proc);
      const outcome = m.scheduler.run(choices);
      assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
      assert.equal(deadlockMessage(m, outcome), null);
    }
  });
});

describe('v1 memcpy kfunc on io-wq against registration', () => {
  it('deadlocks: the io-wq issue takes uring_lock inside SRCU, registration waits for SRCU under it', () => {
    const { m, proc, fds } = rings(globalArray, [1], 1);
    const ringFd = fds[0] as number;
    m.run(proc, m.ops.register(proc, { progFd: load(m, proc, 'copy', true), id: 0 }));
    const submit = m.run(proc, m.uring.submit(proc, ringFd, m.sqe({ kind: 'id', id: 0 }, 1, true)));
    const iowq = m.scheduler.actors.find((x) => x.name === `iowq:req${unwrap(submit)}`) as Actor;
    // In the SRCU read section, in the program, about to io_ring_submit_lock().
    stepUntil(m, iowq, 'mutex_lock(ring#1.uring_lock)');
    const reg = registerActor(m, proc, 'reg', load(m, proc, 'other'), 1);
    stepUntil(m, reg, 'synchronize_srcu(uring_bpf_srcu): grace period');
    const outcome = m.scheduler.run();
    assert.ok(outcome.kind === 'deadlock' && outcome.cycle !== undefined);
    const message = deadlockMessage(m, outcome) ?? '';
    assert.match(
      message,
      /reg holds uring_bpf_ctx_lock, ring#1.uring_lock, waits synchronize_srcu\(uring_bpf_srcu\) for iowq:req\d+/,
    );
    assert.match(
      message,
      /iowq:req\d+ holds uring_bpf_srcu read section, waits ring#1.uring_lock held by reg/,
    );
    assert.match(message, /srcu read section vs uring_lock; raised: new/);
  });

  it('is quiet without the kfunc: the same schedule completes', () => {
    const { m, proc, fds } = rings(globalArray, [1], 1);
    const ringFd = fds[0] as number;
    m.run(proc, m.ops.register(proc, { progFd: load(m, proc, 'plain'), id: 0 }));
    m.run(proc, m.uring.submit(proc, ringFd, m.sqe({ kind: 'id', id: 0 }, 1, true)));
    const iowq = m.scheduler.actors.find((x) => x.name.startsWith('iowq:')) as Actor;
    stepUntil(m, iowq, 'srcu_read_unlock');
    registerActor(m, proc, 'reg', load(m, proc, 'other'), 1);
    const outcome = m.scheduler.run();
    assert.equal(outcome.kind, 'done');
    assert.equal(deadlockMessage(m, outcome), null);
  });
});

describe('IORING_OP_MSG_RING between two rings', () => {
  it('trylocks the target inline and punts when it is busy: crossing messages do not deadlock', () => {
    const { m, proc, fds } = rings(globalArray, [1, 2]);
    const [a, b] = fds as [number, number];
    const file = load(m, proc, 'sent');
    unwrap(m.run(proc, m.uring.registerFiles(proc, a, [file])));
    unwrap(m.run(proc, m.uring.registerFiles(proc, b, [file])));
    const msg = (to: number) => ({
      bpfOpFlags: 0,
      fd: -1,
      fixedFile: false,
      async: false,
      userData: 7,
      msgRing: { targetFd: to, srcSlot: 0 },
    });
    const ab = m.scheduler.add(
      'ab',
      m.world.userSyscall(proc, m.uring.submit(proc, a, msg(b))),
      proc,
    );
    const ba = m.scheduler.add(
      'ba',
      m.world.userSyscall(proc, m.uring.submit(proc, b, msg(a))),
      proc,
    );
    // Each holds its own ring's uring_lock and is about to lock the other's.
    stepUntil(m, ab, 'io_lock_external_ctx');
    stepUntil(m, ba, 'io_lock_external_ctx');
    // Both trylocks fail (-EAGAIN): each request goes to io-wq, which locks the target holding nothing.
    m.scheduler.stepActor(ab);
    m.scheduler.stepActor(ba);
    const outcome = m.scheduler.run();
    assert.equal(outcome.kind, 'done');
    assert.equal(m.world.trace.ofKind('punt').length, 2);
    assert.equal(m.world.trace.ofKind('lock-order').length, 0);
    // Each target got its file in slot 1 and an aux CQE; each sender a CQE with that slot.
    for (const ring of m.world.rings) {
      assert.deepEqual(
        ring.cq.map((c) => c.res),
        [1, 1],
      );
    }
    assert.equal(deadlockMessage(m, outcome), null);
  });
});

describe('per-ctx unregister under update_mutex', () => {
  it('deadlocks when the count it waits for is dropped by task work of a thread blocked on update_mutex', () => {
    const m = new Machine(perCtx);
    const proc = m.world.createProcess({ name: 'p' });
    const ringFd = unwrap(m.run(proc, m.uring.setup(proc, { bpf: true })));
    const link = (label: string, id: number) => {
      const progFd = load(m, proc, label);
      return unwrap(m.run(proc, m.ops.register(proc, { progFd, ringFd, id })));
    };
    const regA = link('a', 0);
    const regB = link('b', 1);
    // Thread b: an IOSQE_ASYNC request on A's op 0, then it detaches its own link.
    const b = m.scheduler.add(
      'b',
      (function* () {
        yield* m.world.userSyscall(proc, m.uring.submit(proc, ringFd, m.sqe(regA.name, 1, true)));
        yield* m.world.userSyscall(proc, m.ops.unregister(proc, regB));
      })(),
      proc,
    );
    const a = m.scheduler.add('a', m.world.userSyscall(proc, m.ops.unregister(proc, regA)), proc);
    stepUntil(m, b, 'bpf_link_detach');
    // a: update_mutex, ->unreg(): drops the registration's reference, waits for the request's.
    stepUntil(m, a, 'wait_event(bpf_wq, refcount == 0)');
    // b blocks on update_mutex; the io-wq worker completes and queues the free as b's task work.
    stepUntil(m, b, 'mutex_lock(update_mutex): wait');
    const outcome = m.scheduler.run();
    assert.ok(outcome.kind === 'deadlock' && outcome.cycle !== undefined, JSON.stringify(outcome));
    assert.deepEqual(outcome.cycle.map((l) => l.actor).sort(), ['a', 'b']);
    const message = deadlockMessage(m, outcome) ?? '';
    assert.match(
      message,
      /a holds update_mutex, waits wait_event\(ring#1.bpf_ext_ops\[0\].refcount == 0\) for req\d+ \(completed by b\)/,
    );
    assert.match(message, /b waits update_mutex held by a/);
    assert.match(message, /update_mutex vs a refcount wait; raised: new/);
  });

  it('completes when the same thread order runs without the async request', () => {
    const m = new Machine(perCtx);
    const proc = m.world.createProcess({ name: 'p' });
    const ringFd = unwrap(m.run(proc, m.uring.setup(proc, { bpf: true })));
    const regs = [0, 1].map((id) =>
      unwrap(m.run(proc, m.ops.register(proc, { progFd: load(m, proc, `p${id}`), ringFd, id }))),
    );
    m.scheduler.add('b', m.world.userSyscall(proc, m.ops.unregister(proc, regs[1] as never)), proc);
    m.scheduler.add('a', m.world.userSyscall(proc, m.ops.unregister(proc, regs[0] as never)), proc);
    const outcome = m.scheduler.run([1, 0, 1, 0, 1]);
    assert.equal(outcome.kind, 'done');
    assert.equal(deadlockMessage(m, outcome), null);
  });
});

/** fuzz/cli.ts DEFAULT_RUNS (cli.ts runs its main when imported). */
const DEFAULT_RUNS = 250;

describe('the deadlock fuzz job', () => {
  it('finds a cycle on v1 within the default budget, with its attribution', () => {
    for (const protocol of ['exclusive', 'shared-by-id'] as const) {
      const result = runJob({
        design: 'global-array',
        mutant: null,
        protocol,
        property: 'deadlock',
        seed: jobSeed(1, `global-array||${protocol}|deadlock`),
        runs: DEFAULT_RUNS,
        timeLimitMs: 60_000,
      });
      assert.equal(result.verdict, 'violated', protocol);
      assert.match(
        result.counterexample?.message ?? '',
        /(srcu read section vs uring_lock|uring_locks of several rings out of order); raised: /,
      );
    }
  });
});
