// Sleepable RCU (kernel/rcu/srcutree.c), as the models need it: read-side
// sections identified by a token, and synchronize_srcu() that waits only for
// the readers that were inside a section when it started. Readers that start
// during the grace period do not delay it.

import type { Op } from './step.js';
import type { Trace } from './trace.js';

export class Srcu {
  private readonly readers = new Set<number>();
  private nextToken = 1;

  constructor(
    readonly name: string,
    private readonly trace: Trace,
  ) {}

  /** srcu_read_lock(): enters a read section; returns its token. */
  readLock(): number {
    const token = this.nextToken++;
    this.readers.add(token);
    this.trace.emit({ kind: 'srcu-read-lock', srcu: this.name, token });
    return token;
  }

  /** srcu_read_unlock(): leaves the read section `token` opened. */
  readUnlock(token: number): void {
    if (!this.readers.delete(token))
      throw new Error(`BUG: srcu ${this.name} token ${token} not held`);
    this.trace.emit({ kind: 'srcu-read-unlock', srcu: this.name, token });
  }

  /** The number of readers inside a section now. */
  get activeReaders(): number {
    return this.readers.size;
  }

  /** synchronize_srcu(): returns once every reader that was active at its start has left. */
  *synchronize(): Op<void> {
    yield { label: `synchronize_srcu(${this.name})` };
    // Planted bug: the grace period is skipped.
    const waitsFor = this.trace.mutations.has('srcu-no-grace') ? [] : [...this.readers];
    this.trace.emit({ kind: 'srcu-sync-start', srcu: this.name, waitsFor });
    yield {
      label: `synchronize_srcu(${this.name}): grace period`,
      ready: () => waitsFor.every((t) => !this.readers.has(t)),
    };
    this.trace.emit({ kind: 'srcu-sync-end', srcu: this.name });
  }
}
