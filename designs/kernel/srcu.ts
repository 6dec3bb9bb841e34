// Sleepable RCU (kernel/rcu/srcutree.c), as the models need it: read-side
// sections identified by a token, and synchronize_srcu() that waits only for
// the readers that were inside a section when it started. Readers that start
// during the grace period do not delay it.

import { srcuLockName } from './lockdep.js';
import { ReadSections } from './rcu.js';
import type { Op } from './step.js';
import type { Trace } from './trace.js';

export class Srcu {
  private readonly sections: ReadSections;

  constructor(
    readonly name: string,
    private readonly trace: Trace,
  ) {
    this.sections = new ReadSections(`srcu ${name}`);
  }

  /** srcu_read_lock(): enters a read section; returns its token. */
  readLock(): number {
    const token = this.sections.enter(this.trace.actor);
    // The read side is held: a lock taken inside it orders after it. A reader waits for nobody.
    this.trace.lockdep.taken(srcuLockName(this.name), 'srcu_read_lock');
    this.trace.emit({ kind: 'srcu-read-lock', srcu: this.name, token });
    return token;
  }

  /** srcu_read_unlock(): leaves the read section `token` opened. */
  readUnlock(token: number): void {
    this.sections.leave(token);
    this.trace.lockdep.release(srcuLockName(this.name));
    this.trace.emit({ kind: 'srcu-read-unlock', srcu: this.name, token });
  }

  /** The number of readers inside a section now. */
  get activeReaders(): number {
    return this.sections.active;
  }

  /** synchronize_srcu(): returns once every reader that was active at its start has left. */
  *synchronize(): Op<void> {
    yield { label: `synchronize_srcu(${this.name})` };
    // Planted bug: the grace period is skipped.
    const waitsFor = this.trace.mutations.has('srcu-no-grace') ? [] : this.sections.snapshot();
    this.trace.emit({ kind: 'srcu-sync-start', srcu: this.name, waitsFor });
    // lockdep models the grace period as lock_sync() on the read side: held locks order before it.
    this.trace.lockdep.wait(srcuLockName(this.name), `synchronize_srcu(${this.name})`);
    yield {
      label: `synchronize_srcu(${this.name}): grace period`,
      ready: () => this.sections.allLeft(waitsFor),
      blockers: () => {
        const actors = this.sections.actorsIn(waitsFor);
        return { actors, what: `synchronize_srcu(${this.name}) for ${actors.join(', ')}` };
      },
    };
    this.trace.emit({ kind: 'srcu-sync-end', srcu: this.name });
  }
}
