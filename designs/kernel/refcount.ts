// A reference count: refcount_t / atomic_long_t (file->f_count, a BPF map's
// refcnt) when `atomic`, or a plain int guarded by a lock (v2's per-ring
// `int refcount`, a fixed-file resource node's `refs`) when not. The model is
// single-threaded per step either way; `atomic` matters to the cost model and
// the reports. Callers put a preemption point before each change.

import type { Trace } from './trace.js';

export class Refcount {
  private value: number;

  constructor(
    readonly object: string,
    initial: number,
    readonly atomic: boolean,
    private readonly trace: Trace,
  ) {
    this.value = initial;
  }

  /** The current count. */
  get count(): number {
    return this.value;
  }

  /** Takes one reference. */
  get(): void {
    this.value += 1;
    this.trace.emit({ kind: 'ref', object: this.object, delta: 1, value: this.value });
  }

  /** Drops one reference; returns true when this was the last one. Going below zero is traced. */
  put(): boolean {
    this.value -= 1;
    this.trace.emit({ kind: 'ref', object: this.object, delta: -1, value: this.value });
    if (this.value < 0)
      this.trace.emit({ kind: 'ref-underflow', object: this.object, value: this.value });
    return this.value === 0;
  }

  /** Sets the count outright (v2's `refcount = 1` on register). */
  set(value: number): void {
    const delta = value - this.value;
    this.value = value;
    this.trace.emit({ kind: 'ref', object: this.object, delta, value });
  }
}
