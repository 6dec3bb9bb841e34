// Makes a counterexample readable after fast-check has shrunk it. The
// scenario arbitrary is built with .chain(), which fast-check shrinks
// poorly, so bystanders stay in: actors that take no part, processes no
// actor uses, requests and preemption points the failure does not need. A
// greedy pass removes them one at a time, keeping each removal after which
// the run still fails. Then a binary search over the scheduler's step limit
// finds the step at which the failure shows.

import type { Scenario } from './scenario.js';
import type { Observation } from './simulate.js';

/** Runs a scenario (cut off after `maxSteps` steps when given). */
export type Runner = (scenario: Scenario, maxSteps?: number) => Observation;

/** Candidates the greedy pass may try on one counterexample: it stops there, still failing. */
export const MINIMIZE_BUDGET = 600;

/** A scenario's actors as one run created them (`Scenario.priorities` is indexed by that order). */
interface RunShape {
  /** Scenario actor i's index in creation order (the actor named `a<i>:...`), or -1. */
  readonly actorIndex: readonly number[];
  /** Process p's setup actors (created before any scenario actor, in its context). */
  readonly setupOf: (process: number) => readonly number[];
  readonly names: readonly string[];
  /** The actor of every step. */
  readonly stepActors: readonly string[];
}

/** Read from a run, so it follows whatever simulate() creates. */
function shapeOf(scenario: Scenario, o: Observation): RunShape {
  const actors = o.m.scheduler.actors;
  const actorIndex = scenario.actors.map((_, i) =>
    actors.findIndex((a) => a.name.startsWith(`a${i}:`)),
  );
  const firstScenarioActor = Math.min(...actorIndex.filter((i) => i >= 0), actors.length);
  const setupOf = (process: number) => {
    const proc = o.m.world.processes[process];
    return actors.flatMap((a, i) =>
      i < firstScenarioActor && proc !== undefined && a.proc === proc ? [i] : [],
    );
  };
  return {
    actorIndex,
    setupOf,
    names: actors.map((a) => a.name),
    stepActors: o.m.scheduler.history.map((h) => h.actor),
  };
}

const without = <T>(list: readonly T[], drop: readonly number[]): T[] =>
  list.filter((_, i) => !drop.includes(i));

/**
 * Change points moved down by the steps the actors at `gone` (creation
 * indexes) took before each, so that the rest of the run keeps its
 * interleaving as far as it can. A change point counts the steps run so far.
 */
function shiftedChanges(scenario: Scenario, shape: RunShape, gone: readonly number[]): number[] {
  const names = new Set(gone.map((i) => shape.names[i]));
  return scenario.changes.map((c) => {
    const before = shape.stepActors.slice(0, c).filter((a) => names.has(a)).length;
    return Math.max(1, c - before);
  });
}

/** `scenario` without actor `i` (and its priority entry), with its change points shifted or not. */
function dropActor(scenario: Scenario, i: number, shape: RunShape, shift: boolean): Scenario {
  const index = shape.actorIndex[i] ?? -1;
  const gone = index < 0 ? [] : [index];
  return {
    ...scenario,
    actors: without(scenario.actors, [i]),
    priorities: without(scenario.priorities, gone),
    changes: shift ? shiftedChanges(scenario, shape, gone) : scenario.changes,
  };
}

/** `scenario` without process `p`, which no actor uses; its setup actors' priorities go too. */
function dropProcess(scenario: Scenario, p: number, shape: RunShape, shift: boolean): Scenario {
  const gone = shape.setupOf(p);
  return {
    ...scenario,
    processes: without(scenario.processes, [p]),
    actors: scenario.actors.map((a) => (a.process > p ? { ...a, process: a.process - 1 } : a)),
    priorities: without(scenario.priorities, gone),
    changes: shift ? shiftedChanges(scenario, shape, gone) : scenario.changes,
  };
}

function dropRequest(scenario: Scenario, actor: number, request: number): Scenario {
  return {
    ...scenario,
    actors: scenario.actors.map((a, i) =>
      i === actor ? { ...a, requests: without(a.requests, [request]) } : a,
    ),
  };
}

function dropChange(scenario: Scenario, change: number): Scenario {
  return { ...scenario, changes: without(scenario.changes, [change]) };
}

export interface Minimized {
  readonly scenario: Scenario;
  /** Removals kept. */
  readonly removed: number;
  /** Candidates tried (each a run, two for a planted bug). */
  readonly runs: number;
}

/**
 * Removes, greedily and deterministically, each actor, each process no
 * actor uses, each request of each actor, then each change point, keeping a
 * removal when `fails` still holds; repeats until a whole pass removes
 * nothing or `budget` candidates have been tried. At least one actor, one
 * process and one request per actor stay, as the generator makes them.
 * `fails` must hold for `scenario`; a candidate that makes the model throw
 * is not kept.
 */
export function minimize(
  scenario: Scenario,
  fails: (s: Scenario) => boolean,
  run: Runner,
  budget = MINIMIZE_BUDGET,
): Minimized {
  let current = scenario;
  let removed = 0;
  let tried = 0;
  // How the current scenario runs: one more run, redone after each removal.
  let shape: RunShape | null = null;
  const shapeNow = () => {
    shape ??= shapeOf(current, run(current));
    return shape;
  };
  // Removing an actor or a process shifts the steps after it: first try with the change
  // points shifted to keep the interleaving, then as they were.
  const keepsEither = (drop: (shift: boolean) => Scenario) => {
    const shifted = drop(true);
    const unshifted = drop(false);
    const same = shifted.changes.every((c, k) => c === unshifted.changes[k]);
    return keeps(shifted) || (!same && keeps(unshifted));
  };
  const spent = () => tried >= budget;
  const keeps = (candidate: Scenario): boolean => {
    if (spent()) return false;
    tried += 1;
    try {
      if (!fails(candidate)) return false;
    } catch {
      return false;
    }
    current = candidate;
    shape = null;
    removed += 1;
    return true;
  };
  let progress = true;
  while (progress && !spent()) {
    progress = false;
    for (let i = 0; current.actors.length > 1 && i < current.actors.length && !spent(); ) {
      const now = shapeNow();
      if (keepsEither((shift) => dropActor(current, i, now, shift))) progress = true;
      else i += 1;
    }
    for (let p = 0; current.processes.length > 1 && p < current.processes.length && !spent(); ) {
      if (current.actors.some((a) => a.process === p)) p += 1;
      else {
        const now = shapeNow();
        if (keepsEither((shift) => dropProcess(current, p, now, shift))) progress = true;
        else p += 1;
      }
    }
    for (let a = 0; a < current.actors.length && !spent(); a += 1) {
      for (let r = 0; r < (current.actors[a]?.requests.length ?? 0) && !spent(); ) {
        if ((current.actors[a]?.requests.length ?? 0) <= 1) break;
        if (keeps(dropRequest(current, a, r))) progress = true;
        else r += 1;
      }
    }
    for (let c = 0; c < current.changes.length && !spent(); ) {
      if (keeps(dropChange(current, c))) progress = true;
      else c += 1;
    }
  }
  return { scenario: current, removed, runs: tried };
}

/**
 * The first scheduler step at which `check` reports what it reports on the
 * whole run: the smallest step limit k whose cut-off run gives the same
 * message, found by binary search; the step is k - 1 (steps count from 0).
 * The same message, not any failure: a run cut off early looks unfinished,
 * and a property about the end (every request completed, an unregister
 * finished) would call that a failure. Such a property fails only on the
 * whole run, so its step is the last one. Null when the run does not fail.
 */
export function violationStep(
  scenario: Scenario,
  check: (o: Observation) => string | null,
  run: Runner,
): number | null {
  const full = run(scenario);
  const message = check(full);
  if (message === null) return null;
  // Setup steps (io_uring_setup of every process) run whatever the limit: the search starts after them.
  const setup = run(scenario, 0);
  if (check(setup) === message) return Math.max(0, setup.m.scheduler.history.length - 1);
  // Invariant: cut off after `high` steps the run reports `message`; after `low` it does not.
  let low = setup.m.scheduler.history.length;
  let high = full.m.scheduler.history.length;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (check(run(scenario, mid)) === message) high = mid;
    else low = mid;
  }
  return high - 1;
}
