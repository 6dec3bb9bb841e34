// The event trace: every lock, slot access, reference change, callback and
// completion, in the order the scheduler ran them. Fuzz properties and tests
// read it; it is the model's observable behaviour.

import { LockDep, type OrderEdge } from './lockdep.js';

export type Callback = 'prep' | 'issue' | 'fail' | 'cleanup';

export type TraceEvent =
  | { readonly kind: 'lock'; readonly lock: string }
  | { readonly kind: 'unlock'; readonly lock: string }
  | { readonly kind: 'srcu-read-lock'; readonly srcu: string; readonly token: number }
  | { readonly kind: 'srcu-read-unlock'; readonly srcu: string; readonly token: number }
  | {
      readonly kind: 'srcu-sync-start';
      readonly srcu: string;
      readonly waitsFor: readonly number[];
    }
  | { readonly kind: 'srcu-sync-end'; readonly srcu: string }
  | {
      readonly kind: 'grace-period-start';
      readonly domain: string;
      readonly waitsFor: readonly number[];
    }
  | { readonly kind: 'grace-period-end'; readonly domain: string }
  | {
      readonly kind: 'slot-read';
      readonly table: string;
      readonly index: number;
      readonly program: number | null;
      /** The struct member accessed, for tables of structs written member by member. */
      readonly field?: string;
    }
  | {
      readonly kind: 'slot-write';
      readonly table: string;
      readonly index: number;
      readonly program: number | null;
      readonly field?: string;
    }
  | {
      readonly kind: 'out-of-bounds';
      readonly table: string;
      readonly index: number;
      readonly size: number;
      readonly access: 'read' | 'write';
    }
  | {
      readonly kind: 'ref';
      readonly object: string;
      readonly delta: number;
      readonly value: number;
    }
  | { readonly kind: 'ref-underflow'; readonly object: string; readonly value: number }
  | {
      readonly kind: 'callback';
      readonly request: number;
      readonly program: number;
      readonly callback: Callback;
      /** True when the program had already been freed: a use after free. */
      readonly freed: boolean;
      /** What the callback returned (prep and issue); 0 for fail and cleanup. */
      readonly ret: number;
    }
  | {
      readonly kind: 'null-call';
      readonly request: number;
      readonly callback: Callback;
      readonly where: string;
    }
  | { readonly kind: 'program-loaded'; readonly program: number; readonly pid: number }
  /** The last reference is gone; the memory goes after a grace period (program-freed). */
  | { readonly kind: 'program-released'; readonly program: number }
  | { readonly kind: 'program-freed'; readonly program: number }
  | {
      readonly kind: 'fd-install';
      readonly pid: number;
      readonly fd: number;
      readonly file: string;
    }
  | { readonly kind: 'fd-close'; readonly pid: number; readonly fd: number; readonly file: string }
  | { readonly kind: 'file-release'; readonly file: string }
  | {
      readonly kind: 'unregistered';
      readonly design: string;
      readonly program: number;
      readonly name: string;
      readonly ret: number;
    }
  | {
      readonly kind: 'sqe';
      readonly request: number;
      readonly ring: number;
      readonly pid: number;
      readonly userData: number;
      readonly async: boolean;
    }
  | { readonly kind: 'punt'; readonly request: number }
  | { readonly kind: 'skip-complete'; readonly request: number }
  | {
      readonly kind: 'cqe';
      readonly request: number;
      readonly ring: number;
      readonly userData: number;
      readonly res: number;
    }
  | { readonly kind: 'request-freed'; readonly request: number }
  | {
      readonly kind: 'ring-created';
      readonly ring: number;
      readonly pid: number;
      readonly bpf: boolean;
    }
  | { readonly kind: 'ring-freed'; readonly ring: number }
  | { readonly kind: 'process-exit'; readonly pid: number }
  /** The kernel dereferenced NULL outside a callback (an oops; the task died there). */
  | { readonly kind: 'null-deref'; readonly where: string }
  /** A lock-order edge closed a cycle (lockdep.ts): a possible deadlock, whether or not this run hit it. */
  | { readonly kind: 'lock-order'; readonly cycle: readonly OrderEdge[] }
  /** An io_uring completion was queued as task work of `task` (or of a kworker: fallback). */
  | {
      readonly kind: 'task-work';
      readonly task: string;
      readonly request: number;
      readonly what: string;
    };

export interface TraceEntry {
  readonly seq: number;
  /** The scheduler step it happened in (0 outside the scheduler). */
  readonly step: number;
  /** The actor that was running when the event happened ('setup' outside any actor). */
  readonly actor: string;
  readonly event: TraceEvent;
}

/** Records events in run order, tagged with the running actor. */
export class Trace {
  private readonly entries: TraceEntry[] = [];
  /** Set by the scheduler while an actor runs. */
  actor = 'setup';
  /** Set by the scheduler: the index of the step running now. */
  step = 0;
  /** False in the model lane's timed loops: events are dropped, not kept. */
  recording = true;
  /**
   * Planted bugs (fuzz/mutants.ts) switched on for this world. The trace is
   * the one context every primitive already holds, so it carries them; an
   * empty set is the model as posted.
   */
  mutations: ReadonlySet<string> = new Set();
  /** Lock-order tracking for this world's locks; here because every lock already holds the trace. */
  readonly lockdep = new LockDep(this);

  /** Appends one event by the running actor. */
  emit(event: TraceEvent): void {
    if (!this.recording) return;
    this.entries.push({ seq: this.entries.length, step: this.step, actor: this.actor, event });
  }

  /**
   * Records a read or write of slot `index` of `table` (of its member `field`
   * where the slot is a struct), naming the program id there (null: empty).
   */
  slot(
    access: 'read' | 'write',
    table: string,
    index: number,
    program: number | null,
    field?: string,
  ): void {
    const kind = access === 'read' ? 'slot-read' : 'slot-write';
    this.emit(
      field === undefined
        ? { kind, table, index, program }
        : { kind, table, index, program, field },
    );
  }

  /** Records an access to index `index` of a `size`-entry table: memory past its end. */
  outOfBounds(access: 'read' | 'write', table: string, index: number, size: number): void {
    this.emit({ kind: 'out-of-bounds', table, index, size, access });
  }

  /** Returns all events so far, oldest first. */
  all(): readonly TraceEntry[] {
    return this.entries;
  }

  /** Returns the events of one kind, oldest first. */
  ofKind<K extends TraceEvent['kind']>(
    kind: K,
  ): (TraceEntry & { event: Extract<TraceEvent, { kind: K }> })[] {
    return this.entries.filter(
      (e): e is TraceEntry & { event: Extract<TraceEvent, { kind: K }> } => e.event.kind === kind,
    );
  }
}
