// The grace period a program's free waits for (designs/kernel/rcu.ts) and
// the program lifetime built on it (World.putProgram): the last put only
// releases the program; a kworker frees it once every caller that was
// inside it when the grace period started has returned.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RcuTasks } from '../../designs/kernel/rcu.js';
import { Machine } from '../../designs/machine.js';
import { perFd } from '../../designs/per-fd.js';
import { Scheduler } from '../../designs/scheduler.js';
import { programSpec, World } from '../../designs/world.js';
import { unwrap } from '../helpers.js';

describe('rcu + rcu-tasks grace period', () => {
  it('waits for windows open at its start, not for later ones', () => {
    const world = new World();
    const sched = new Scheduler(world);
    const rcu = new RcuTasks(world.trace);
    const early = rcu.readLock();
    const sync = sched.add('sync', rcu.synchronize());
    sched.stepActor(sync); // start
    sched.stepActor(sync); // snapshot of the open windows
    const late = rcu.readLock();
    assert.equal(sched.runnable().length, 0, 'blocked on the early window');
    rcu.readUnlock(early);
    assert.equal(sched.runnable().length, 1, 'the late window does not delay it');
    assert.equal(sched.run().kind, 'done');
    rcu.readUnlock(late);
    assert.equal(rcu.activeReaders, 0);
    const start = world.trace.ofKind('grace-period-start').map((e) => e.event.waitsFor);
    assert.deepEqual(start, [[early]]);
  });

  it('waits for nobody with the planted bug rcu-no-grace', () => {
    const world = new World();
    world.trace.mutations = new Set(['rcu-no-grace']);
    const sched = new Scheduler(world);
    const rcu = new RcuTasks(world.trace);
    rcu.readLock();
    const sync = sched.add('sync', rcu.synchronize());
    assert.equal(sched.run().kind, 'done');
    assert.equal(sync.done, true);
  });

  it('treats closing a window that is not open as a model bug', () => {
    const rcu = new RcuTasks(new World().trace);
    assert.throws(() => rcu.readUnlock(7), /read section 7 is not open/);
  });
});

/** A machine with one process, a ring, a loaded program and a request to call it for. */
function withProgram() {
  const m = new Machine(perFd);
  const proc = m.world.createProcess();
  const ringFd = unwrap(m.run(proc, m.uring.setup(proc, { bpf: false })));
  const fd = unwrap(m.run(proc, m.world.loadProgram(proc, programSpec('p'))));
  const ring = m.world.rings[0];
  const program = m.world.programs[0];
  assert.ok(ring && program);
  const req = m.world.newRequest(ring, proc, m.sqe({ kind: 'fd', fd }, 1));
  return { m, proc, ringFd, fd, program, req };
}

describe('program lifetime', () => {
  it('releases the program at its last put and frees it on a kworker after the grace period', () => {
    const { m, proc, fd, program } = withProgram();
    unwrap(m.run(proc, m.world.close(proc, fd)));
    assert.equal(program.released, true);
    assert.equal(program.freed, false);
    assert.deepEqual(
      m.scheduler.actors.filter((a) => !a.done).map((a) => [a.name, a.proc]),
      [['kworker:free-prog1', null]],
    );
    assert.equal(m.settle().kind, 'done');
    assert.equal(program.freed, true);
    assert.deepEqual(
      m.world.trace
        .all()
        .filter((e) => e.event.kind === 'program-released' || e.event.kind === 'program-freed')
        .map((e) => [e.event.kind, e.actor.startsWith('kworker:')]),
      [
        ['program-released', false],
        ['program-freed', true],
      ],
    );
  });

  it('keeps the program for a caller inside its window: the call is not a use after free', () => {
    const { m, proc, fd, program, req } = withProgram();
    const window = m.world.rcu.readLock(); // the caller has loaded a pointer into the program
    unwrap(m.run(proc, m.world.close(proc, fd)));
    const stuck = m.settle();
    assert.deepEqual(stuck.kind === 'deadlock' ? stuck.blocked : [], [
      {
        actor: 'kworker:free-prog1',
        waitingFor: 'synchronize_rcu_mult: grace period',
        ownWork: 0,
      },
    ]);
    m.world.callProgram(req, program, 'issue', 'test');
    m.world.rcu.readUnlock(window);
    assert.equal(m.settle().kind, 'done');
    assert.equal(program.freed, true);
    assert.deepEqual(
      m.world.trace.ofKind('callback').map((e) => e.event.freed),
      [false],
    );
  });

  it('does not wait for a pointer kept past its window: calling it after the free is a use after free', () => {
    const { m, proc, fd, program, req } = withProgram();
    const window = m.world.rcu.readLock();
    m.world.rcu.readUnlock(window); // the pointer is kept (cached across a sleep), the window is over
    unwrap(m.run(proc, m.world.close(proc, fd)));
    assert.equal(m.settle().kind, 'done');
    assert.equal(program.freed, true);
    m.world.callProgram(req, program, 'issue', 'test');
    assert.deepEqual(
      m.world.trace.ofKind('callback').map((e) => e.event.freed),
      [true],
    );
  });
});
