// results.json: the one file lanes produce and renderers read. Versioned;
// every read goes through validate(), and every write is atomic (a temporary
// file renamed into place), so a reader never sees half a file.

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { CpuIdentity, CpuTimes, KernelConfigHighlights, LoadAverage } from './proc.js';
import type { Summary } from './stats.js';

export const RESULTS_SCHEMA = 'iou-dispatch/results';
export const RESULTS_SCHEMA_VERSION = 1;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One measured quantity: raw per-round values and their summary. */
export interface Metric {
  /** Stable key, the same across runs: what `compare` joins on. */
  readonly id: string;
  readonly lane: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly unit: string;
  readonly better: 'lower' | 'higher';
  /** One value per round, in round order. */
  readonly values: readonly number[];
  readonly summary: Summary;
  /** Per-round ratio to a baseline metric measured in the same rounds, if the lane has one. */
  readonly vsBaseline: { readonly baseline: string; readonly ratio: Summary } | null;
}

export type LaneStatus = 'ok' | 'skipped' | 'failed' | 'interrupted';

export interface LaneResult {
  readonly lane: string;
  readonly status: LaneStatus;
  /** Why the lane was skipped, failed or interrupted; null when ok. */
  readonly reason: string | null;
  readonly durationMs: number;
  /** What the lane could not do, one line each (unsupported stand-ins, sizes left out). */
  readonly notes: readonly string[];
  readonly metrics: readonly Metric[];
  readonly details: Json;
}

export interface Results {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly schemaVersion: number;
  readonly complete: boolean;
  readonly incompleteReason: string | null;
  readonly suiteVersion: string;
  readonly command: readonly string[];
  readonly options: Json;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly environment: Json;
  readonly lanes: readonly LaneResult[];
}

/** Load and CPU times at one moment (bench/environment.ts loadSample). */
export interface LoadSample {
  readonly at: string;
  readonly loadavg: LoadAverage | null;
  /** /proc/stat times summed over the CPUs in `affinity` (all CPUs when it is null). */
  readonly cpuTimes: CpuTimes | null;
}

/**
 * results.environment as bench/environment.ts writes it. Every field is
 * optional: older results lack the newer ones, and a field that could not
 * be read is null. Readers go through reports/environment-view.ts.
 */
export interface Environment {
  readonly kernel?: { release?: string; version?: string; machine?: string; arch?: string };
  readonly ioUring?: Json;
  readonly ioUringDisabledSysctl?: string | null;
  /** os.cpus(): the model string and the number of CPUs online. */
  readonly cpu?: { model?: string | null; count?: number };
  /** /proc/cpuinfo: vendor, family, model, stepping, microcode. */
  readonly cpuId?: CpuIdentity | null;
  /** The CPUs this process may run on (Cpus_allowed_list), sorted. */
  readonly affinity?: readonly number[] | null;
  /** os.availableParallelism() (sched_getaffinity's count). */
  readonly availableParallelism?: number;
  /** The tightest cgroup v2 cpu.max above this process, in CPUs; null when unlimited. */
  readonly cgroupCpus?: number | null;
  readonly memoryBytes?: number;
  readonly kernelConfig?: KernelConfigHighlights | null;
  /** /proc/cmdline, whole. */
  readonly cmdline?: string | null;
  /** /sys/devices/system/cpu/vulnerabilities/<name>: its full line. */
  readonly mitigations?: Readonly<Record<string, string>>;
  /** net.core.bpf_jit_enable. */
  readonly bpfJit?: 'off' | 'on' | 'on, debug' | null;
  readonly hypervisor?: string | null;
  readonly virtualization?: string | null;
  /** Before the first lane and when the results were written. */
  readonly load?: { readonly before: LoadSample; readonly after: LoadSample | null };
  readonly node?: string;
  readonly suite?: string;
  /** '<sha>' or '<sha>+dirty' (older form, kept). */
  readonly gitCommit?: string | null;
  readonly git?: { readonly commit: string; readonly dirty: boolean } | null;
}

type Check = (value: unknown, path: string) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v, p) => (typeof v === 'string' ? null : `${p} must be a string`);
const strOrNull: Check = (v, p) =>
  v === null || typeof v === 'string' ? null : `${p} must be a string or null`;
const num: Check = (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? null : `${p} must be a finite number`;
const bool: Check = (v, p) => (typeof v === 'boolean' ? null : `${p} must be true or false`);
const oneOf =
  (...allowed: string[]): Check =>
  (v, p) =>
    typeof v === 'string' && allowed.includes(v)
      ? null
      : `${p} must be one of ${allowed.join(', ')}`;
const arrayOf =
  (item: Check, nonEmpty = false): Check =>
  (v, p) => {
    if (!Array.isArray(v)) return `${p} must be an array`;
    if (nonEmpty && v.length === 0) return `${p} must not be empty`;
    for (let i = 0; i < v.length; i++) {
      const e = item(v[i], `${p}[${i}]`);
      if (e !== null) return e;
    }
    return null;
  };
const shape =
  (fields: Record<string, Check>): Check =>
  (v, p) => {
    if (!isObject(v)) return `${p} must be an object`;
    for (const [k, check] of Object.entries(fields)) {
      const e = check(v[k], `${p}.${k}`);
      if (e !== null) return e;
    }
    return null;
  };
const any: Check = (v, p) => (v === undefined ? `${p} is missing` : null);
const labels: Check = (v, p) => {
  if (!isObject(v)) return `${p} must be an object`;
  const bad = Object.entries(v).find(([, x]) => typeof x !== 'string' && typeof x !== 'number');
  return bad === undefined ? null : `${p}.${bad[0]} must be a string or number`;
};
const pair: Check = (v, p) =>
  Array.isArray(v) && v.length === 2 ? arrayOf(num)(v, p) : `${p} must be a pair of numbers`;
const summary = shape({
  n: num,
  median: num,
  p25: num,
  p75: num,
  min: num,
  max: num,
  ci95: pair,
  outliers: shape({ low: num, high: num }),
});
const metric = shape({
  id: str,
  lane: str,
  labels,
  unit: str,
  better: oneOf('lower', 'higher'),
  values: arrayOf(num, true),
  summary,
  vsBaseline: (v, p) => (v === null ? null : shape({ baseline: str, ratio: summary })(v, p)),
});
/** `check`, or absent (older results), or null (could not be read). */
const optional =
  (check: Check): Check =>
  (v, p) =>
    v === undefined || v === null ? null : check(v, p);
const numOrNull: Check = (v, p) => (v === null ? null : num(v, p));
const cpuTimes = shape({
  user: num,
  nice: num,
  system: num,
  idle: num,
  iowait: num,
  irq: num,
  softirq: num,
  steal: num,
});
const loadSample = shape({
  at: str,
  loadavg: optional(shape({ one: num, five: num, fifteen: num, running: num, tasks: num })),
  cpuTimes: optional(cpuTimes),
});
// Only the fields the stamps and the environment view compute with are checked; the
// rest (probe, mitigations, versions) are shown as they are, escaped.
const environment: Check = (v, p) => {
  if (v === null) return null;
  if (!isObject(v)) return `${p} must be an object or null`;
  return shape({
    cpuId: optional(
      shape({
        vendor: strOrNull,
        family: numOrNull,
        model: numOrNull,
        stepping: numOrNull,
        microcode: strOrNull,
        modelName: strOrNull,
        processors: num,
        hypervisorFlag: bool,
      }),
    ),
    affinity: optional(arrayOf(num)),
    availableParallelism: optional(num),
    cgroupCpus: optional(num),
    kernelConfig: optional(
      shape({
        source: str,
        preempt: strOrNull,
        preemptDynamic: bool,
        hz: numOrNull,
        noHzFull: bool,
        sanitizers: arrayOf(str),
        lockdep: bool,
        debug: arrayOf(str),
        mitigations: arrayOf(str),
        bpfJitAlwaysOn: bool,
      }),
    ),
    cmdline: optional(str),
    bpfJit: optional(oneOf('off', 'on', 'on, debug')),
    load: optional(shape({ before: loadSample, after: optional(loadSample) })),
    git: optional(shape({ commit: str, dirty: bool })),
  })(v, p);
};
const lane = shape({
  lane: str,
  status: oneOf('ok', 'skipped', 'failed', 'interrupted'),
  reason: strOrNull,
  durationMs: num,
  notes: arrayOf(str),
  metrics: arrayOf(metric),
  details: any,
});
const results = shape({
  schema: (v, p) => (v === RESULTS_SCHEMA ? null : `${p} must be '${RESULTS_SCHEMA}'`),
  schemaVersion: (v, p) =>
    v === RESULTS_SCHEMA_VERSION
      ? null
      : `${p} is ${JSON.stringify(v)}; this suite reads version ${RESULTS_SCHEMA_VERSION}`,
  complete: bool,
  incompleteReason: strOrNull,
  suiteVersion: str,
  command: arrayOf(str),
  options: any,
  startedAt: str,
  finishedAt: str,
  environment,
  lanes: arrayOf(lane),
});

/** Checks parsed JSON against the schema: the Results, or the first problem found. */
export function validateResults(
  value: unknown,
): { ok: true; results: Results } | { ok: false; error: string } {
  const error = results(value, 'results');
  if (error !== null) return { ok: false, error };
  const ids = new Set<string>();
  for (const l of (value as Results).lanes) {
    for (const m of l.metrics) {
      if (ids.has(m.id)) return { ok: false, error: `results: metric id '${m.id}' appears twice` };
      ids.add(m.id);
    }
  }
  return { ok: true, results: value as Results };
}

/** Reads and validates a results file; the error is one line naming the file and the problem. */
export function readResults(
  path: string,
): { ok: true; results: Results } | { ok: false; error: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return {
      ok: false,
      error: `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${path}: not JSON (${(e as Error).message})` };
  }
  const checked = validateResults(parsed);
  return checked.ok ? checked : { ok: false, error: `${path}: ${checked.error}` };
}

/** Writes `text` to `path` whole or not at all: a temporary file in the same directory, then rename. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
