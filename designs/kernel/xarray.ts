// The xarray of lib/xarray.c, reduced to what the designs use: a radix tree
// of 64-slot nodes (XA_CHUNK_SHIFT 6) that grows upward as larger indices are
// stored and shrinks back when they are erased. A lone entry at index 0 lives
// in the head with no node, as in the kernel; any other index needs nodes:
// one level up to 63, two up to 4095, three up to 262143.
// Node count and height are observable because the memory lane and the
// per-lookup cost depend on them.

import { fail, ok, type Result } from './errno.js';

export const XA_CHUNK_SHIFT = 6;
export const XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT;
const XA_CHUNK_MASK = XA_CHUNK_SIZE - 1;

class XaNode<T> {
  readonly slots: (XaNode<T> | T | undefined)[] = new Array(XA_CHUNK_SIZE).fill(undefined);
  count = 0;
  constructor(readonly shift: number) {}
}

/** Largest index a tree with this head can hold without growing. */
function maxIndexOf<T>(head: XaNode<T> | T | undefined): number {
  if (!(head instanceof XaNode)) return 0;
  return 2 ** (head.shift + XA_CHUNK_SHIFT) - 1;
}

export class XArray<T extends object | number | string | boolean> {
  private head: XaNode<T> | T | undefined = undefined;
  private nodes = 0;
  private entries = 0;
  private nextCyclic = 0;

  /** Levels of nodes a lookup walks (0 when the tree is empty or holds only index 0). */
  get height(): number {
    return this.head instanceof XaNode ? this.head.shift / XA_CHUNK_SHIFT + 1 : 0;
  }

  /** Number of allocated xa_node structures. */
  get nodeCount(): number {
    return this.nodes;
  }

  /** Number of present entries. */
  get size(): number {
    return this.entries;
  }

  /** xa_load(): the entry at `index`, or undefined. */
  load(index: number): T | undefined {
    let entry = this.head;
    if (index > maxIndexOf(entry)) return undefined;
    while (entry instanceof XaNode) {
      entry = entry.slots[(index / 2 ** entry.shift) & XA_CHUNK_MASK];
    }
    return entry;
  }

  /** Nodes a lookup of `index` visits: the height when the index is in range, else 0. */
  levelsFor(index: number): number {
    return index > maxIndexOf(this.head) ? 0 : this.height;
  }

  /** xa_store(): puts `value` at `index`, growing the tree as needed; returns the old entry. */
  store(index: number, value: T): T | undefined {
    checkIndex(index);
    if (!(this.head instanceof XaNode) && index === 0) {
      const old = this.head;
      if (old === undefined) this.entries += 1;
      this.head = value;
      return old;
    }
    if (this.head === undefined) {
      // xas_expand() on an empty tree: one node, tall enough for the index.
      let shift = 0;
      while (index >= 2 ** (shift + XA_CHUNK_SHIFT)) shift += XA_CHUNK_SHIFT;
      this.head = new XaNode<T>(shift);
      this.nodes += 1;
    }
    while (!(this.head instanceof XaNode) || index > maxIndexOf(this.head)) {
      const top: XaNode<T> = new XaNode<T>(
        this.head instanceof XaNode ? this.head.shift + XA_CHUNK_SHIFT : 0,
      );
      if (this.head !== undefined) {
        top.slots[0] = this.head;
        top.count = 1;
      }
      this.head = top;
      this.nodes += 1;
    }
    let node: XaNode<T> = this.head;
    while (node.shift > 0) {
      const offset = (index / 2 ** node.shift) & XA_CHUNK_MASK;
      const slot = node.slots[offset];
      let child: XaNode<T>;
      if (slot instanceof XaNode) {
        child = slot as XaNode<T>;
      } else {
        child = new XaNode<T>(node.shift - XA_CHUNK_SHIFT);
        node.slots[offset] = child;
        node.count += 1;
        this.nodes += 1;
      }
      node = child;
    }
    const offset = index & XA_CHUNK_MASK;
    const old = node.slots[offset] as T | undefined;
    if (old === undefined) {
      node.count += 1;
      this.entries += 1;
    }
    node.slots[offset] = value;
    return old;
  }

  /** xa_erase(): removes the entry at `index`, frees empty nodes and shrinks the tree; returns it. */
  erase(index: number): T | undefined {
    if (index > maxIndexOf(this.head)) return undefined;
    if (!(this.head instanceof XaNode)) {
      const old = this.head;
      if (old !== undefined) this.entries -= 1;
      this.head = undefined;
      return old;
    }
    const path: { node: XaNode<T>; offset: number }[] = [];
    let node: XaNode<T> | T | undefined = this.head;
    while (node instanceof XaNode) {
      const offset: number = (index / 2 ** node.shift) & XA_CHUNK_MASK;
      path.push({ node, offset });
      node = node.slots[offset];
    }
    if (node === undefined) return undefined;
    this.entries -= 1;
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i] as { node: XaNode<T>; offset: number };
      step.node.slots[step.offset] = undefined;
      step.node.count -= 1;
      if (step.node.count > 0) break;
      this.nodes -= 1;
      if (i === 0) this.head = undefined;
    }
    this.shrink();
    return node;
  }

  /** xas_shrink(): while the head node only uses slot 0, replace it by that slot. */
  private shrink(): void {
    while (
      this.head instanceof XaNode &&
      this.head.count === 1 &&
      this.head.slots[0] !== undefined
    ) {
      const only = this.head.slots[0];
      if (!(only instanceof XaNode) && this.head.shift !== 0) break;
      this.head = only;
      this.nodes -= 1;
    }
  }

  /**
   * xa_alloc_cyclic(): stores `value` at the first free index in [min, max],
   * searching from just after the last allocation and wrapping once.
   * Fails with EBUSY when the range is full, as the kernel does.
   */
  allocCyclic(value: T, min: number, max: number): Result<number> {
    const start = Math.min(Math.max(this.nextCyclic, min), max);
    const found = this.firstFree(start, max) ?? this.firstFree(min, start - 1);
    if (found === null) return fail('EBUSY');
    this.store(found, value);
    this.nextCyclic = found + 1 > max ? min : found + 1;
    return ok(found);
  }

  private firstFree(from: number, to: number): number | null {
    for (let i = from; i <= to; i++) if (this.load(i) === undefined) return i;
    return null;
  }

  /** Present entries in index order (xa_for_each). */
  *[Symbol.iterator](): IterableIterator<[number, T]> {
    yield* walk(this.head, 0);
  }
}

function* walk<T>(entry: XaNode<T> | T | undefined, base: number): IterableIterator<[number, T]> {
  if (entry === undefined) return;
  if (!(entry instanceof XaNode)) {
    yield [base, entry];
    return;
  }
  for (let offset = 0; offset < XA_CHUNK_SIZE; offset++) {
    yield* walk(entry.slots[offset], base + offset * 2 ** entry.shift);
  }
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new Error(`BUG: xarray index ${index} is not an unsigned long the models use`);
  }
}
