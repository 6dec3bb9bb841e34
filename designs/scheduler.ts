// Runs actors (userspace threads, io-wq workers, task work) one atomic step
// at a time. Which runnable actor goes next is chosen by a list of numbers,
// so any interleaving is a plain array that fast-check can generate and
// shrink, and every run is reproducible from it.

import { KernelOops } from './kernel/oops.js';
import type { Op, Step } from './kernel/step.js';
import type { Process, World } from './world.js';

export interface Actor {
  readonly name: string;
  /** The process whose context (fd table) the actor runs in, if any. */
  readonly proc: Process | null;
  readonly gen: Op<unknown>;
  pending: Step;
  done: boolean;
  result: unknown;
  /** Set when the actor died of a kernel oops (the task is gone; nothing after it ran). */
  oops: string | null;
  steps: number;
}

/** One actor of a wait-for cycle: what it holds and what (whom) it waits for. */
export interface CycleLink {
  readonly actor: string;
  /** Locks it holds (lockdep.ts names: mutexes, SRCU read sections). */
  readonly holds: readonly string[];
  /** What it waits for, naming the next actor of the cycle. */
  readonly waits: string;
}

export type Outcome =
  | { readonly kind: 'done'; readonly steps: number }
  | {
      readonly kind: 'deadlock';
      readonly steps: number;
      readonly blocked: readonly {
        actor: string;
        waitingFor: string;
        /** Task work queued on this actor that it cannot run while it waits. */
        ownWork: number;
      }[];
      /** A cycle in the wait-for graph of the blocked actors, when there is one. */
      readonly cycle?: readonly CycleLink[];
    }
  | { readonly kind: 'step-limit'; readonly steps: number; readonly running: readonly string[] };

/** A step the scheduler ran: which actor, what it did, and who was blocked meanwhile. */
export interface ScheduleEntry {
  readonly actor: string;
  readonly label: string;
  /** Actors that could not run at this step (waiting on a lock, a grace period, a count). */
  readonly waiting: readonly string[];
  /** Of `waiting`, those in a mutex's first-come, first-served queue. */
  readonly queued: readonly string[];
}

export class Scheduler {
  readonly actors: Actor[] = [];
  readonly history: ScheduleEntry[] = [];
  private steps = 0;

  constructor(readonly world: World) {
    world.spawn = (name, op, proc) => {
      this.add(name, op, proc);
    };
    world.taskIdle = (task) => {
      const actor = this.actors.find((a) => a.name === task);
      return actor === undefined || actor.done;
    };
  }

  /**
   * Adds an actor running `op` as a syscall (its deferred file releases run
   * before it finishes). Nothing of `op` runs until the actor is scheduled.
   */
  add<T>(name: string, op: Op<T>, proc: Process | null = null): Actor {
    if (this.actors.some((a) => a.name === name)) throw new Error(`BUG: two actors named ${name}`);
    const world = this.world;
    const gen = (function* (): Op<T> {
      yield { label: 'start' };
      return yield* world.syscall(op);
    })();
    const first = gen.next();
    if (first.done) throw new Error('BUG: actor finished before its start step');
    const actor: Actor = {
      name,
      proc,
      gen,
      pending: first.value,
      done: false,
      result: undefined,
      oops: null,
      steps: 0,
    };
    this.actors.push(actor);
    return actor;
  }

  /** Actors that can take a step now, in the order they were added. */
  runnable(): Actor[] {
    return this.actors.filter(
      (a) => !a.done && (a.pending.ready === undefined || a.pending.ready()),
    );
  }

  /** Runs one step of `actor`: the code up to its next preemption point. */
  stepActor(actor: Actor): void {
    const world = this.world;
    const trace = world.trace;
    const previous = [trace.actor, world.current] as const;
    trace.actor = actor.name;
    trace.step = this.history.length;
    world.current = actor.proc;
    const waiting = this.actors.filter(
      (a) => !a.done && a.pending.ready !== undefined && !a.pending.ready(),
    );
    this.history.push({
      actor: actor.name,
      label: actor.pending.label,
      waiting: waiting.map((a) => a.name),
      queued: waiting.filter((a) => a.pending.queued === true).map((a) => a.name),
    });
    try {
      const next = actor.gen.next();
      if (next.done) {
        actor.done = true;
        actor.result = next.value;
      } else {
        actor.pending = next.value;
      }
    } catch (e) {
      // An oops kills the task where it stood: locks it held stay held, its task work never runs.
      if (!(e instanceof KernelOops)) throw e;
      actor.done = true;
      actor.oops = e.where;
    } finally {
      [trace.actor, world.current] = previous;
    }
    actor.steps += 1;
    this.steps += 1;
  }

  /**
   * Runs until every actor is done, nothing can run (deadlock), or `maxSteps`
   * steps have run. Step i picks runnable[choices[i] mod n]; once the choices
   * run out, the first runnable actor goes (run to completion in order).
   */
  run(choices: readonly number[] = [], maxSteps = 100_000): Outcome {
    let i = 0;
    for (;;) {
      const ready = this.runnable();
      if (ready.length === 0) return this.endOutcome();
      if (this.steps >= maxSteps) {
        return { kind: 'step-limit', steps: this.steps, running: ready.map((a) => a.name) };
      }
      const choice = i < choices.length ? (choices[i] ?? 0) : 0;
      i += 1;
      this.stepActor(ready[choice % ready.length] as Actor);
    }
  }

  /**
   * Runs with priorities (PCT, Burckhardt et al. 2010): the runnable actor
   * with the highest priority goes; `priorities[i]` is the i-th actor's (by
   * the order actors were added, spawned ones included; 0 past the list);
   * at each step number in `changes` the actor that just ran drops below
   * everyone. A bug that needs d preemptions needs d change points.
   */
  runPriorities(
    priorities: readonly number[],
    changes: readonly number[],
    maxSteps = 100_000,
  ): Outcome {
    const prio = new Map<Actor, number>();
    const changeAt = new Set(changes);
    let lowest = -1;
    for (;;) {
      const ready = this.runnable();
      if (ready.length === 0) return this.endOutcome();
      if (this.steps >= maxSteps)
        return { kind: 'step-limit', steps: this.steps, running: ready.map((a) => a.name) };
      for (const a of ready) if (!prio.has(a)) prio.set(a, priorities[this.actors.indexOf(a)] ?? 0);
      let best = ready[0] as Actor;
      for (const a of ready) if ((prio.get(a) ?? 0) > (prio.get(best) ?? 0)) best = a;
      this.stepActor(best);
      if (changeAt.has(this.steps)) prio.set(best, lowest--);
    }
  }

  private endOutcome(): Outcome {
    // Kernel threads idle for lack of work (pending.idle) do not keep a run from being done.
    const waiting = this.actors.filter((a) => !a.done && a.pending.idle !== true);
    if (waiting.length === 0) return { kind: 'done', steps: this.steps };
    const blocked = waiting.map((a) => ({
      actor: a.name,
      waitingFor: a.pending.label,
      ownWork: this.world.pendingWork(a.name),
    }));
    const cycle = this.waitCycle(waiting);
    return cycle === null
      ? { kind: 'deadlock', steps: this.steps, blocked }
      : { kind: 'deadlock', steps: this.steps, blocked, cycle };
  }

  /**
   * The wait-for graph of the blocked actors: each points at the actors its
   * wait names (a mutex's holder, the readers a grace period waits for, the
   * tasks whose work would drop a count). Returns the first cycle found, or
   * null when every chain ends at someone not waiting (e.g. a lock held by
   * an actor that died of an oops).
   */
  private waitCycle(waiting: readonly Actor[]): CycleLink[] | null {
    const byName = new Map(waiting.map((a) => [a.name, a]));
    const waits = new Map(
      waiting.map((a) => [a.name, a.pending.blockers?.() ?? { actors: [], what: a.pending.label }]),
    );
    const done = new Set<string>();
    const find = (name: string, path: string[]): string[] | null => {
      const at = path.indexOf(name);
      if (at >= 0) return path.slice(at);
      if (done.has(name)) return null;
      for (const next of waits.get(name)?.actors ?? []) {
        if (!byName.has(next)) continue;
        const found = find(next, [...path, name]);
        if (found !== null) return found;
      }
      done.add(name);
      return null;
    };
    for (const a of waiting) {
      const names = find(a.name, []);
      if (names === null) continue;
      return names.map((name) => ({
        actor: name,
        holds: this.world.trace.lockdep.heldBy(name).map((h) => h.lock),
        waits: `${waits.get(name)?.what ?? '?'}`,
      }));
    }
    return null;
  }

  /** Runs `op` alone to completion and returns its result; throws if it blocks (a test helper). */
  runAlone<T>(name: string, op: Op<T>, proc: Process | null = null): T {
    const actor = this.add(name, op, proc);
    while (!actor.done) {
      const ready = this.runnable();
      if (ready.length === 0) throw new Error(`${name} blocked on: ${actor.pending.label}`);
      // Other actors (io-wq, task work) spawned by `op` run after it, in order.
      this.stepActor(ready.includes(actor) ? actor : (ready[0] as Actor));
    }
    if (actor.oops !== null) throw new Error(`${name} oopsed: ${actor.oops}`);
    return actor.result as T;
  }
}

/** One line for a wait-for cycle: "a0 holds X, waits Y held by b -> b ...". */
export function waitCycleText(cycle: readonly CycleLink[]): string {
  return cycle
    .map(
      (l) =>
        `${l.actor}${l.holds.length > 0 ? ` holds ${l.holds.join(', ')},` : ''} waits ${l.waits}`,
    )
    .join(' -> ');
}
