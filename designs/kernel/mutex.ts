// A sleeping mutex (struct mutex), e.g. io_ring_ctx.uring_lock or v1's
// uring_bpf_ctx_lock. Locking is a step that waits until the mutex is free
// and the locker is first in line: waiters are served in order, as the
// kernel's handoff to the first waiter guarantees no waiter starves, so a
// starvation the fuzzer finds is the design's, not the lock's.

import type { Op } from './step.js';
import type { Trace } from './trace.js';

export class Mutex {
  private holder: string | null = null;
  private readonly waiters: string[] = [];

  constructor(
    readonly name: string,
    private readonly trace: Trace,
  ) {}

  /** The actor holding the mutex, or null. */
  get owner(): string | null {
    return this.holder;
  }

  /** mutex_lock(): waits until free and first in line, then takes it for the running actor. */
  *lock(): Op<void> {
    yield { label: `mutex_lock(${this.name})` };
    const me = this.trace.actor;
    // Planted bug: the lock stops excluding anyone (a check-and-set split across it).
    if (this.trace.mutations.has('mutex-no-exclusion')) {
      this.trace.emit({ kind: 'lock', lock: this.name });
      return;
    }
    this.waiters.push(me);
    // lockdep's lock_acquire() comes before the wait: the order counts even if this never waits.
    this.trace.lockdep.wait(this.name, `mutex_lock(${this.name})`);
    yield {
      label: `mutex_lock(${this.name}): wait`,
      ready: () => this.holder === null && this.waiters[0] === me,
      queued: true,
      blockers: () => {
        const who = this.holder ?? this.waiters[0] ?? null;
        return {
          actors: who === null ? [] : [who],
          what: `${this.name} held by ${this.holder ?? 'nobody'}`,
        };
      },
    };
    this.waiters.shift();
    this.holder = me;
    this.trace.lockdep.taken(this.name, `mutex_lock(${this.name})`);
    this.trace.emit({ kind: 'lock', lock: this.name });
  }

  /** mutex_trylock(): takes it if free and nobody waits; never waits, so it adds no lock-order edge. */
  tryLock(): boolean {
    const me = this.trace.actor;
    if (this.trace.mutations.has('mutex-no-exclusion')) {
      this.trace.emit({ kind: 'lock', lock: this.name });
      return true;
    }
    if (this.holder !== null || this.waiters.length > 0) return false;
    this.holder = me;
    this.trace.lockdep.taken(this.name, `mutex_trylock(${this.name})`);
    this.trace.emit({ kind: 'lock', lock: this.name });
    return true;
  }

  /** mutex_unlock(): releases it; unlocking a mutex the actor does not hold is a model bug. */
  *unlock(): Op<void> {
    yield { label: `mutex_unlock(${this.name})` };
    if (this.trace.mutations.has('mutex-no-exclusion')) {
      this.trace.emit({ kind: 'unlock', lock: this.name });
      return;
    }
    if (this.holder !== this.trace.actor) {
      throw new Error(
        `BUG: ${this.trace.actor} unlocks ${this.name} held by ${this.holder ?? 'nobody'}`,
      );
    }
    this.holder = null;
    this.trace.lockdep.release(this.name);
    this.trace.emit({ kind: 'unlock', lock: this.name });
  }

  /** True when the running actor holds the mutex (lockdep_assert_held). */
  heldByCurrent(): boolean {
    return this.holder === this.trace.actor;
  }
}
