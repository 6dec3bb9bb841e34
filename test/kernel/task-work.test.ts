// Task work as the kernel runs it: per task, newest first, only by the task
// itself (or a kworker once it is exiting), and the exit order that leaves
// __fput without a files table.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FdTable, KFile } from '../../designs/kernel/fd-table.js';
import { KernelOops } from '../../designs/kernel/oops.js';
import { at, type Op, waitUntil } from '../../designs/kernel/step.js';
import { TaskWork } from '../../designs/kernel/task-work.js';
import { Trace } from '../../designs/kernel/trace.js';
import { Machine } from '../../designs/machine.js';
import { perCtx } from '../../designs/per-ctx.js';
import { perFd } from '../../designs/per-fd.js';
import { programSpec } from '../../designs/world.js';
import { errnoOf, unwrap } from '../helpers.js';

function* noop(): Op<void> {}

describe('task work', () => {
  it('runs a batch newest first; work queued meanwhile waits for the next batch', () => {
    const tw = new TaskWork();
    const ran: string[] = [];
    const item = (name: string, then?: () => void) =>
      function* (): Op<void> {
        ran.push(name);
        then?.();
        yield* noop();
      };
    tw.add(
      't',
      item('a', () => tw.add('t', item('c'))),
    );
    tw.add('t', item('b'));
    for (;;) {
      const batch = tw.takeBatch('t');
      if (batch.length === 0) break;
      for (const w of batch) [...w()];
    }
    assert.deepEqual(ran, ['b', 'a', 'c']);
    assert.equal(tw.pending('t'), 0);
  });

  it("runs the exiting task's __fput()s newest first, after exit_files()", () => {
    const m = new Machine(perFd);
    const p = m.world.createProcess();
    unwrap(m.run(p, m.world.loadProgram(p, programSpec('a'))));
    unwrap(m.run(p, m.world.loadProgram(p, programSpec('b'))));
    unwrap(m.run(p, m.world.exit(p)));
    assert.deepEqual(
      m.world.trace.ofKind('file-release').map((e) => e.event.file),
      ['prog#2', 'prog#1'],
    );
    assert.equal(errnoOf(m.run(p, m.world.exit(p))), 'ESRCH');
  });

  it('oopses on fget() by a task whose files table exit_files() dropped', () => {
    const trace = new Trace();
    const table = new FdTable<null>(100, trace);
    const fd = table.install(new KFile(1, 'f', null, trace, noop));
    assert.equal(fd, 3);
    table.detachAll();
    assert.throws(() => table.fget(3), KernelOops);
    assert.deepEqual(
      trace.ofKind('null-deref').map((e) => e.event.where),
      ['fget(3) by pid 100 after exit_files()'],
    );
  });
});

describe('io_uring completions as task work', () => {
  /** A per-ctx ring with one registered program; returns what the tests need. */
  function ring(deferTaskrun: boolean) {
    const m = new Machine(perCtx);
    const p = m.world.createProcess({ name: 'p' });
    const ringFd = unwrap(m.run(p, m.uring.setup(p, { bpf: true, deferTaskrun })));
    const progFd = unwrap(m.run(p, m.world.loadProgram(p, programSpec('a'))));
    const reg = unwrap(m.run(p, m.ops.register(p, { progFd, ringFd, id: 1 })));
    const sqe = (userData: number) => m.sqe(reg.name, userData, true);
    const posted = (): number[] => m.world.rings[0]?.cq.map((c) => c.userData) ?? [];
    return { m, p, ringFd, sqe, posted };
  }

  it('hands an io-wq completion to the submitting task, or to a kworker once it is exiting', () => {
    const { m, p, ringFd, sqe } = ring(false);
    unwrap(m.run(p, m.uring.submit(p, ringFd, sqe(1))));
    assert.equal(m.settle().kind, 'done');
    const exiting = m.world.createProcess({ name: 'q' });
    const qRing = unwrap(m.run(p, m.world.passFd(p, ringFd, exiting)));
    const submitter = m.scheduler.add('q-thread', m.uring.submit(exiting, qRing, sqe(2)), exiting);
    // The submit punts to io-wq; q exits before io-wq has issued it.
    while (!submitter.done) m.scheduler.stepActor(submitter);
    exiting.alive = false;
    assert.equal(m.settle().kind, 'done');
    const tasks = m.world.trace.ofKind('task-work').map((e) => e.event.task);
    assert.equal(tasks.length, 2);
    assert.match(tasks[0] ?? '', /^p#/);
    assert.equal(tasks[1], 'fallback');
    assert.ok(m.scheduler.actors.some((a) => a.name.startsWith('fallback:ring1')));
  });

  it('DEFER_TASKRUN: only the submitter task may enter, and only it runs completions', () => {
    const { m, p, ringFd, sqe, posted } = ring(true);
    const local = () => m.world.rings[0]?.localWork.length ?? 0;
    const seen: number[][] = [];
    m.scheduler.add(
      'owner',
      (function* () {
        yield* m.world.userSyscall(p, m.uring.submit(p, ringFd, sqe(1)));
        // io-wq issues request 1 and queues its completion on the ring; nobody runs it yet.
        yield* waitUntil('io-wq done', () => local() === 1);
        seen.push(posted());
        yield* m.world.userSyscall(p, m.uring.submit(p, ringFd, sqe(3)));
      })(),
      p,
    );
    const other = m.scheduler.add('other', m.uring.submit(p, ringFd, sqe(2)), p);
    assert.equal(m.settle().kind, 'done');
    assert.deepEqual(other.result, { ok: false, errno: 'EEXIST' });
    assert.deepEqual(seen, [[]], 'no CQE before the owner entered again');
    assert.deepEqual(posted(), [1], 'request 3 waits for the next enter in turn');
  });

  it('DEFER_TASKRUN: completions of an exiting submitter go to a kworker', () => {
    const { m, p, ringFd, sqe, posted } = ring(true);
    m.scheduler.add('owner', m.world.userSyscall(p, m.uring.submit(p, ringFd, sqe(1))), p);
    assert.equal(m.settle().kind, 'done');
    assert.equal(m.world.rings[0]?.localWork.length, 1);
    const exit = m.scheduler.add(
      'owner-exit',
      (function* () {
        yield* at('exit');
        return yield* m.world.exit(p);
      })(),
      p,
    );
    assert.equal(m.settle().kind, 'done');
    assert.deepEqual(posted(), [1], 'a kworker completed it while exit waited');
    // (per-ctx's ->unreg() then oopses in the exiting task's __fput of the link.)
    assert.match(exit.oops ?? '', /^fget\(/);
  });
});
