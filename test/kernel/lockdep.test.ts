// Lock-order tracking (designs/kernel/lockdep.ts): edges from held locks to
// each blocking acquisition, a cycle traced once with who made each edge,
// trylock adding none, SRCU's read side and grace period as a lock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { srcuLockName } from '../../designs/kernel/lockdep.js';
import { Mutex } from '../../designs/kernel/mutex.js';
import { Srcu } from '../../designs/kernel/srcu.js';
import type { Op } from '../../designs/kernel/step.js';
import { Trace } from '../../designs/kernel/trace.js';

/** Runs `op` as `actor` straight through; every wait in it must already be satisfied. */
function runAs<T>(trace: Trace, actor: string, op: Op<T>): T {
  trace.actor = actor;
  for (;;) {
    const next = op.next();
    if (next.done) return next.value;
    if (next.value.ready !== undefined && !next.value.ready())
      throw new Error(`${actor} would wait at ${next.value.label}`);
  }
}

function* lockBoth(first: Mutex, second: Mutex): Op<void> {
  yield* first.lock();
  yield* second.lock();
  yield* second.unlock();
  yield* first.unlock();
}

describe('lock-order tracking', () => {
  it('traces A -> B then B -> A as one cycle naming who took each edge', () => {
    const trace = new Trace();
    const a = new Mutex('A', trace);
    const b = new Mutex('B', trace);
    runAs(trace, 'x', lockBoth(a, b));
    assert.equal(trace.ofKind('lock-order').length, 0);
    runAs(trace, 'y', lockBoth(b, a));
    const found = trace.ofKind('lock-order');
    assert.equal(found.length, 1);
    const cycle = found[0]?.event.cycle ?? [];
    assert.deepEqual(
      cycle.map((e) => [e.from, e.to, e.actor]),
      [
        ['B', 'A', 'y'],
        ['A', 'B', 'x'],
      ],
    );
    // The same cycle again is not traced twice.
    runAs(trace, 'z', lockBoth(b, a));
    assert.equal(trace.ofKind('lock-order').length, 1);
  });

  it('adds no edge for mutex_trylock(), which never waits', () => {
    const trace = new Trace();
    const a = new Mutex('A', trace);
    const b = new Mutex('B', trace);
    runAs(
      trace,
      'x',
      (function* () {
        yield* a.lock();
        assert.equal(b.tryLock(), true);
        yield* b.unlock();
        yield* a.unlock();
      })(),
    );
    runAs(trace, 'y', lockBoth(b, a));
    assert.equal(trace.ofKind('lock-order').length, 0);
  });

  it('orders a lock taken inside an SRCU read section against synchronize_srcu() under it', () => {
    const trace = new Trace();
    const a = new Mutex('A', trace);
    const srcu = new Srcu('s', trace);
    runAs(
      trace,
      'reader',
      (function* () {
        const token = srcu.readLock();
        yield* a.lock();
        yield* a.unlock();
        srcu.readUnlock(token);
      })(),
    );
    assert.equal(trace.ofKind('lock-order').length, 0);
    runAs(
      trace,
      'writer',
      (function* () {
        yield* a.lock();
        yield* srcu.synchronize();
        yield* a.unlock();
      })(),
    );
    const cycle = trace.ofKind('lock-order')[0]?.event.cycle ?? [];
    assert.deepEqual(
      cycle.map((e) => [e.from, e.to, e.actor]),
      [
        ['A', srcuLockName('s'), 'writer'],
        [srcuLockName('s'), 'A', 'reader'],
      ],
    );
  });

  it('tracks what each actor holds and lets go of it', () => {
    const trace = new Trace();
    const a = new Mutex('A', trace);
    runAs(trace, 'x', a.lock());
    assert.deepEqual(
      trace.lockdep.heldBy('x').map((h) => h.lock),
      ['A'],
    );
    runAs(trace, 'x', a.unlock());
    assert.deepEqual(trace.lockdep.heldBy('x'), []);
  });

  it('records nothing while the trace is not recording (the model lane)', () => {
    const trace = new Trace();
    trace.recording = false;
    const a = new Mutex('A', trace);
    const b = new Mutex('B', trace);
    runAs(trace, 'x', lockBoth(a, b));
    runAs(trace, 'y', lockBoth(b, a));
    trace.recording = true;
    assert.deepEqual(trace.lockdep.heldBy('x'), []);
    runAs(trace, 'y', lockBoth(b, a));
    assert.equal(trace.ofKind('lock-order').length, 0);
  });
});
