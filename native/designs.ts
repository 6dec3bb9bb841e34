// The typed API over the C designs in the addon (native/src/designs/): the
// registry, NativeWorld (one design instance driven syscall by syscall, for
// the differential tests), the native lane's timed run, and the concurrent
// stress, whose world several worker_threads can share through a handle.

import { loadNative } from './index.js';

export interface NativeDesignDef {
  readonly name: string;
  readonly nameKind: 'id' | 'fd' | 'fixed';
  /** Whose namespace a name lives in, as designs/design.ts says. */
  readonly scope: 'global' | 'ring' | 'process';
  readonly idMin: number;
  /** Null for fd-named designs. */
  readonly idMax: number | null;
  readonly setupFlag: boolean;
  readonly discovery: boolean;
}

/** What a program's callbacks do; null (or false) is a NULL callback pointer. */
export interface NativeProgramSpec {
  readonly prep: number | null;
  readonly issue: { readonly res: number; readonly ret: number } | null;
  readonly fail: boolean;
  readonly cleanup: boolean;
}

export interface NativeRegistration {
  readonly name: { readonly kind: 'id' | 'fd' | 'fixed'; readonly value: number };
  readonly linkFd: number;
  readonly ringFd: number;
}

export interface NativeSqe {
  readonly bpfOpFlags: number;
  readonly fd: number;
  readonly fixedFile: boolean;
  readonly async: boolean;
  readonly userData: number;
}

export interface NativeProgramState {
  readonly id: number;
  /** The last reference is gone; the free waits for an RCU-tasks grace period. */
  readonly released: boolean;
  /** Freed: the grace period passed (the memory is poisoned). */
  readonly freed: boolean;
  readonly refs: number;
  readonly calls: {
    readonly prep: number;
    readonly issue: number;
    readonly fail: number;
    readonly cleanup: number;
  };
}

export interface NativeViolations {
  /** Callbacks run on a freed (poisoned) program: a use after free. */
  readonly freedCalls: number;
  /** Callbacks whose pointer is NULL: an oops. */
  readonly nullCalls: number;
  readonly refUnderflow: number;
  /** Accesses past the end of a table. */
  readonly oob: number;
  readonly lostRequests: number;
  /** NULL dereferences: an oops (fget() with current->files NULL, after exit_files()). */
  readonly nullDerefs: number;
  /**
   * Of freedCalls, those through the ops pointer a recycled request's previous
   * user left (->fail() after a prep that failed before setting it): the
   * posted request path's own use after free, which no caller can avoid.
   */
  readonly staleFreedCalls: number;
}

/** What a fresh request's command area and result hold (a ring's residue); ops is a program id, 0 for none. */
export interface NativeResidue {
  readonly op: number;
  readonly ops: number;
  readonly res: number;
}

/**
 * Processes are 0 and 1; every method but settle() and the snapshots is one
 * syscall; errors are negative errnos. io-wq and the kworker run only in
 * settle() (or while a syscall waits), so call it after each command.
 */
export interface NativeWorld {
  load(proc: number, spec: NativeProgramSpec): number;
  setup(proc: number, bpf: boolean, residue?: NativeResidue): number;
  register(
    proc: number,
    progFd: number,
    ringFd: number | null,
    id: number | null,
  ): NativeRegistration | number;
  unregister(proc: number, reg: NativeRegistration): number;
  submit(proc: number, ringFd: number, sqes: readonly NativeSqe[]): number;
  reap(proc: number, ringFd: number): { userData: number; res: number }[] | number;
  close(proc: number, fd: number): number;
  passFd(from: number, fd: number, to: number): number;
  discover(proc: number): number[] | number;
  /** exit(): 0, -EDEADLK (a parked request keeps the task in exit for good), -ESRCH (gone already). */
  exit(proc: number): number;
  /** io-wq, then the task work of every task not in a syscall, then the kworker, until nothing is left. */
  settle(): void;
  /** Every ring's CQEs since the last call, rings in creation order. */
  takeCqes(): { ring: number; userData: number; res: number }[];
  target(reg: NativeRegistration): Pick<NativeSqe, 'bpfOpFlags' | 'fd' | 'fixedFile'>;
  programs(): NativeProgramState[];
  fds(proc: number): { fd: number; kind: 'bpf-prog' | 'bpf-link' | 'io_uring'; object: number }[];
  violations(): NativeViolations;
  takeLog(): {
    program: number;
    callback: 'prep' | 'issue' | 'fail' | 'cleanup';
    nullCall: boolean;
    freed: boolean;
  }[];
  destroy(): void;
}

/** One native-lane variant. `design` is a C design name or 'core' (the io_uring core with no lookup). */
export interface NativeWorkload {
  readonly design: string;
  readonly programs: number;
  /**
   * pure: the design's path alone; iowq: the same with IOSQE_ASYNC (issue without uring_lock);
   * ring: plus a real NOP batch; ring-only: the real batch alone.
   */
  readonly loop: 'pure' | 'iowq' | 'ring' | 'ring-only';
  /** Each ring its own programs (true) or every ring the same ones (false). */
  readonly own: boolean;
}

export interface NativeLaneCell {
  readonly workload: number;
  readonly batch: number;
  readonly threads: number;
  /** 0, or a negative errno: why the cell could not run. */
  readonly error: number;
  readonly iters: number;
  readonly nsPerReq: number[];
}

export interface StressStats {
  readonly registered: number;
  readonly refused: number;
  readonly unregistered: number;
  readonly submitted: number;
  readonly completed: number;
  /** CQEs from a program other than the one the SQE named. */
  readonly wrongProgram: number;
  /** CQEs with an error for a live registration. */
  readonly failed: number;
  /** Requests that never completed. */
  readonly missing: number;
  readonly ringRestarts: number;
  /** Names per ring only: registrations on a ring another thread submits to. */
  readonly crossRegistered: number;
  /** CQEs of requests naming such a slot that ran the slot's program. */
  readonly crossCompleted: number;
  /** CQEs of requests naming such a slot that found it empty (an error, as they should). */
  readonly crossEmpty: number;
  /** Unregisters that slept until in-flight requests were done (per-ctx). */
  readonly unregisterWaits: number;
  /** Global designs, standalone stress only: requests on a ring without the setup flag, failed as they must. */
  readonly unlistedFailed: number;
  /** Designs with a setup flag: rings the threads made without it, and their requests (all failed, as they must). */
  readonly unflaggedRings: number;
  readonly unflaggedFailed: number;
}

/** What nw_self_deadlock() saw: per-ctx's unregister asleep until its own pending free runs. */
export interface SelfDeadlock {
  /** The request's CQE was read from the CQ ring before the unregister. */
  readonly completed: boolean;
  /** The watchdog found the unregister asleep with the thread's own task work pending. */
  readonly caught: boolean;
  /** What the unregister returned once the watchdog ran that work for it. */
  readonly unregisterRet: number;
  readonly freed: boolean;
  readonly violations: NativeViolations;
}

/**
 * The registration lane's world (native/src/model/regbench.h): one C design
 * with `rings` rings in one process and one loaded program. register() is the
 * registration a user must do so that every ring can name the program (one
 * call, or one per ring: calls()); unregister() undoes it. Errors are
 * negative errnos.
 */
export interface RegBench {
  /** Syscalls one registration makes: 1, or the ring count (per-ctx, per-fd-fixed). */
  calls(): number;
  register(): number;
  unregister(): number;
  /** One request naming the program on every ring: how many ran it (or -errno). */
  probe(): number;
  /** `reps` register/unregister cycles, each call timed alone (ns). */
  time(reps: number): { error: number; registerNs: number[]; unregisterNs: number[] };
  destroy(): void;
}

export interface DesignsAddon {
  designDefs(): NativeDesignDef[];
  /** Throws when the world cannot be built (an unknown design, too many rings for memory). */
  RegBench: new (
    design: string,
    rings: number,
  ) => RegBench;
  NativeWorld: new (design: string, fdLimit: number) => NativeWorld;
  runNativeLane(
    workloads: readonly NativeWorkload[],
    plan: {
      cells: readonly { workload: number; batch: number; threads: number }[];
      rounds: number;
      sampleMs: number;
      cpus: readonly number[];
    },
    onProgress?: (done: number, total: number) => void,
  ): Promise<NativeLaneCell[]>;
  stressCreate(design: string): number;
  stressThread(handle: number, seed: number, ops: number): StressStats;
  stressFinish(handle: number): NativeViolations;
  selfDeadlock(): SelfDeadlock;
}

/** The C designs' addon functions, or the reason they are unavailable. */
export function nativeDesigns():
  | { readonly ok: true; readonly addon: DesignsAddon }
  | { readonly ok: false; readonly reason: string } {
  const native = loadNative();
  return native.ok ? { ok: true, addon: native.addon } : native;
}

/**
 * True when no counter shows a violation a correct caller could have
 * avoided: every counter zero, except use-after-free calls that are all
 * through a stale ops pointer (staleFreedCalls), the posted design's own.
 */
export function clean(v: NativeViolations): boolean {
  const { freedCalls, staleFreedCalls, ...rest } = v;
  return freedCalls === staleFreedCalls && Object.values(rest).every((n) => n === 0);
}
