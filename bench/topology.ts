// Where the bench's workers may run and where they are put: the CPUs this
// process may use (its affinity mask), the default thread ladder over them,
// and an order that gives worker i a physical core of its own before any
// core's second hardware thread is used (SMT siblings share a core's
// caches and pipelines, so two workers on one core would time contention
// for the core, not for the shared object). Reads /proc and sysfs; the
// ordering and the ladder are pure functions.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { affinityFromStatus } from './proc.js';

export const SYSFS_CPU = '/sys/devices/system/cpu';
/** The most threads a lane runs at once (the native pool allocates its workers). */
export const MAX_THREADS = 1024;

/** One CPU's place: its socket and its physical core within that socket; null when sysfs does not say. */
export interface CpuPlace {
  readonly cpu: number;
  readonly pkg: number | null;
  readonly core: number | null;
}

/** What the bench needs to know about this machine to choose threads and pinning. */
export interface Machine {
  /** CPUs this process may run on, ascending. */
  readonly allowed: readonly number[];
  /** `allowed` in placement order (coreFirstOrder of the sysfs topology). */
  readonly order: readonly number[];
}

function readInt(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** Package and core id of each of `cpus` from `root` (a /sys/devices/system/cpu tree); unreadable ids are null. */
export function readTopology(cpus: readonly number[], root = SYSFS_CPU): CpuPlace[] {
  return cpus.map((cpu) => {
    const dir = join(root, `cpu${cpu}`, 'topology');
    return {
      cpu,
      pkg: readInt(join(dir, 'physical_package_id')),
      core: readInt(join(dir, 'core_id')),
    };
  });
}

/**
 * The CPUs of `places` in the order workers take them: the first hardware
 * thread of every physical core (socket by socket, cores by id), then the
 * second of every core, and so on. Filling one socket first means the
 * smaller thread counts time one socket's caches and the larger ones add
 * the cross-socket cost, in that order. A CPU whose ids are unknown counts
 * as a core of its own.
 */
export function coreFirstOrder(places: readonly CpuPlace[]): number[] {
  const cores = new Map<string, number[]>();
  const sorted = [...places].sort((a, b) => a.cpu - b.cpu);
  for (const p of sorted) {
    const key = p.pkg === null || p.core === null ? `cpu${p.cpu}` : `${p.pkg}/${p.core}`;
    const list = cores.get(key) ?? [];
    list.push(p.cpu);
    cores.set(key, list);
  }
  const rank = (siblings: number[]) => {
    const p = sorted.find((x) => x.cpu === siblings[0]) as CpuPlace;
    return [p.pkg ?? Number.MAX_SAFE_INTEGER, p.core ?? Number.MAX_SAFE_INTEGER, p.cpu];
  };
  const ordered = [...cores.values()].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    for (let i = 0; i < x.length; i++)
      if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return 0;
  });
  const out: number[] = [];
  for (let k = 0; out.length < sorted.length; k++)
    for (const siblings of ordered) if (k < siblings.length) out.push(siblings[k] as number);
  return out;
}

/** The default thread counts for `n` usable CPUs: 1, 2, 4, ... below n, then n itself (1, 2, 4, 6 for 6). */
export function threadLadder(n: number): number[] {
  const ladder: number[] = [];
  for (let t = 1; t < n; t *= 2) ladder.push(t);
  ladder.push(Math.max(1, n));
  return ladder;
}

/** This process's machine: its affinity mask (every CPU os.availableParallelism counts when unreadable) in placement order. */
export function thisMachine(root = SYSFS_CPU): Machine {
  let status: string | null = null;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    status = null;
  }
  const mask = status === null ? null : affinityFromStatus(status);
  const allowed =
    mask !== null && mask.length > 0
      ? mask
      : Array.from({ length: availableParallelism() }, (_, i) => i);
  return { allowed, order: coreFirstOrder(readTopology(allowed, root)) };
}

/** How the workers were pinned: by topology (the default), by --cpus, or not at all. */
export interface Placement {
  readonly mode: 'topology' | 'cpus' | 'off';
  /** Worker i runs on cpus[i % cpus.length]; empty when mode is 'off'. */
  readonly cpus: readonly number[];
}

/**
 * The placement of `threads` workers (the largest count of the run): the
 * explicit --cpus list when given; else, unless `pin` is false or the
 * workers outnumber the CPUs (then the scheduler shares them out), worker i
 * on the i-th CPU of the machine's core-first order.
 */
export function planPlacement(
  machine: Machine,
  threads: number,
  explicit: readonly number[] | null,
  pin: boolean,
): Placement {
  if (explicit !== null && explicit.length > 0) return { mode: 'cpus', cpus: [...explicit] };
  if (!pin || threads > machine.order.length) return { mode: 'off', cpus: [] };
  return { mode: 'topology', cpus: machine.order.slice(0, threads) };
}
