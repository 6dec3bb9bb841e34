// Lock-order tracking, per lock instance (kernel/locking/lockdep.c tracks
// classes; the models have few enough locks to name each one). Every
// blocking acquisition made while the actor holds other locks adds
// held -> new edges to one order graph shared by all actors; an edge that
// closes a cycle is traced as a `lock-order` event with the cycle spelled
// out, whether or not this run deadlocked, as lockdep splats on the order
// alone. What counts as a lock:
// * a mutex: mutex_lock() waits, so it adds edges; mutex_trylock() never
//   waits and adds none, but the lock is held afterwards;
// * an SRCU read section: srcu_read_lock() holds the "read side" (a reader
//   waits for nobody, so it adds no edge into it); synchronize_srcu() while
//   holding X is an X -> srcu edge (lockdep's lock_sync() in
//   __synchronize_srcu());
// * a wait for a count to drop (wait_event(refcount == 0)) while holding X:
//   an X -> that count edge, a lock in disguise.

import type { Trace } from './trace.js';

/** A lock an actor holds, and the step it took it at. */
export interface HeldLock {
  readonly lock: string;
  readonly label: string;
}

/** One edge of the order graph: `actor` acquired (or waited for) `to` while holding `from`. */
export interface OrderEdge {
  readonly from: string;
  readonly to: string;
  readonly actor: string;
  readonly label: string;
  readonly step: number;
}

/** The name lock-order tracking gives an SRCU domain's read side. */
export const srcuLockName = (srcu: string) => `${srcu} read section`;

export class LockDep {
  private readonly held = new Map<string, HeldLock[]>();
  /** from -> to -> the first edge seen. */
  private readonly order = new Map<string, Map<string, OrderEdge>>();
  private readonly reported = new Set<string>();

  constructor(private readonly trace: Trace) {}

  /** The locks `actor` holds now, oldest first. */
  heldBy(actor: string): readonly HeldLock[] {
    return this.held.get(actor) ?? [];
  }

  /** A blocking acquisition by the running actor (mutex_lock): edges from what it holds, then it holds `lock`. */
  acquire(lock: string, label: string): void {
    this.wait(lock, label);
    this.taken(lock, label);
  }

  /** A wait that takes nothing (synchronize_srcu, wait_event): edges from what the running actor holds. */
  wait(lock: string, label: string): void {
    if (!this.trace.recording) return;
    const actor = this.trace.actor;
    for (const h of this.heldBy(actor)) this.addEdge(h.lock, lock, actor, label);
  }

  /** The running actor holds `lock` now without having waited for it (trylock, a read side). */
  taken(lock: string, label: string): void {
    if (!this.trace.recording) return;
    const actor = this.trace.actor;
    this.held.set(actor, [...this.heldBy(actor), { lock, label }]);
  }

  /** The running actor let go of `lock`. */
  release(lock: string): void {
    if (!this.trace.recording) return;
    const actor = this.trace.actor;
    const mine = [...this.heldBy(actor)];
    const at = mine.map((h) => h.lock).lastIndexOf(lock);
    if (at < 0) return;
    mine.splice(at, 1);
    if (mine.length === 0) this.held.delete(actor);
    else this.held.set(actor, mine);
  }

  private addEdge(from: string, to: string, actor: string, label: string): void {
    if (from === to) return;
    const out = this.order.get(from) ?? new Map<string, OrderEdge>();
    if (out.has(to)) return;
    const back = this.path(to, from);
    const edge: OrderEdge = { from, to, actor, label, step: this.trace.step };
    out.set(to, edge);
    this.order.set(from, out);
    if (back === null) return;
    const cycle = [edge, ...back];
    const key = cycle
      .map((e) => e.from)
      .sort()
      .join(' ');
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.trace.emit({ kind: 'lock-order', cycle });
  }

  /** Edges of a path from `start` to `goal` in the order graph, or null (breadth first: the shortest). */
  private path(start: string, goal: string): OrderEdge[] | null {
    const via = new Map<string, OrderEdge | null>([[start, null]]);
    const queue = [start];
    while (queue.length > 0) {
      const node = queue.shift() as string;
      if (node === goal) {
        const edges: OrderEdge[] = [];
        for (let e = via.get(node); e; e = via.get(e.from)) edges.unshift(e);
        return edges;
      }
      for (const [next, edge] of this.order.get(node) ?? []) {
        if (via.has(next)) continue;
        via.set(next, edge);
        queue.push(next);
      }
    }
    return null;
  }
}

/** One line for a lock-order cycle: each edge with the actor that made it and where. */
export function orderCycleText(cycle: readonly OrderEdge[]): string {
  return cycle
    .map((e) => `${e.from} -> ${e.to} (${e.actor} at step ${e.step}: ${e.label})`)
    .join('; ');
}
