import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Mutex } from '../../designs/kernel/mutex.js';
import { Srcu } from '../../designs/kernel/srcu.js';
import { at, type Op } from '../../designs/kernel/step.js';
import { Scheduler } from '../../designs/scheduler.js';
import { World } from '../../designs/world.js';

function* holdBoth(first: Mutex, second: Mutex): Op<void> {
  yield* first.lock();
  yield* second.lock();
  yield* second.unlock();
  yield* first.unlock();
}

describe('mutex', () => {
  it('makes a second locker wait until the holder unlocks', () => {
    const world = new World();
    const sched = new Scheduler(world);
    const m = new Mutex('m', world.trace);
    const a = sched.add('a', holdBoth(m, new Mutex('x', world.trace)));
    const b = sched.add('b', holdBoth(m, new Mutex('y', world.trace)));
    while (m.owner !== 'a') sched.stepActor(a);
    sched.stepActor(b); // start
    sched.stepActor(b); // joins the queue
    assert.deepEqual(
      sched.runnable().map((x) => x.name),
      ['a'],
      'b waits on m',
    );
    assert.deepEqual(sched.run(), { kind: 'done', steps: sched.history.length });
    assert.equal(b.done, true);
  });

  it('hands the mutex to waiters in the order they came', () => {
    const world = new World();
    const sched = new Scheduler(world);
    const m = new Mutex('m', world.trace);
    const order: string[] = [];
    function* take(name: string): Op<void> {
      yield* m.lock();
      order.push(name);
      yield* m.unlock();
    }
    const first = sched.add('first', take('first'));
    while (m.owner !== 'first') sched.stepActor(first);
    const late = [sched.add('b', take('b')), sched.add('c', take('c'))];
    for (const x of late) {
      sched.stepActor(x);
      sched.stepActor(x);
    }
    // Even when the scheduler always prefers the last runnable actor, b still goes before c.
    sched.run(Array.from({ length: 50 }, () => 99));
    assert.deepEqual(order, ['first', 'b', 'c']);
  });

  it('reports a deadlock when two actors take two mutexes in opposite order', () => {
    const world = new World();
    const sched = new Scheduler(world);
    const x = new Mutex('x', world.trace);
    const y = new Mutex('y', world.trace);
    const a = sched.add('a', holdBoth(x, y));
    const b = sched.add('b', holdBoth(y, x));
    while (x.owner !== 'a') sched.stepActor(a);
    while (y.owner !== 'b') sched.stepActor(b);
    const outcome = sched.run();
    assert.equal(outcome.kind, 'deadlock');
    assert.deepEqual(outcome.kind === 'deadlock' ? outcome.blocked.map((w) => w.waitingFor) : [], [
      'mutex_lock(y): wait',
      'mutex_lock(x): wait',
    ]);
  });

  it('treats unlocking a mutex held by another actor as a model bug', () => {
    const world = new World();
    const sched = new Scheduler(world);
    const m = new Mutex('m', world.trace);
    sched.runAlone('a', m.lock());
    assert.throws(() => sched.runAlone('b', m.unlock()), /b unlocks m held by a/);
  });
});

describe('srcu', () => {
  it('waits for readers that started before the grace period, not later ones', () => {
    const world = new World();
    const sched = new Scheduler(world);
    const srcu = new Srcu('s', world.trace);
    const early = srcu.readLock();
    const sync = sched.add('sync', srcu.synchronize());
    sched.stepActor(sync); // start
    sched.stepActor(sync); // snapshot of readers
    const late = srcu.readLock();
    assert.equal(sched.runnable().length, 0, 'blocked on the early reader');
    srcu.readUnlock(early);
    assert.equal(sched.runnable().length, 1, 'the late reader does not delay it');
    sched.run();
    assert.equal(sync.done, true);
    srcu.readUnlock(late);
    assert.equal(srcu.activeReaders, 0);
  });
});

describe('scheduler', () => {
  function* counter(log: string[], name: string): Op<void> {
    for (let i = 0; i < 3; i++) {
      yield* at(`${name}${i}`);
      log.push(`${name}${i}`);
    }
  }

  it('runs the interleaving the choices name, and the same choices give the same run', () => {
    const runs = [0, 1].map(() => {
      const world = new World();
      const sched = new Scheduler(world);
      const log: string[] = [];
      sched.add('a', counter(log, 'a'));
      sched.add('b', counter(log, 'b'));
      sched.run([1, 1, 0, 0, 1]);
      return log;
    });
    assert.deepEqual(runs[0], runs[1]);
    // b starts, b0; a starts, a0; b1; then first-runnable order: a1, a2, b2.
    assert.deepEqual(runs[0], ['b0', 'a0', 'b1', 'a1', 'a2', 'b2']);
  });

  it('stops at the step limit and names who was still running', () => {
    const world = new World();
    const sched = new Scheduler(world);
    sched.add('a', counter([], 'a'));
    const outcome = sched.run([], 2);
    assert.deepEqual(outcome, { kind: 'step-limit', steps: 2, running: ['a'] });
  });
});
