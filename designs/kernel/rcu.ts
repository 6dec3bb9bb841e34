// Read-side sections and grace periods, shared by SRCU (srcu.ts) and the
// grace period a struct_ops map's free waits for (RcuTasks below). A grace
// period waits only for the readers that were inside a section when it
// started; readers that start later do not delay it.

import type { Op } from './step.js';
import type { Trace } from './trace.js';

/** The readers inside one flavour's read-side sections, by token. */
export class ReadSections {
  /** Open sections: token -> the actor inside it (who a grace period waits for). */
  private readonly readers = new Map<number, string>();
  private nextToken = 1;

  constructor(readonly name: string) {}

  /** Enters a section for `actor`; returns its token. */
  enter(actor = ''): number {
    const token = this.nextToken++;
    this.readers.set(token, actor);
    return token;
  }

  /** Leaves the section `token` opened; leaving one that is not open is a model bug. */
  leave(token: number): void {
    if (!this.readers.delete(token))
      throw new Error(`BUG: ${this.name}: read section ${token} is not open`);
  }

  /** The actors still inside the sections `tokens` (for deadlock reports). */
  actorsIn(tokens: readonly number[]): string[] {
    const inside = tokens.flatMap((t) => {
      const actor = this.readers.get(t);
      return actor === undefined ? [] : [actor];
    });
    return [...new Set(inside)];
  }

  /** The number of readers inside a section now. */
  get active(): number {
    return this.readers.size;
  }

  /** The readers a grace period starting now waits for. */
  snapshot(): number[] {
    return [...this.readers.keys()];
  }

  /** True once every reader in `tokens` has left. */
  allLeft(tokens: readonly number[]): boolean {
    return tokens.every((t) => !this.readers.has(t));
  }
}

/**
 * RCU plus RCU-tasks, as bpf_struct_ops_map_free() waits for them
 * (kernel/bpf/bpf_struct_ops.c: synchronize_rcu_mult(call_rcu, call_rcu_tasks)
 * before __bpf_struct_ops_map_free() frees the trampoline pages and the map;
 * a plain bpf_prog's free goes through call_rcu too, kernel/bpf/syscall.c
 * __bpf_prog_put_noref()). A reader is a task between loading a callback
 * pointer and returning from the call: the RCU-tasks grace period cannot end
 * while a task preempted there has not passed a voluntary context switch. A
 * pointer kept past that window (cached across a sleep, left in a table) is
 * not a reader and is not waited for.
 */
export class RcuTasks {
  private readonly sections = new ReadSections('rcu+rcu_tasks');

  constructor(private readonly trace: Trace) {}

  /** Opens the running actor's window: it has just loaded a callback pointer. */
  readLock(): number {
    return this.sections.enter(this.trace.actor);
  }

  /** Closes the window `token` opened: the call has returned. */
  readUnlock(token: number): void {
    this.sections.leave(token);
  }

  /** The number of open windows. */
  get activeReaders(): number {
    return this.sections.active;
  }

  /** synchronize_rcu_mult(call_rcu, call_rcu_tasks): waits for every window open at its start. */
  *synchronize(): Op<void> {
    yield { label: 'synchronize_rcu_mult(call_rcu, call_rcu_tasks)' };
    // Planted bug (rcu-no-grace): the free does not wait for callers still inside the program.
    const waitsFor = this.trace.mutations.has('rcu-no-grace') ? [] : this.sections.snapshot();
    this.trace.emit({ kind: 'grace-period-start', domain: this.sections.name, waitsFor });
    yield {
      label: 'synchronize_rcu_mult: grace period',
      ready: () => this.sections.allLeft(waitsFor),
      blockers: () => {
        const actors = this.sections.actorsIn(waitsFor);
        return { actors, what: `an RCU-tasks grace period for ${actors.join(', ')}` };
      },
    };
    this.trace.emit({ kind: 'grace-period-end', domain: this.sections.name });
  }
}
