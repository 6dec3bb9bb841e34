// What real callers do with a design (DESIGN.md section 4, "Userspace
// protocols"), as actor scripts of syscalls. Each records what it meant to
// run in the fuzz log, which is the ground truth the properties check the
// trace against. Nothing here knows a design by name: names come from the
// registration, ids from the design's range, discovery where it has one.

import type { DesignDef, ProgramName, Registration } from '../designs/design.js';
import type { Result } from '../designs/kernel/errno.js';
import { at, type Op } from '../designs/kernel/step.js';
import type { Machine } from '../designs/machine.js';
import { type Process, type Program, programSpec } from '../designs/world.js';
import { type ActorPlan, type ProcessPlan, ringOptions } from './scenario.js';

/** What the submitter believed the name ran: a program id, any program of its team, or nothing (removed). */
export type Intended = number | 'team' | null;

export interface SubmitRecord {
  readonly actor: string;
  readonly pid: number;
  readonly request: number;
  readonly intended: Intended;
  /** Submitted at a name the submitter never registered nor was handed: it only named something. */
  readonly blind?: boolean;
}

export interface RegisterRecord {
  readonly actor: string;
  readonly pid: number;
  readonly ns: number;
  readonly startSeq: number;
  readonly endSeq: number;
  readonly errno: string | null;
}

export interface UnregisterRecord {
  readonly actor: string;
  readonly program: number;
  readonly startSeq: number;
  endSeq: number | null;
}

export class FuzzLog {
  readonly submits: SubmitRecord[] = [];
  readonly registers: RegisterRecord[] = [];
  readonly unregisters: UnregisterRecord[] = [];
  /** Programs deliberately handed to a process (SCM_RIGHTS), by pid. */
  readonly handed = new Map<number, Set<number>>();
  /** Team of each process, by pid. */
  readonly teams = new Map<number, number>();
}

export interface ActorEnv {
  readonly m: Machine;
  readonly design: DesignDef;
  readonly proc: Process;
  readonly ringFd: number;
  readonly plan: ActorPlan;
  readonly log: FuzzLog;
  readonly actor: string;
  /** Every process of the scenario, for fd passing. */
  readonly peers: readonly Process[];
  readonly processPlans: readonly ProcessPlan[];
  /** Fds of every ring of its process, in creation order (ringFd is one of them). Absent: [ringFd]. */
  readonly rings?: readonly number[];
  /** Ring fds of every process of the scenario, by process index (in that process's table). */
  readonly peerRings?: readonly (readonly number[])[];
}

const seq = (env: ActorEnv) => env.m.world.trace.all().length;

/** Thrown into an actor whose process has exited: its threads make no more syscalls. */
export class ProcessExited extends Error {}

/** One syscall by the actor as `proc`, with its deferred work; a thread of an exited process stops here. */
function* sys<T>(env: ActorEnv, op: Op<T>, proc = env.proc): Op<T> {
  if (!proc.alive) throw new ProcessExited(proc.name);
  return yield* env.m.world.userSyscall(proc, op);
}

/** Loads the actor's program; its id, or null when loading failed. */
function* load(env: ActorEnv, proc = env.proc): Op<{ fd: number; program: Program } | null> {
  const p = env.plan.program;
  const spec = programSpec(`${env.actor}`, {
    prep: p.prep,
    issue: { res: p.issueRes, ret: p.issueRet },
    fail: p.fail,
    cleanup: p.cleanup,
    ...(p.memcpy === true ? { memcpy: true } : {}),
  });
  const fd = yield* sys(env, env.m.world.loadProgram(proc, spec), proc);
  if (!fd.ok) return null;
  const program = env.m.world.programs.at(-1) as Program;
  return { fd: fd.value, program };
}

/** The id a victim asks for: near the bottom of the design's range, so that actors collide. */
function victimId(env: ActorEnv): number | undefined {
  const range = env.design.idRange;
  if (range === null) return undefined;
  return range.min + (env.plan.id % Math.min(4, range.max - range.min + 1));
}

/** The lowest id in range that discovery shows free, at or above `from`. */
function* discoverFree(env: ActorEnv, from: number): Op<number> {
  if (env.m.ops.discover === null) return from;
  const used = yield* sys(env, env.m.ops.discover(env.proc));
  if (!used.ok) return from;
  let id = from;
  while (used.value.includes(id)) id++;
  return id;
}

function* register(
  env: ActorEnv,
  progFd: number,
  id: number | undefined,
  proc = env.proc,
  ringFd = env.ringFd,
) {
  const startSeq = seq(env);
  const args = id === undefined ? { progFd, ringFd } : { progFd, ringFd, id };
  const result: Result<Registration> = yield* sys(env, env.m.ops.register(proc, args), proc);
  env.log.registers.push({
    actor: env.actor,
    pid: proc.pid,
    ns: proc.ns,
    startSeq,
    endSeq: seq(env),
    errno: result.ok ? null : result.errno,
  });
  return result;
}

function* submit(
  env: ActorEnv,
  name: ProgramName,
  intended: Intended,
  async: boolean,
  proc = env.proc,
  ringFd = env.ringFd,
  blind = false,
) {
  const r = yield* sys(
    env,
    env.m.uring.submit(proc, ringFd, env.m.sqe(name, env.log.submits.length + 1, async)),
    proc,
  );
  if (r.ok)
    env.log.submits.push({ actor: env.actor, pid: proc.pid, request: r.value, intended, blind });
}

/**
 * Waits for the CQEs of every request this actor submitted on the ring
 * (io_uring_wait_cqe_nr), as a caller does before it tears down what they
 * use. A request that will never complete (parked) is given up on, as a
 * caller with a timeout would.
 */
function* reap(env: ActorEnv, proc = env.proc, ringFd = env.ringFd) {
  // The requests are looked up once: the wait's predicate runs at every scheduler step.
  const mine = env.log.submits
    .filter((s) => s.actor === env.actor && s.pid === proc.pid)
    .map((s) => ({ id: s.request, req: env.m.world.requests.find((r) => r.id === s.request) }));
  yield* sys(
    env,
    env.m.uring.getEvents(proc, ringFd, (ring) =>
      mine.every(
        ({ id, req }) =>
          ring.cq.some((c) => c.request === id) || req?.state === 'parked' || req?.ring !== ring,
      ),
    ),
    proc,
  );
}

/**
 * The plan's one operation between the actor's ring and another (otherRing()):
 * IORING_REGISTER_CLONE_BUFFERS (replacing) into its ring, or a MSG_RING
 * (send fd) carrying `progFd`, after registering both rings' file tables.
 * A MSG_RING goes only to a ring without DEFER_TASKRUN (its remote path is
 * not modelled) and not in a design whose names are fixed-file slots (the
 * file would land in a slot that names programs there).
 */
function* crossRing(env: ActorEnv, progFd: number): Op<void> {
  if (env.plan.crossRing === undefined) return;
  const target = yield* otherRing(env);
  if (target === null) return;
  const other = target.fd;
  const { uring } = env.m;
  if (env.plan.crossRing === 'clone') {
    // IORING_REGISTER_DST_REPLACE: a ring that has buffers takes the other's instead.
    yield* sys(env, uring.cloneBuffers(env.proc, env.ringFd, other, true));
    return;
  }
  if (env.design.nameKind === 'fixed' || target.deferTaskrun) return;
  yield* sys(env, uring.registerFiles(env.proc, env.ringFd, [progFd]));
  yield* sys(env, uring.registerFiles(env.proc, other, []));
  const sqe = {
    bpfOpFlags: 0,
    fd: -1,
    fixedFile: false,
    async: env.plan.requests[0] ?? false,
    userData: 0,
    msgRing: { targetFd: other, srcSlot: 0 },
  };
  yield* sys(env, uring.submit(env.proc, env.ringFd, sqe));
}

/**
 * The ring a cross-ring operation goes to: the next ring of the actor's
 * process, or, for a process with one ring, the first ring of a process of
 * its team, which that process hands over (SCM_RIGHTS) first. Null when
 * there is none.
 */
function* otherRing(env: ActorEnv): Op<{ fd: number; deferTaskrun: boolean } | null> {
  const rings = env.rings ?? [env.ringFd];
  if (rings.length > 1) {
    const fd = rings[(rings.indexOf(env.ringFd) + 1) % rings.length] as number;
    return { fd, deferTaskrun: env.processPlans[env.plan.process]?.deferTaskrun ?? false };
  }
  const team = env.log.teams.get(env.proc.pid);
  const index = env.peers.findIndex(
    (p, i) =>
      p !== env.proc &&
      p.ns === env.proc.ns &&
      env.log.teams.get(p.pid) === team &&
      p.alive &&
      (env.peerRings?.[i]?.length ?? 0) > 0,
  );
  const peer = env.peers[index];
  const peerFd = env.peerRings?.[index]?.[0];
  if (peer === undefined || peerFd === undefined) return null;
  const passed = yield* sys(env, env.m.world.passFd(peer, peerFd, env.proc), peer);
  if (!passed.ok) return null;
  return { fd: passed.value, deferTaskrun: env.processPlans[index]?.deferTaskrun ?? false };
}

function* unregister(env: ActorEnv, reg: Registration, program: number, proc = env.proc) {
  if (!proc.alive) throw new ProcessExited(proc.name);
  const record: UnregisterRecord = { actor: env.actor, program, startSeq: seq(env), endSeq: null };
  env.log.unregisters.push(record);
  yield* sys(env, env.m.ops.unregister(proc, reg), proc);
  record.endSeq = seq(env);
}

/** The bpffs path an actor pins its link at. */
const pinPath = (env: ActorEnv) => `${env.actor}.link`;

/** bpf_obj_pin() of the registration's link, when the plan asks and the design has links; the path or null. */
function* pin(env: ActorEnv, reg: Registration): Op<string | null> {
  if (env.plan.pin !== true || reg.linkFd === null) return null;
  const pinned = yield* sys(env, env.m.world.pinLink(env.proc, reg.linkFd, pinPath(env)));
  return pinned.ok ? pinPath(env) : null;
}

/** Unregisters by unlinking the pin (`rm` in bpffs): returns before the link's ->unreg() runs. */
function* unpin(env: ActorEnv, path: string, program: number, proc = env.proc) {
  if (!proc.alive) throw new ProcessExited(proc.name);
  const record: UnregisterRecord = { actor: env.actor, program, startSeq: seq(env), endSeq: null };
  env.log.unregisters.push(record);
  yield* sys(env, env.m.world.unpinLink(path), proc);
  record.endSeq = seq(env);
}

/**
 * fork() when the plan asks: the child, a thread of its own (an actor),
 * submits once on the inherited ring at `name`, waits for it and exits;
 * until then it holds every file the parent had, link fds included.
 */
function* forkChild(env: ActorEnv, name: ProgramName, intended: Intended): Op<void> {
  if (env.plan.fork !== true) return;
  const forked = yield* sys(env, env.m.world.fork(env.proc));
  if (!forked.ok) return;
  const child = forked.value;
  env.log.teams.set(child.pid, env.log.teams.get(env.proc.pid) ?? 0);
  const childEnv: ActorEnv = { ...env, proc: child, actor: `${env.actor}/child` };
  const script = function* (): Op<void> {
    yield* submit(childEnv, name, intended, false);
    yield* reap(childEnv);
    yield* sys(childEnv, childEnv.m.world.exit(child));
  };
  env.m.world.spawn(childEnv.actor, untilChildExits(script()), child);
}

/** Runs a child's script until it ends or its process is gone. */
function* untilChildExits(op: Op<void>): Op<void> {
  try {
    yield* op;
  } catch (e) {
    if (!(e instanceof ProcessExited)) throw e;
  }
}

/**
 * exclusive: discover (where the design can), register, use, unregister,
 * then one stale probe. With an odd `extra` it closes the program fd right
 * after registering, as a caller does once the link holds the program.
 */
function* exclusive(env: ActorEnv): Op<void> {
  const loaded = yield* load(env);
  if (loaded === null) return;
  const base = victimId(env);
  const id = base === undefined ? undefined : yield* discoverFree(env, base);
  const reg = yield* register(env, loaded.fd, id);
  if (!reg.ok) return;
  yield* forkChild(env, reg.value.name, loaded.program.id);
  // Pinned, the link fd is closed: the pin alone keeps the registration.
  const pinned = yield* pin(env, reg.value);
  if (pinned !== null && reg.value.linkFd !== null)
    yield* sys(env, env.m.world.close(env.proc, reg.value.linkFd));
  yield* crossRing(env, loaded.fd);
  const closeEarly = env.plan.extra % 2 === 1;
  if (closeEarly) yield* sys(env, env.m.world.close(env.proc, loaded.fd));
  for (const async of env.plan.requests)
    yield* submit(env, reg.value.name, loaded.program.id, async);
  yield* reap(env);
  if (pinned === null) yield* unregister(env, reg.value, loaded.program.id);
  else yield* unpin(env, pinned, loaded.program.id);
  // After removing its program, the caller's requests on the old name must fail.
  yield* submit(env, reg.value.name, null, false);
  yield* reap(env);
  if (!closeEarly) yield* sys(env, env.m.world.close(env.proc, loaded.fd));
}

/** shared-by-id: a well-known id; EBUSY means "a sibling registered it", so use it anyway. */
function* sharedById(env: ActorEnv): Op<void> {
  const loaded = yield* load(env);
  if (loaded === null) return;
  if (env.plan.extra % 2 === 1 && env.peers.length > 1) {
    // Hand the program to another process, deliberately, over a socket.
    const to = env.peers[env.plan.extra % env.peers.length] as Process;
    const passed = yield* sys(env, env.m.world.passFd(env.proc, loaded.fd, to));
    if (passed.ok) {
      const set = env.log.handed.get(to.pid) ?? new Set<number>();
      set.add(loaded.program.id);
      env.log.handed.set(to.pid, set);
    }
  }
  const reg = yield* register(env, loaded.fd, victimId(env));
  let name: ProgramName;
  let intended: Intended;
  if (reg.ok) {
    name = reg.value.name;
    intended = loaded.program.id;
  } else if (reg.errno === 'EBUSY' && env.design.idRange !== null) {
    name = { kind: 'id', id: victimId(env) ?? 0 };
    intended = 'team';
  } else {
    return;
  }
  yield* crossRing(env, loaded.fd);
  for (const async of env.plan.requests) yield* submit(env, name, intended, async);
  yield* reap(env);
  // A second thread detaching while others do (BPF_LINK_DETACH serialises on update_mutex).
  if (env.plan.detach === true && reg.ok) yield* unregister(env, reg.value, loaded.program.id);
}

/**
 * restart: register and serve, crash (exit without unregister), then a new
 * process takes over. With `extra` of 2 or more and a sibling process of
 * the same team to act as supervisor, the ring outlives the crash (ublk's
 * user recovery): the server hands its ring fd to the supervisor first, and
 * the restarted server gets it back and, finding its id taken (EBUSY), takes
 * that as its old registration still being there and uses it.
 */
function* restart(env: ActorEnv): Op<void> {
  const loaded = yield* load(env);
  if (loaded === null) return;
  const first = yield* register(env, loaded.fd, victimId(env));
  if (!first.ok) return;
  const pinned = yield* pin(env, first.value);
  yield* forkChild(env, first.value.name, loaded.program.id);
  const half = Math.ceil(env.plan.requests.length / 2);
  for (const async of env.plan.requests.slice(0, half))
    yield* submit(env, first.value.name, loaded.program.id, async);
  const team = env.log.teams.get(env.proc.pid) ?? 0;
  const supervisor =
    env.plan.extra >= 2
      ? env.peers.find(
          (p) => p !== env.proc && p.ns === env.proc.ns && env.log.teams.get(p.pid) === team,
        )
      : undefined;
  const kept =
    supervisor === undefined
      ? null
      : yield* sys(env, env.m.world.passFd(env.proc, env.ringFd, supervisor));
  yield* sys(env, env.m.world.exit(env.proc));
  yield* at('restart');
  const proc = env.m.world.createProcess({
    name: `${env.proc.name}-restarted`,
    ns: env.proc.ns,
    creds: env.proc.creds,
  });
  env.log.teams.set(proc.pid, team);
  const ring =
    supervisor !== undefined && kept?.ok === true
      ? yield* sys(env, env.m.world.passFd(supervisor, kept.value, proc), supervisor)
      : yield* sys(
          env,
          env.m.uring.setup(proc, ringOptions(env.design, env.processPlans[env.plan.process])),
          proc,
        );
  if (!ring.ok) return;
  // The registration outlived the crash in bpffs: the new server removes it before registering again.
  if (pinned !== null) yield* unpin(env, pinned, loaded.program.id, proc);
  const again = yield* load(env, proc);
  if (again === null) return;
  const reg = yield* register(env, again.fd, victimId(env), proc, ring.value);
  let name: ProgramName;
  let intended: Intended = again.program.id;
  if (reg.ok) name = reg.value.name;
  else if (reg.errno === 'EBUSY' && kept?.ok === true && env.design.nameKind === 'id') {
    name = { kind: 'id', id: victimId(env) ?? 0 };
    intended = 'team';
  } else return;
  for (const async of env.plan.requests.slice(half))
    yield* submit(env, name, intended, async, proc, ring.value);
  yield* reap(env, proc, ring.value);
  if (reg.ok) yield* unregister(env, reg.value, again.program.id, proc);
}

/**
 * hostile: register anywhere it likes, flood, unregister, re-register; it
 * also runs what it registered. Without the privilege to load (EPERM) it
 * does what any process can: submit on its own ring at a raw name.
 */
function* hostile(env: ActorEnv): Op<void> {
  const loaded = yield* load(env);
  for (let round = 0; loaded !== null && round <= env.plan.extra; round++) {
    const range = env.design.idRange;
    const id = range === null ? undefined : (env.plan.id + round) % 0x10000;
    const reg = yield* register(env, loaded.fd, id);
    if (!reg.ok) continue;
    for (const async of env.plan.requests)
      yield* submit(env, reg.value.name, loaded.program.id, async);
    yield* reap(env);
    if (round < env.plan.extra) yield* unregister(env, reg.value, loaded.program.id);
  }
  // A probe at a name it never registered: an id, fd or slot straight from its plan.
  yield* submit(env, rawName(env), 'team', false, env.proc, env.ringFd, true);
  yield* reap(env);
}

/** The name `plan.id` spells in this design, registered or not. */
function rawName(env: ActorEnv): ProgramName {
  const id = env.plan.id;
  if (env.design.nameKind === 'fd') return { kind: 'fd', fd: id % 64 };
  if (env.design.nameKind === 'fixed') return { kind: 'fixed', index: id };
  return { kind: 'id', id };
}

export const PROTOCOL_OPS: Record<ActorPlan['protocol'], (env: ActorEnv) => Op<void>> = {
  exclusive,
  'shared-by-id': sharedById,
  restart,
  hostile,
};
