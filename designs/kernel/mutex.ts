// A sleeping mutex (struct mutex), e.g. io_ring_ctx.uring_lock or v1's
// uring_bpf_ctx_lock. Locking is a step that waits until the mutex is free.

import type { Op } from './step.js';
import type { Trace } from './trace.js';

export class Mutex {
  private holder: string | null = null;

  constructor(
    readonly name: string,
    private readonly trace: Trace,
  ) {}

  /** The actor holding the mutex, or null. */
  get owner(): string | null {
    return this.holder;
  }

  /** mutex_lock(): waits until free, then takes it for the running actor. */
  *lock(): Op<void> {
    yield { label: `mutex_lock(${this.name})`, ready: () => this.holder === null };
    this.holder = this.trace.actor;
    this.trace.emit({ kind: 'lock', lock: this.name });
  }

  /** mutex_unlock(): releases it; unlocking a mutex the actor does not hold is a model bug. */
  *unlock(): Op<void> {
    yield { label: `mutex_unlock(${this.name})` };
    if (this.holder !== this.trace.actor) {
      throw new Error(
        `BUG: ${this.trace.actor} unlocks ${this.name} held by ${this.holder ?? 'nobody'}`,
      );
    }
    this.holder = null;
    this.trace.emit({ kind: 'unlock', lock: this.name });
  }

  /** True when the running actor holds the mutex (lockdep_assert_held). */
  heldByCurrent(): boolean {
    return this.holder === this.trace.actor;
  }
}
