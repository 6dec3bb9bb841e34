// IORING_SETUP_SQPOLL (io_uring/sqpoll.c): the ring's SQ thread, a thread
// of the creating process that shares its files (create_io_thread), preps
// and issues every SQE, whoever wrote it; the task work of the requests it
// submitted is its own. So a process that received the ring fd over
// SCM_RIGHTS has the fds in its SQEs resolved in the creator's table.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { globalArray } from '../../designs/global-array.js';
import { Machine } from '../../designs/machine.js';
import { perFd } from '../../designs/per-fd.js';
import { programSpec } from '../../designs/world.js';
import { CHECKS } from '../../fuzz/properties.js';
import { type Scenario, scenarioArbitrary } from '../../fuzz/scenario.js';
import { simulate } from '../../fuzz/simulate.js';
import { errnoOf, unwrap } from '../helpers.js';

/** A creator with a program fd and an SQPOLL ring, and another process that got the ring fd by SCM_RIGHTS. */
function sqpollShared(sqpoll: boolean) {
  const m = new Machine(perFd);
  const creator = m.world.createProcess({ name: 'creator' });
  const other = m.world.createProcess({ name: 'other', ns: 1 });
  const ringFd = unwrap(m.run(creator, m.uring.setup(creator, { bpf: false, sqpoll })));
  const progFd = unwrap(m.run(creator, m.world.loadProgram(creator, programSpec('mine'))));
  const otherRing = unwrap(m.run(creator, m.world.passFd(creator, ringFd, other)));
  return { m, creator, other, progFd, ringFd, otherRing };
}

describe('SQPOLL', () => {
  it('cannot be combined with DEFER_TASKRUN (io_uring_create: EINVAL)', () => {
    const m = new Machine(globalArray);
    const p = m.world.createProcess();
    const r = m.run(p, m.uring.setup(p, { bpf: true, sqpoll: true, deferTaskrun: true }));
    assert.equal(errnoOf(r), 'EINVAL');
  });

  it("an SQE from a process that got the ring fd names an fd in the creator's table", () => {
    const s = sqpollShared(true);
    // `other` has no program at that fd; the SQ thread resolves it in the creator's files.
    assert.equal(s.other.fds.peek(s.progFd), undefined);
    const sqe = s.m.sqe({ kind: 'fd', fd: s.progFd }, 1);
    const req = s.m.run(s.other, s.m.uring.submit(s.other, s.otherRing, sqe));
    assert.ok(req.ok, 'the SQ thread made a request of it');
    const outcome = s.m.settle();
    assert.equal(outcome.kind, 'done', 'an idle SQ thread does not make the run a deadlock');
    const calls = s.m.world.trace.ofKind('callback');
    assert.deepEqual(
      calls.map((e) => [e.actor, e.event.callback, e.event.program]),
      [
        ['sqpoll:ring1', 'prep', 1],
        ['sqpoll:ring1', 'issue', 1],
        ['sqpoll:ring1', 'cleanup', 1],
      ],
    );
  });

  it('without SQPOLL the same SQE is looked up in the submitter, which has no such fd', () => {
    const s = sqpollShared(false);
    const sqe = s.m.sqe({ kind: 'fd', fd: s.progFd }, 1);
    unwrap(s.m.run(s.other, s.m.uring.submit(s.other, s.otherRing, sqe)));
    s.m.settle();
    assert.deepEqual(s.m.world.trace.ofKind('callback'), []);
    assert.deepEqual(
      s.m.world.trace.ofKind('cqe').map((e) => e.event.res),
      [-9],
      'EBADF',
    );
  });

  it("an io-wq completion is the SQ thread's task work", () => {
    const s = sqpollShared(true);
    const sqe = s.m.sqe({ kind: 'fd', fd: s.progFd }, 1, true);
    unwrap(s.m.run(s.other, s.m.uring.submit(s.other, s.otherRing, sqe)));
    s.m.settle();
    assert.deepEqual(
      s.m.world.trace.ofKind('task-work').map((e) => e.event.task),
      ['sqpoll:ring1'],
    );
    assert.equal(s.m.world.trace.ofKind('cqe').length, 1);
  });

  it('after the creator exits the SQ thread is gone: EOWNERDEAD', () => {
    const s = sqpollShared(true);
    unwrap(s.m.run(s.creator, s.m.world.exit(s.creator)));
    s.m.settle();
    const sqe = s.m.sqe({ kind: 'fd', fd: s.progFd }, 1);
    assert.equal(
      errnoOf(s.m.run(s.other, s.m.uring.submit(s.other, s.otherRing, sqe))),
      'EOWNERDEAD',
    );
  });
});

describe('a file whose count reaches zero is dead at once', () => {
  it('a broken refcount reaching zero again before __fput() ran is an underflow, not a second release', () => {
    // Found by the fuzzer: with fget-no-ref planted, an SQPOLL caller drops the ring's last
    // reference and waits in the kernel (its __fput() queued, not run) while others put it again.
    const program = { prep: 0, issueRet: 0, issueRes: 0, fail: false, cleanup: true };
    const scenario: Scenario = {
      processes: [
        { ns: 0, team: 1, sqpoll: true },
        { ns: 1, team: 9 },
      ],
      actors: [
        { process: 0, protocol: 'exclusive', id: 0, program, requests: [false], extra: 0 },
        {
          process: 0,
          protocol: 'exclusive',
          id: 0,
          program,
          requests: [false],
          extra: 0,
          pin: true,
          fork: true,
        },
      ],
      priorities: [0, 0, 0, 0],
      changes: [8],
    };
    const o = simulate(perFd, scenario, ['fget-no-ref']);
    assert.equal(o.m.world.trace.ofKind('ring-freed').length <= 1, true);
    assert.ok(
      o.m.world.trace.ofKind('ref-underflow').some((e) => e.event.object === 'file:ring#1'),
    );
  });
});

describe('the SQ thread and its process exit', () => {
  it('never runs on a detached files table nor leaves a caller waiting forever (fuzzed, per-fd restart)', () => {
    fc.assert(
      fc.property(scenarioArbitrary('restart'), (s) => {
        const sqpoll = s.processes.map((p) => ({ ...p, sqpoll: p.deferTaskrun !== true }));
        const o = simulate(perFd, { ...s, processes: sqpoll });
        return CHECKS.crash(o) === null && CHECKS.deadlock(o) === null;
      }),
      { seed: 2, numRuns: 300 },
    );
  });
});
