// A fuzz scenario as plain data: processes, the actors (threads) that run
// a userspace protocol in them, and the interleaving of their atomic steps.
// Plain data so that fast-check can generate and shrink it, and a
// counterexample can be saved as JSON and replayed.

import fc from 'fast-check';
import type { DesignDef } from '../designs/design.js';
import { IOU_ISSUE_SKIP_COMPLETE, type RingOptions } from '../designs/io-uring.js';
import {
  type Creds,
  credsFor,
  legacyCreds,
  PRIVILEGES,
  type Privilege,
} from '../designs/kernel/creds.js';
import { ERRNO } from '../designs/kernel/errno.js';

export const PROTOCOLS = ['exclusive', 'shared-by-id', 'restart', 'hostile'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];
/** What the services (namespace 0) do; `hostile` is the adversary that may be present in any scenario. */
export const VICTIM_PROTOCOLS = ['exclusive', 'shared-by-id', 'restart'] as const;
export type VictimProtocol = (typeof VICTIM_PROTOCOLS)[number];
/** What a fuzz job lets the services do: one protocol for all, or a mix of them. */
export const JOB_PROTOCOLS = [...VICTIM_PROTOCOLS, 'mixed'] as const;
export type JobProtocol = (typeof JOB_PROTOCOLS)[number];

export interface ProcessPlan {
  /** User namespace: 0 for the services, 1 for a hostile process. */
  readonly ns: number;
  /** Processes of one team trust each other's programs (siblings). */
  readonly team: number;
  /**
   * The process's rings are created with the design's setup flag (designs
   * without one ignore it). Absent in scenarios saved before it existed: true.
   */
  readonly flagged?: boolean;
  /** Its rings are created with IORING_SETUP_DEFER_TASKRUN | SINGLE_ISSUER. Absent: false. */
  readonly deferTaskrun?: boolean;
  /** How many rings it sets up (1..3). Absent: 1. */
  readonly rings?: number;
  /**
   * Where each of its rings' io_ring_ctx lands, as order keys (kmalloc gives
   * no order; lock_two_rings() locks the lower address first). Absent:
   * creation order. Equal keys fall back to creation order.
   */
  readonly addresses?: readonly number[];
  /**
   * Its rings are created with IORING_SETUP_SQPOLL: an SQ thread of the
   * process submits every SQE. Absent: false. The kernel refuses it with
   * DEFER_TASKRUN; generated scenarios never ask for both.
   */
  readonly sqpoll?: boolean;
  /**
   * What the process holds (designs/kernel/creds.ts credsFor). Absent, as in
   * scenarios saved before it existed: namespace 0 has CAP_BPF in
   * init_user_ns, any other a BPF token in its own userns.
   */
  readonly privilege?: Privilege;
}

/** The credentials a process of `plan` runs with. */
export function processCreds(plan: ProcessPlan): Creds {
  return plan.privilege === undefined
    ? legacyCreds(plan.ns, true)
    : credsFor(plan.ns, plan.privilege);
}

/** The order key of ring `index` of a process (created as ring `id` of the world). */
export function ringAddress(plan: ProcessPlan | undefined, index: number, id: number): number {
  return (plan?.addresses?.[index] ?? 0) * 1000 + id;
}

/**
 * Buffers registered on ring `index` of a process: none on ring 0, one on
 * the others, so a CLONE_BUFFERS into ring 0 from another ring can succeed.
 * A process with one ring registers none, as before rings were counted.
 */
export function ringBuffers(index: number): number {
  return index === 0 ? 0 : 1;
}

/** How the rings of a process are created: the process's choices, where the design has a flag. */
export function ringOptions(design: DesignDef, plan: ProcessPlan | undefined): RingOptions {
  if (plan === undefined)
    throw new Error('BUG: ring options asked for a process the scenario lacks');
  return {
    bpf: design.setupFlag !== null && (plan.flagged ?? true),
    deferTaskrun: plan.deferTaskrun ?? false,
    // Only when asked: the options of every scenario without it stay as they were.
    ...(plan.sqpoll === true ? { sqpoll: true } : {}),
  };
}

export interface ProgramPlan {
  /** prep_fn's return, or null for no prep_fn. */
  readonly prep: number | null;
  readonly issueRet: number;
  readonly issueRes: number;
  readonly fail: boolean;
  readonly cleanup: boolean;
  /** The issue callback calls the memcpy kfunc on a fixed buffer. Absent: false. */
  readonly memcpy?: boolean;
}

/** What an actor does once between its own ring and the next ring of its process. */
export const CROSS_RING_OPS = ['clone', 'msg'] as const;
export type CrossRingOp = (typeof CROSS_RING_OPS)[number];

export interface ActorPlan {
  /** Index into processes: actors of one process are its threads (one fd table, one ring). */
  readonly process: number;
  readonly protocol: ProtocolName;
  /** The id (or slot) the actor asks for; hostile actors may ask for anything a u16 holds. */
  readonly id: number;
  readonly program: ProgramPlan;
  /** One entry per request: true submits it with IOSQE_ASYNC. */
  readonly requests: readonly boolean[];
  /** Protocol-specific count: extra register/unregister rounds (hostile), fd passing (shared-by-id). */
  readonly extra: number;
  /** Which of its process's rings it uses. Absent: 0. */
  readonly ring?: number;
  /**
   * Once registered: IORING_REGISTER_CLONE_BUFFERS into its ring from
   * another (the next ring of its process, or a ring a process of its team
   * hands it), or an IORING_OP_MSG_RING (send fd) to it. Absent: neither.
   */
  readonly crossRing?: CrossRingOp;
  /** shared-by-id: detach its link at the end when it registered one. Absent: false. */
  readonly detach?: boolean;
  /**
   * exclusive and restart pin their link in bpffs (where the design has
   * links): exclusive closes the link fd and unregisters by unpinning;
   * restart's link stays pinned across the crash, and the restarted server
   * unpins it before registering again. Absent: false.
   */
  readonly pin?: boolean;
  /**
   * exclusive and restart fork a child once registered: it inherits the fd
   * table (ring and link fds included), submits one request on the
   * parent's ring, waits for it and exits. Absent: false.
   */
  readonly fork?: boolean;
}

export interface Scenario {
  readonly processes: readonly ProcessPlan[];
  readonly actors: readonly ActorPlan[];
  /** Actor priorities by creation order (spawned io-wq and task-work actors included). */
  readonly priorities: readonly number[];
  /** Steps after which the running actor drops below every other (preemption points). */
  readonly changes: readonly number[];
}

/** Issue returns worth trying: complete, an error, SKIP_COMPLETE, EAGAIN, a positive value. */
export const ISSUE_RETURNS = [0, -ERRNO.EINVAL, IOU_ISSUE_SKIP_COMPLETE, -ERRNO.EAGAIN, 5] as const;

const programPlan: fc.Arbitrary<ProgramPlan> = fc.record({
  prep: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    fc.constant(-ERRNO.EINVAL),
    fc.constant(null),
  ),
  issueRet: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constantFrom(...ISSUE_RETURNS)),
  issueRes: fc.integer({ min: 0, max: 99 }),
  fail: fc.boolean(),
  cleanup: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
  memcpy: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
});

/**
 * A process's ring choices: mostly with the setup flag, sometimes without;
 * DEFER_TASKRUN sometimes; SQPOLL sometimes, never with DEFER_TASKRUN.
 */
const ringChoice = fc
  .record({
    flagged: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
    deferTaskrun: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
    rings: fc.oneof({ weight: 2, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 3 })),
    addresses: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
    sqpoll: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
  })
  .map((r) => ({ ...r, sqpoll: r.sqpoll && !r.deferTaskrun }));

/**
 * The hostile process's privilege: mostly a token in its userns (what it had
 * before the choice existed), sometimes CAP_BPF in init_user_ns, root in its
 * userns only (cannot load) or nothing (can only create rings and submit).
 */
const hostilePrivilege: fc.Arbitrary<Privilege> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Privilege>('token') },
  fc.constantFrom<Privilege>(...PRIVILEGES.filter((p) => p !== 'token')),
);

/**
 * Scenarios of 1-3 processes (at most one hostile, in namespace 1) and 1-4
 * actors. Every service actor follows `victimProtocol`, or any of them
 * for 'mixed'. Each process chooses how its rings are created.
 */
export function scenarioArbitrary(victimProtocol: JobProtocol = 'mixed'): fc.Arbitrary<Scenario> {
  const victimArb: fc.Arbitrary<ProtocolName> =
    victimProtocol === 'mixed' ? fc.constantFrom(...VICTIM_PROTOCOLS) : fc.constant(victimProtocol);
  return fc
    .record({
      victims: fc.array(fc.record({ team: fc.integer({ min: 0, max: 1 }), ring: ringChoice }), {
        minLength: 1,
        maxLength: 2,
      }),
      hostile: fc.option(fc.record({ ring: ringChoice, privilege: hostilePrivilege }), {
        nil: null,
      }),
    })
    .chain(({ victims, hostile }) => {
      const processes: ProcessPlan[] = [
        ...victims.map(({ team, ring }) => ({ ns: 0, team, ...ring })),
        ...(hostile === null
          ? []
          : [{ ns: 1, team: 9, ...hostile.ring, privilege: hostile.privilege }]),
      ];
      const actor = fc.integer({ min: 0, max: processes.length - 1 }).chain((process) =>
        fc
          .record({
            process: fc.constant(process),
            protocol:
              processes[process]?.ns === 1 ? fc.constant<ProtocolName>('hostile') : victimArb,
            id: fc.oneof(
              { weight: 5, arbitrary: fc.integer({ min: 0, max: 3 }) },
              fc.integer({ min: 0, max: 0xffff }),
            ),
            program: programPlan,
            requests: fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
            extra: fc.integer({ min: 0, max: 3 }),
            ring: fc.integer({ min: 0, max: (processes[process]?.rings ?? 1) - 1 }),
            crossRing: fc.option(fc.constantFrom(...CROSS_RING_OPS), { nil: null, freq: 2 }),
            detach: fc.boolean(),
            pin: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
            fork: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
          })
          .map(
            ({ crossRing, ...rest }): ActorPlan =>
              crossRing === null ? rest : { ...rest, crossRing },
          ),
      );
      return fc.record({
        processes: fc.constant(processes),
        actors: fc.array(actor, { minLength: 1, maxLength: 4 }),
        priorities: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 24 }),
        changes: fc.uniqueArray(fc.integer({ min: 1, max: 250 }), { maxLength: 4 }),
      });
    });
}
