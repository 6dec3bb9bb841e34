// Shared test setup: a machine with one process, one ring and one loaded
// program, built through the same syscalls a caller would use.

import type { DesignDef, RegisterArgs, Registration } from '../designs/design.js';
import type { Result } from '../designs/kernel/errno.js';
import { Machine } from '../designs/machine.js';
import type { Actor } from '../designs/scheduler.js';
import { type Process, type ProgramSpec, programSpec } from '../designs/world.js';

/** The value of a successful result; throws naming the errno otherwise. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.errno}`);
  return result.value;
}

/** The errno of a failed result; throws if it succeeded. */
export function errnoOf<T>(result: Result<T>): string {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.errno;
}

/** Registration arguments that name `id` where the design takes one. */
export function argsFor(design: DesignDef, progFd: number, ringFd: number, id = 3): RegisterArgs {
  return design.idRange === null ? { progFd, ringFd } : { progFd, ringFd, id };
}

export interface Setup {
  readonly m: Machine;
  readonly proc: Process;
  readonly ringFd: number;
  readonly progFd: number;
}

/** A machine, a process with CAP_BPF, a ring (with the design's setup flag) and a loaded program. */
export function setup(design: DesignDef, spec: ProgramSpec = programSpec('prog')): Setup {
  const m = new Machine(design);
  const proc = m.world.createProcess({ name: 'server' });
  const ringFd = unwrap(m.run(proc, m.uring.setup(proc, { bpf: design.setupFlag !== null })));
  const progFd = unwrap(m.run(proc, m.world.loadProgram(proc, spec)));
  return { m, proc, ringFd, progFd };
}

/** setup() plus a registration of the program. */
export function registered(
  design: DesignDef,
  spec: ProgramSpec = programSpec('prog'),
  id = 3,
): Setup & { readonly reg: Registration } {
  const s = setup(design, spec);
  const reg = unwrap(
    s.m.run(s.proc, s.m.ops.register(s.proc, argsFor(design, s.progFd, s.ringFd, id))),
  );
  return { ...s, reg };
}

/** Submits one SQE naming `reg` and settles every actor; returns the CQE res (null if none). */
export function submitAndSettle(
  s: Setup & { readonly reg: Registration },
  userData: number,
  async = false,
): number | null {
  const { m, proc, ringFd } = s;
  unwrap(m.run(proc, m.uring.submit(proc, ringFd, m.sqe(s.reg.name, userData, async))));
  const outcome = m.settle();
  if (outcome.kind !== 'done') throw new Error(`actors did not finish: ${JSON.stringify(outcome)}`);
  const ring = m.world.rings[0];
  const cqe = ring?.cq.find((c) => c.userData === userData);
  return cqe === undefined ? null : cqe.res;
}

/** The callbacks (program id and name) that ran for request `request`, in order. */
export function callbacksOf(m: Machine, request: number): string[] {
  return m.world.trace
    .ofKind('callback')
    .filter((e) => e.event.request === request)
    .map((e) => `${e.event.callback}:prog${e.event.program}`);
}

/** Steps `actor` alone until its next step is `label` (a prefix); throws if it finishes or blocks first. */
export function stepUntil(m: Machine, actor: Actor, label: string): void {
  while (!actor.pending.label.startsWith(label)) {
    if (actor.done) throw new Error(`${actor.name} finished before reaching '${label}'`);
    if (!m.scheduler.runnable().includes(actor)) {
      throw new Error(
        `${actor.name} blocked on '${actor.pending.label}' before reaching '${label}'`,
      );
    }
    m.scheduler.stepActor(actor);
  }
}

/** Steps `actor` alone to the end; throws if it blocks. */
export function finish(m: Machine, actor: Actor): unknown {
  while (!actor.done) {
    if (!m.scheduler.runnable().includes(actor))
      throw new Error(`${actor.name} blocked on '${actor.pending.label}'`);
    m.scheduler.stepActor(actor);
  }
  return actor.result;
}
