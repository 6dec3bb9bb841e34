// io_uring's fixed-file table (io_uring/filetable.c, rsrc.c): an array of
// resource nodes, each holding one file reference and a plain `refs` count
// that is only touched under uring_lock. The table holds one node reference;
// each request that uses the slot takes another and drops it when freed.
// Replacing or clearing a slot drops the table's reference; the file is put
// when the last node reference goes, so in-flight requests keep it alive.

import { Refcount } from './refcount.js';
import type { Trace } from './trace.js';

export class RsrcNode<F extends { readonly label: string }> {
  readonly refs: Refcount;

  constructor(
    readonly file: F,
    readonly label: string,
    /** The program the file holds, for traces; null for other files. */
    readonly programId: number | null,
    trace: Trace,
    /** io_free_rsrc_node(): puts the file. */
    readonly onFree: () => void,
  ) {
    this.refs = new Refcount(label, 1, false, trace);
  }

  /** io_put_rsrc_node(): drops one reference (uring_lock held); the last one frees the node. */
  put(): void {
    if (this.refs.put()) this.onFree();
  }
}

export class FixedFileTable<F extends { readonly label: string }> {
  private readonly slots: (RsrcNode<F> | null)[];

  constructor(
    readonly ringId: number,
    readonly size: number,
    private readonly trace: Trace,
  ) {
    this.slots = new Array(size).fill(null);
  }

  private get name(): string {
    return `ring#${this.ringId}.file_table`;
  }

  /** The node in `index`, or null (an empty or out-of-range slot). */
  get(index: number): RsrcNode<F> | null {
    const inRange = index >= 0 && index < this.size;
    // Planted bug (drop-index-check): io_file_get_fixed() without its bounds check.
    if (!inRange && this.trace.mutations.has('drop-index-check')) {
      this.trace.outOfBounds('read', this.name, index, this.size);
      return null;
    }
    const node = inRange ? (this.slots[index] ?? null) : null;
    this.trace.slot('read', this.name, index, node?.programId ?? null);
    return node;
  }

  /** Puts `node` (or nothing) in `index`, dropping the table's reference on the old node. */
  set(index: number, node: RsrcNode<F> | null): void {
    const old = this.slots[index] ?? null;
    this.slots[index] = node;
    this.trace.slot('write', this.name, index, node?.programId ?? null);
    old?.put();
  }

  /** Indices of empty slots, lowest first. */
  freeSlots(): number[] {
    return this.slots.flatMap((node, i) => (node === null ? [i] : []));
  }

  /** Clears every slot (IORING_UNREGISTER_FILES or ring exit). */
  clearAll(): void {
    for (let i = 0; i < this.size; i++) if (this.slots[i] !== null) this.set(i, null);
  }
}
