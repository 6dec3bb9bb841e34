// The typed API over the native addon: the kernel probe, the stand-in list,
// one-request checks and the timed stand-in run. When the addon is not built
// (no compiler at install) every entry point says so instead of throwing.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpfAddon } from './bpf.js';
import type { DesignsAddon } from './designs.js';
import type { StructOpsAddon } from './struct-ops.js';

/** Where node-gyp puts the addon and the standalone binary. */
export const NATIVE_BUILD_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'native',
  'build',
  'Release',
);
/** The standalone program built from the same C sources as the addon. */
export const STANDALONE_BINARY = join(NATIVE_BUILD_DIR, 'iou-standins');
/** The C designs' concurrent stress without Node (model/stress.c), for the sanitizer runs. */
export const STRESS_BINARY = join(NATIVE_BUILD_DIR, 'iou-stress');

interface RawProbe {
  available: boolean;
  setupErrno: number;
  features?: number;
  fastFlags?: number;
  registeredRing?: boolean;
  probeErrno?: number;
  lastOp?: number;
  supportedOps?: number[];
  nopFlagRes?: number[];
  nopUnknownFlagRes?: number;
  setupFlagRes?: number[];
}

export interface StandinDef {
  readonly name: string;
  /** Design ids (space-separated) whose per-request lookup this stands in for. */
  readonly designs: string;
  readonly what: string;
  readonly nopFlags: number;
  readonly sqeFlags: number;
  readonly sharing: 'none' | 'same' | 'own';
  readonly personalityDepth: number;
}

export interface RawCell {
  readonly standin: string;
  readonly batch: number;
  readonly threads: number;
  /** 0, or a negative errno: why the stand-in could not run. */
  readonly error: number;
  readonly iters: number;
  /** Mean ns/request over the cell's threads, one value per round. */
  readonly nsPerReq: number[];
}

interface Addon extends DesignsAddon, BpfAddon, StructOpsAddon {
  probe(): RawProbe;
  /** Ctrl-C: every timed run, running or to come, stops after its current sample and rejects. */
  cancelRuns(): void;
  standins(): StandinDef[];
  nopOnce(nopFlags: number, sqeFlags: number, ringFlags: number, len: number): number;
  checkStandins(): { name: string; error: number; res: number }[];
  runStandins(
    opts: {
      standins: number[];
      batches: number[];
      threads: number[];
      cpus: number[];
      rounds: number;
      sampleMs: number;
    },
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ rounds: number; cells: RawCell[] }>;
  denyIoUring(errno: number): number;
}

export type NativeStatus =
  | { readonly ok: true; readonly addon: Addon }
  | { readonly ok: false; readonly reason: string };

let cached: NativeStatus | null = null;

/** Loads the addon once; says why when it cannot. */
export function loadNative(): NativeStatus {
  if (cached !== null) return cached;
  const path = join(NATIVE_BUILD_DIR, 'iou_native.node');
  if (!existsSync(path)) {
    cached = {
      ok: false,
      reason: 'native addon not built (needs a C/C++ compiler; run npm run build:native)',
    };
  } else {
    try {
      cached = { ok: true, addon: createRequire(import.meta.url)(path) as Addon };
    } catch (e) {
      cached = {
        ok: false,
        reason: `native addon failed to load: ${(e as Error).message.split('\n')[0]}`,
      };
    }
  }
  return cached;
}

/** Ctrl-C: stops the addon's timed runs after their current sample, if the addon is loaded at all. */
export function cancelNativeRuns(): void {
  if (cached?.ok) cached.addon.cancelRuns();
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/** 'EINVAL' for 22 or -22; 'errno N' for a number Node does not name. */
export function errnoLabel(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** One line saying why io_uring_setup failed with `errno`, with what to look at. */
export function setupFailureReason(
  errno: number,
  disabledSysctl: string | null = readDisabledSysctl(),
): string {
  const name = errnoLabel(errno);
  switch (name) {
    case 'ENOSYS':
      return 'io_uring_setup: ENOSYS: the kernel has no io_uring, or a seccomp filter denies it';
    case 'EPERM':
      return `io_uring_setup: EPERM: io_uring is disabled (kernel.io_uring_disabled = ${disabledSysctl ?? 'unknown'}) or denied by a seccomp filter or LSM`;
    case 'ENOMEM':
      return 'io_uring_setup: ENOMEM: ring memory could not be allocated (RLIMIT_MEMLOCK before 5.12, or a memory cgroup limit)';
    case 'EMFILE':
    case 'ENFILE':
      return `io_uring_setup: ${name}: out of file descriptors`;
    default:
      return `io_uring_setup: ${name}`;
  }
}

function readDisabledSysctl(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
  } catch {
    return null;
  }
}

const FEATURE_NAMES = [
  'SINGLE_MMAP',
  'NODROP',
  'SUBMIT_STABLE',
  'RW_CUR_POS',
  'CUR_PERSONALITY',
  'FAST_POLL',
  'POLL_32BITS',
  'SQPOLL_NONFIXED',
  'EXT_ARG',
  'NATIVE_WORKERS',
  'RSRC_TAGS',
  'CQE_SKIP',
  'LINKED_FILE',
  'REG_REG_RING',
  'RECVSEND_BUNDLE',
  'MIN_TIMEOUT',
  'RW_ATTR',
  'NO_IOWAIT',
  'BPF (patched kernels)',
];

export const NOP_FLAG_NAMES = [
  'INJECT_RESULT',
  'FILE',
  'FIXED_FILE',
  'FIXED_BUFFER',
  'TW',
  'CQE32',
] as const;

/** Setup flag bits the probe tries, by name. */
export const SETUP_FLAG_NAMES: Record<number, string> = {
  0: 'IOPOLL',
  1: 'SQPOLL',
  8: 'COOP_TASKRUN',
  9: 'TASKRUN_FLAG',
  10: 'SQE128',
  11: 'CQE32',
  12: 'SINGLE_ISSUER',
  13: 'DEFER_TASKRUN',
  16: 'NO_SQARRAY',
  18: 'CQE_MIXED',
  19: 'SQE_MIXED',
  20: 'bit 20 (v1 BPF / v2 BPF_OP / SQ_REWIND)',
  21: 'bit 21 (v3 BPF_EXT)',
};

export interface FlagVerdict {
  readonly name: string;
  readonly bit: number;
  readonly accepted: boolean;
  /** The CQE res or setup result: 0 or more when accepted, a negative errno when not. */
  readonly res: number;
  /** The errno name when refused, else null. */
  readonly errno: string | null;
}

export type KernelProbe =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly features: number;
      readonly featureNames: readonly string[];
      /** The setup flags a fast ring settled on. */
      readonly fastFlags: readonly string[];
      readonly registeredRing: boolean;
      readonly lastOp: number | null;
      readonly probeError: string | null;
      readonly supportedOps: readonly number[];
      readonly nopFlags: readonly FlagVerdict[];
      /** An undefined NOP flag must be rejected; if it is not, flag probing cannot be trusted. */
      readonly unknownNopFlag: FlagVerdict;
      readonly setupFlags: readonly FlagVerdict[];
    };

function verdict(name: string, bit: number, res: number): FlagVerdict {
  return { name, bit, accepted: res >= 0, res, errno: res < 0 ? errnoLabel(res) : null };
}

/** Probes the running kernel's io_uring; `available: false` with a one-line reason when it cannot be used. */
export function probeKernel(): KernelProbe {
  const native = loadNative();
  if (!native.ok) return { available: false, reason: native.reason };
  const raw = native.addon.probe();
  if (!raw.available) return { available: false, reason: setupFailureReason(raw.setupErrno) };
  const features = raw.features ?? 0;
  const fast = raw.fastFlags ?? 0;
  return {
    available: true,
    features,
    featureNames: FEATURE_NAMES.filter((_, bit) => (features & (1 << bit)) !== 0),
    fastFlags: Object.entries(SETUP_FLAG_NAMES)
      .filter(([bit]) => (fast & (1 << Number(bit))) !== 0)
      .map(([, name]) => name),
    registeredRing: raw.registeredRing ?? false,
    lastOp: (raw.probeErrno ?? 0) === 0 ? (raw.lastOp ?? null) : null,
    probeError: (raw.probeErrno ?? 0) === 0 ? null : errnoLabel(raw.probeErrno ?? 0),
    supportedOps: raw.supportedOps ?? [],
    nopFlags: (raw.nopFlagRes ?? []).map((res, bit) =>
      verdict(NOP_FLAG_NAMES[bit] ?? `bit ${bit}`, bit, res),
    ),
    unknownNopFlag: verdict('bit 30 (undefined)', 30, raw.nopUnknownFlagRes ?? 0),
    setupFlags: (raw.setupFlagRes ?? []).flatMap((res, bit) =>
      res === 1 ? [] : [verdict(SETUP_FLAG_NAMES[bit] ?? `bit ${bit}`, bit, res)],
    ),
  };
}

/** The stand-ins the native side implements, in table order; empty without the addon. */
export function standinDefs(): readonly StandinDef[] {
  const native = loadNative();
  return native.ok ? native.addon.standins() : [];
}

export interface StandinCheck {
  readonly name: string;
  /** null when the stand-in ran; else why not ('EINVAL' for a NOP flag the kernel does not know). */
  readonly unsupported: string | null;
  /** The CQE res of its one request. */
  readonly res: number;
}

/** Sets up every stand-in on this thread and runs one request of each; null without the addon. */
export function checkStandins(): StandinCheck[] | null {
  const native = loadNative();
  if (!native.ok) return null;
  return native.addon.checkStandins().map((c) => ({
    name: c.name,
    unsupported: c.error === 0 ? null : errnoLabel(c.error),
    res: c.res,
  }));
}

export interface StandinRunOptions {
  /** Stand-in names; all when omitted. */
  readonly standins?: readonly string[];
  readonly batches: readonly number[];
  readonly threads: readonly number[];
  /** CPUs to pin worker i to (cpus[i % n]); none when empty. */
  readonly cpus?: readonly number[];
  readonly rounds: number;
  /** Target length of one timed sample. */
  readonly sampleMs: number;
}

export interface StandinCell {
  readonly standin: string;
  readonly batch: number;
  readonly threads: number;
  /** null when measured; else why the stand-in could not run. */
  readonly unsupported: string | null;
  readonly batchesPerSample: number;
  /** ns/request per round (mean over the cell's threads); empty when unsupported. */
  readonly nsPerReq: readonly number[];
}

export const MAX_BATCH = 256;
export const MAX_THREADS = 1024;
export const MAX_LIST = 16;

/** Checks run options; returns one line naming the first problem, or null. */
export function checkRunOptions(opts: StandinRunOptions): string | null {
  const names = standinDefs().map((d) => d.name);
  for (const name of opts.standins ?? []) {
    if (!names.includes(name)) return `unknown stand-in '${name}' (known: ${names.join(', ')})`;
  }
  const lists: [string, readonly number[], number, number][] = [
    ['batches', opts.batches, 1, MAX_BATCH],
    ['threads', opts.threads, 1, MAX_THREADS],
    ['cpus', opts.cpus ?? [], 0, 4095],
  ];
  for (const [what, list, min, max] of lists) {
    if (what !== 'cpus' && list.length === 0) return `${what}: at least one value needed`;
    if (list.length > (what === 'cpus' ? MAX_THREADS : MAX_LIST)) return `${what}: too many values`;
    const bad = list.find((v) => !Number.isInteger(v) || v < min || v > max);
    if (bad !== undefined) return `${what}: ${bad} is not a whole number from ${min} to ${max}`;
  }
  if ((opts.standins?.length ?? 0) > MAX_LIST) return 'standins: too many values';
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1 || opts.rounds > 10_000)
    return 'rounds: 1 to 10000';
  if (!(opts.sampleMs > 0 && opts.sampleMs <= 60_000))
    return 'sample length: more than 0 and at most 60000 ms';
  return null;
}

/**
 * Times the stand-ins on a worker thread in interleaved rounds. Rejects with
 * the native error, or an Error naming a bad option; `onProgress` gets
 * (samples done, samples in all) as it goes.
 */
export async function runStandins(
  opts: StandinRunOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<{ rounds: number; cells: StandinCell[] }> {
  const native = loadNative();
  if (!native.ok) throw new Error(native.reason);
  const problem = checkRunOptions(opts);
  if (problem !== null) throw new Error(problem);
  const names = native.addon.standins().map((d) => d.name);
  const raw = await native.addon.runStandins(
    {
      standins: (opts.standins ?? names).map((n) => names.indexOf(n)),
      batches: [...opts.batches],
      threads: [...opts.threads],
      cpus: [...(opts.cpus ?? [])],
      rounds: opts.rounds,
      sampleMs: opts.sampleMs,
    },
    onProgress,
  );
  return {
    rounds: raw.rounds,
    cells: raw.cells.map((c) => ({
      standin: c.standin,
      batch: c.batch,
      threads: c.threads,
      unsupported: c.error === 0 ? null : errnoLabel(c.error),
      batchesPerSample: c.iters,
      nsPerReq: c.nsPerReq,
    })),
  };
}

/** One NOP with the given flags on a fresh ring: its CQE res, or -errno of the setup. Null without the addon. */
export function nopOnce(nopFlags: number, sqeFlags = 0, ringFlags = 0, len = 0): number | null {
  const native = loadNative();
  return native.ok ? native.addon.nopOnce(nopFlags, sqeFlags, ringFlags, len) : null;
}
