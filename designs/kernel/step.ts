// Atomic steps. Every kernel operation in the models is a generator: the code
// between two `yield`s runs as one atomic step, and each `yield` is a point
// where the scheduler may run another actor first. A step that must wait
// (a held mutex, an SRCU grace period, a refcount that must drop to zero)
// yields a `ready` predicate; the scheduler only resumes it once that holds.
//
// The convention throughout: a yield comes BEFORE the action it names, so the
// label of an actor's pending step says what it will do next.

/** Who must act for a waiting step to proceed, and what it waits for (for deadlock reports). */
export interface Blockers {
  /** Actors that must act (a mutex's holder, the readers a grace period waits for, ...). */
  readonly actors: readonly string[];
  /** What the wait is, e.g. "ring#2.uring_lock held by a0". */
  readonly what: string;
}

/** A preemption point: what the actor does next, and when it may do it. */
export interface Step {
  readonly label: string;
  /** Absent: runnable now. Present: runnable only while it returns true. */
  readonly ready?: () => boolean;
  /** For a wait: who it waits for, asked only when a run ends blocked. */
  readonly blockers?: () => Blockers;
  /**
   * A place in a first-come, first-served queue (a mutex's waiters): the
   * wait ends after the actors ahead of it, whatever anyone else submits.
   */
  readonly queued?: boolean;
  /**
   * A kernel thread idle until there is work (an SQPOLL thread): when only
   * such waits are left, the run is over, not deadlocked.
   */
  readonly idle?: boolean;
}

/** An operation made of atomic steps that finally returns T. */
export type Op<T> = Generator<Step, T, void>;

/** Yields one preemption point before the caller's next action. */
export function* at(label: string): Op<void> {
  yield { label };
}

/** Yields until `ready()` holds; the caller's next action runs while it still holds. */
export function* waitUntil(
  label: string,
  ready: () => boolean,
  blockers?: () => Blockers,
): Op<void> {
  yield blockers === undefined ? { label, ready } : { label, ready, blockers };
}

/** waitUntil() for a kernel thread's idle wait: not a deadlock when nothing else is left. */
export function* idleUntil(label: string, ready: () => boolean): Op<void> {
  yield { label, ready, idle: true };
}
