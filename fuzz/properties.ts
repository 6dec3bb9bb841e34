// The safety properties of issue 6, each a check of one finished run: the
// trace (what the kernel model did) against the fuzz log (what each caller
// meant). A check returns null when the property holds in this run, or one
// line saying how it broke. Nothing here knows a design by name.

import type { DesignDef } from '../designs/design.js';
import { describeBasis, describeCreds, NO_PRIVILEGE } from '../designs/kernel/creds.js';
import { orderCycleText } from '../designs/kernel/lockdep.js';
import type { TraceEntry } from '../designs/kernel/trace.js';
import { type CycleLink, waitCycleText } from '../designs/scheduler.js';
import type { Observation } from './simulate.js';

export const PROPERTIES = [
  'hijack',
  'stale-id',
  'consistency',
  'pairing',
  'use-after-free',
  'null-call',
  'unregister-liveness',
  'isolation',
  'bounds',
  'completion',
  'crash',
  'deadlock',
] as const;
export type PropertyName = (typeof PROPERTIES)[number];

export const PROPERTY_TEXT: Record<PropertyName, string> = {
  hijack: 'a request only runs programs its submitter registered or was deliberately handed',
  'stale-id': "after a submitter's program is removed, its requests fail",
  consistency: 'prep, issue, fail and cleanup of one request run the same program',
  pairing: 'every successful prep is followed by exactly one cleanup of the same program',
  'use-after-free': 'no callback runs on a freed program',
  'null-call': 'no request calls a callback pointer read as NULL (an oops)',
  'unregister-liveness': 'an unregister finishes although others keep submitting',
  isolation: 'another namespace cannot make a registration fail',
  bounds: 'no id from userspace reaches memory outside its table',
  completion: 'every submitted request gets exactly one CQE',
  crash: 'the kernel never dereferences NULL outside a callback (e.g. fget() with no files table)',
  deadlock: 'until every actor is done, some actor can make progress',
};

/**
 * New requests a program may admit while its unregister is under way before
 * we call the unregister starved: two per actor (each can be queued once on
 * each lock the unregister waits for) plus two. A design that stops new
 * requests while unregistering stays far below it; one that admits while
 * any request holds a reference grows past it with the submitters' work.
 */
export function livenessBound(actors: number): number {
  return 2 * actors + 2;
}

type Check = (o: Observation) => string | null;

function callbacksByRequest(o: Observation): Map<number, TraceEntry[]> {
  const by = new Map<number, TraceEntry[]>();
  for (const e of o.m.world.trace.ofKind('callback')) {
    const list = by.get(e.event.request) ?? [];
    list.push(e);
    by.set(e.event.request, list);
  }
  return by;
}

const programOf = (e: TraceEntry) => (e.event.kind === 'callback' ? e.event.program : -1);

function ownerTeam(o: Observation, program: number): number | undefined {
  const p = o.m.world.programs.find((x) => x.id === program);
  return p === undefined ? undefined : o.log.teams.get(p.ownerPid);
}

/**
 * The party that broke the property and what that took, from what it did
 * in this run: the owner of a program that ran where it should not, and
 * what its load passed (kernel/creds.ts structOpsLoad); or the submitter of
 * an SQE at a name it never registered, which needed nothing
 * (io_uring_setup/enter check no capability).
 */
function culprit(o: Observation, pid: number, program: number | null): string {
  const proc = o.m.world.processes.find((p) => p.pid === pid);
  const held = proc === undefined ? 'unknown' : describeCreds(proc.creds);
  const prog = program === null ? undefined : o.m.world.programs.find((p) => p.id === program);
  if (prog === undefined)
    return `the submitter ${proc?.name ?? pid} only submitted an SQE (held: ${held}); needed: ${NO_PRIVILEGE}`;
  return `prog${prog.id}'s owner ${proc?.name ?? pid} loaded it (held: ${held}); needed: ${describeBasis(prog.loadedWith)}`;
}

const hijack: Check = (o) => {
  const cbs = callbacksByRequest(o);
  for (const s of o.log.submits) {
    const team = o.log.teams.get(s.pid);
    for (const e of cbs.get(s.request) ?? []) {
      const program = programOf(e);
      if (ownerTeam(o, program) === team || o.log.handed.get(s.pid)?.has(program)) continue;
      // A blind submit took someone else's program; otherwise someone else's program took the submitter's name.
      const owner = o.m.world.programs.find((p) => p.id === program)?.ownerPid ?? -1;
      const who = s.blind === true ? culprit(o, s.pid, null) : culprit(o, owner, program);
      return `request ${s.request} of ${s.actor} ran prog${program}, owned by team ${ownerTeam(o, program)}, not its own team ${team}; ${who}`;
    }
  }
  return null;
};

const staleId: Check = (o) => {
  const cbs = callbacksByRequest(o);
  for (const s of o.log.submits) {
    if (s.intended !== null) continue;
    const ran = cbs.get(s.request) ?? [];
    if (ran.length > 0) {
      return `request ${s.request} of ${s.actor}, on a name it had unregistered, ran prog${programOf(ran[0] as TraceEntry)}`;
    }
  }
  return null;
};

const consistency: Check = (o) => {
  for (const [request, list] of callbacksByRequest(o)) {
    const programs = new Set(list.map(programOf));
    if (programs.size > 1) {
      const seq = list
        .map((e) =>
          e.event.kind === 'callback' ? `${e.event.callback}:prog${e.event.program}` : '',
        )
        .join(', ');
      return `request ${request} ran callbacks of ${programs.size} programs: ${seq}`;
    }
  }
  return null;
};

const pairing: Check = (o) => {
  if (o.outcome.kind !== 'done') return null;
  for (const [request, list] of callbacksByRequest(o)) {
    const prep = list.find(
      (e) => e.event.kind === 'callback' && e.event.callback === 'prep' && e.event.ret === 0,
    );
    if (prep === undefined) continue;
    // A program without cleanup_fn asked for no cleanup.
    if (o.m.world.programs.find((p) => p.id === programOf(prep))?.has('cleanup') === false)
      continue;
    const cleanups = list.filter(
      (e) => e.event.kind === 'callback' && e.event.callback === 'cleanup',
    );
    if (cleanups.length !== 1)
      return `request ${request}: successful prep, then ${cleanups.length} cleanups`;
    if (programOf(cleanups[0] as TraceEntry) !== programOf(prep))
      return `request ${request}: cleanup ran another program`;
  }
  return null;
};

const useAfterFree: Check = (o) => {
  const e = o.m.world.trace.ofKind('callback').find((x) => x.event.freed);
  return e === undefined
    ? null
    : `${e.event.callback} of request ${e.event.request} ran on freed prog${e.event.program} (by ${e.actor})`;
};

const nullCall: Check = (o) => {
  const e = o.m.world.trace.ofKind('null-call')[0];
  return e === undefined
    ? null
    : `${e.event.callback} of request ${e.event.request} called a NULL pointer in ${e.event.where} (by ${e.actor})`;
};

const liveness: Check = (o) => {
  const preps = o.m.world.trace
    .ofKind('callback')
    .filter((e) => e.event.callback === 'prep' && e.event.ret === 0);
  const history = o.m.scheduler.history;
  for (const u of o.log.unregisters) {
    const end = u.endSeq ?? Number.POSITIVE_INFINITY;
    // Only admissions while the unregister was blocked count: a step the scheduler simply gave
    // to someone else is the scheduler's choice, not the design's. A place in a mutex's queue
    // does not count either: its wait ends after those ahead of it (the global update_mutex
    // behind another detach), however many requests come in meanwhile.
    const starving = (step: number) => {
      const entry = history[step];
      return entry?.waiting.includes(u.actor) === true && !entry.queued.includes(u.actor);
    };
    const admitted = preps.filter(
      (e) => e.event.program === u.program && e.seq > u.startSeq && e.seq < end && starving(e.step),
    ).length;
    if (
      admitted > livenessBound(o.m.scheduler.actors.filter((a) => a.name.startsWith('a')).length)
    ) {
      return `unregister of prog${u.program} by ${u.actor} let ${admitted} new requests in ${u.endSeq === null ? 'and never finished' : 'before finishing'}`;
    }
    // A run that ended blocked is the deadlock property's; here only starvation: others kept running.
    if (u.endSeq === null && o.outcome.kind === 'step-limit') {
      return `unregister of prog${u.program} by ${u.actor} never finished in ${o.outcome.steps} steps while others ran`;
    }
  }
  return null;
};

const isolation: Check = (o) => {
  const trace = o.m.world.trace.all();
  for (const r of o.log.registers) {
    if (r.errno === null || r.ns !== 0) continue;
    // The slot the failed registration looked at, and who held it.
    const reads = trace
      .slice(r.startSeq, r.endSeq)
      .filter(
        (e) => e.actor === r.actor && e.event.kind === 'slot-read' && e.event.program !== null,
      );
    const last = reads.at(-1);
    const holder = last?.event.kind === 'slot-read' ? last.event.program : null;
    if (holder === null) continue;
    const owner = o.m.world.programs.find((p) => p.id === holder);
    const ownerNs = o.m.world.processes.find((p) => p.pid === owner?.ownerPid)?.ns;
    if (ownerNs !== undefined && ownerNs !== r.ns) {
      return `${r.actor}'s registration failed with ${r.errno}: the slot held prog${holder} of namespace ${ownerNs}; ${culprit(o, owner?.ownerPid ?? -1, holder)}`;
    }
  }
  return null;
};

const bounds: Check = (o) => {
  const e = o.m.world.trace.ofKind('out-of-bounds')[0];
  return e === undefined
    ? null
    : `${e.actor}: ${e.event.access} of ${e.event.table} at index ${e.event.index}, past its ${e.event.size} entries`;
};

const completion: Check = (o) => {
  const cqes = new Map<number, number>();
  for (const e of o.m.world.trace.ofKind('cqe'))
    cqes.set(e.event.request, (cqes.get(e.event.request) ?? 0) + 1);
  for (const s of o.log.submits) {
    const n = cqes.get(s.request) ?? 0;
    const req = o.m.world.requests.find((r) => r.id === s.request);
    if (n > 1) return `request ${s.request} got ${n} CQEs`;
    if (req?.state === 'parked')
      return `request ${s.request} will never complete (issue returned IOU_ISSUE_SKIP_COMPLETE)`;
    if (n === 0 && o.outcome.kind === 'done') return `request ${s.request} got no CQE`;
  }
  return null;
};

const crash: Check = (o) => {
  const e = o.m.world.trace.ofKind('null-deref')[0];
  return e === undefined ? null : `${e.actor}: kernel NULL dereference in ${e.event.where}`;
};

/**
 * Who raised each kind of lock cycle the models find, for the reports. A
 * cycle's kind comes from the locks in it, not from the design it ran on.
 */
export const CYCLE_SOURCES: readonly {
  readonly kind: string;
  /** The locks of the cycle, and how many actors it goes through (0 for a lock-order cycle). */
  readonly matches: (locks: readonly string[], actors: number) => boolean;
  readonly raised: string;
}[] = [
  {
    // per-ctx: the unregistering thread's own task work frees the request holding the count.
    kind: 'a task waits for its own task work',
    matches: (_locks, actors) => actors === 1,
    raised: 'new',
  },
  {
    kind: 'srcu read section vs uring_lock',
    matches: (locks) =>
      locks.some((l) => l.endsWith('read section')) && locks.some((l) => l.endsWith('.uring_lock')),
    // Caleb asked for synchronize_srcu() after the uring_locks are dropped, for latency
    // (CADUfDZrCvqR-...); that would also break this cycle, but the cycle itself was not raised.
    raised:
      'new (moving synchronize_srcu() out from under the uring_locks, which Caleb suggested for latency in CADUfDZrCvqR-1HConMx_xPQMgNPwn=jCDpbNBfqWrPucU3krzg@mail.gmail.com, would break it)',
  },
  {
    kind: 'update_mutex vs a refcount wait',
    matches: (locks) =>
      locks.includes('update_mutex') && locks.some((l) => l.endsWith('.refcount')),
    raised: 'new',
  },
  {
    kind: 'uring_locks of several rings out of order',
    matches: (locks) => new Set(locks.filter((l) => l.endsWith('.uring_lock'))).size >= 2,
    raised:
      'Caleb Sander Mateos, CADUfDZrCvqR-1HConMx_xPQMgNPwn=jCDpbNBfqWrPucU3krzg@mail.gmail.com (lock_two_rings)',
  },
];

/** "[kind; raised by ...]" for a cycle through `locks`, or '' for a kind nobody is credited with. */
export function cycleSource(locks: readonly string[], actors = 0): string {
  const found = CYCLE_SOURCES.find((c) => c.matches(locks, actors));
  return found === undefined ? '' : ` [${found.kind}; raised: ${found.raised}]`;
}

/** The lock names a wait-for cycle goes through: what its actors hold and the ones their waits name. */
function cycleLocks(cycle: readonly CycleLink[]): string[] {
  return cycle.flatMap((l) => [
    ...l.holds,
    ...(l.waits.match(/[\w#.[\]]+(\.uring_lock|\.refcount|read section|_mutex)/g) ?? []),
  ]);
}

/**
 * No actor can run and some are not done: the wait-for cycle when there is
 * one; else each waiter, what it waits for, and the task work it holds up.
 * A run that ended but took locks in an order that can close a cycle fails
 * too ("possible deadlock", as lockdep splats on the order alone).
 */
const deadlock: Check = (o) => {
  if (o.outcome.kind !== 'deadlock') {
    const order = o.m.world.trace.ofKind('lock-order')[0];
    if (order === undefined) return null;
    const locks = order.event.cycle.map((e) => e.from);
    return `possible deadlock: lock order ${orderCycleText(order.event.cycle)}${cycleSource(locks)}`;
  }
  const cycle = o.outcome.cycle;
  if (cycle !== undefined)
    return `deadlock: ${waitCycleText(cycle)} -> ${cycle[0]?.actor}${cycleSource(cycleLocks(cycle), cycle.length)}`;
  const waiters = o.outcome.blocked.map(
    (b) =>
      `${b.actor} waits at '${b.waitingFor}'${b.ownWork > 0 ? ` with ${b.ownWork} task work item(s) of its own queued` : ''}`,
  );
  return `deadlock: ${waiters.join('; ')}`;
};

export const CHECKS: Record<PropertyName, Check> = {
  hijack,
  'stale-id': staleId,
  consistency,
  pairing,
  'use-after-free': useAfterFree,
  'null-call': nullCall,
  'unregister-liveness': liveness,
  isolation,
  bounds,
  completion,
  crash,
  deadlock,
};

/** Why a property cannot be checked for a design, or null when it can. */
export function notApplicable(design: DesignDef, property: PropertyName): string | null {
  if (property === 'bounds' && design.nameKind === 'fd') {
    return 'no table indexed by a userspace id: fds are looked up in the fd table, which the model cannot overrun';
  }
  return null;
}
