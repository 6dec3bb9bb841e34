// What a whole run cannot support (../shared/DESIGN.md §5: runs that cannot
// support a claim say so at the top). Every report prints these before
// anything else: a TCG run, a quick run, a run whose threads could not run
// in parallel (affinity, --cpus or a cgroup quota allowing fewer CPUs than
// its largest thread count), and a run with steal time over a few percent.
// Reads results only.

import { formatCpuList, stealPercent } from '../bench/proc.js';
import type { Environment, Results } from '../bench/results.js';

export const TCG_CAVEAT = 'functional run under QEMU TCG (software emulation): timings not valid';

/**
 * Steal above this share of the run's CPU time stamps the run. At 3 % the
 * hypervisor took more than most differences the reports call (a few %).
 */
export const STEAL_CAVEAT_PERCENT = 3;

export type CaveatKind = 'tcg' | 'quick' | 'cpus' | 'steal';

export interface RunCaveat {
  readonly kind: CaveatKind;
  /** One sentence, no trailing period, as the reports print it after 'CAVEAT: '. */
  readonly text: string;
}

function env(r: Results): Environment | null {
  const e = r.environment as Environment | null;
  return e !== null && typeof e === 'object' && !Array.isArray(e) ? e : null;
}

/** The suite VM's accelerator; null outside its VM and for results written before the field. */
export function virtualizationOf(r: Results): 'kvm' | 'tcg' | null {
  const v = env(r)?.virtualization;
  return v === 'kvm' || v === 'tcg' ? v : null;
}

/** Whether the run was made with --quick (options.quick); false for options without it. */
export function isQuickRun(r: Results): boolean {
  const o = r.options as { quick?: unknown } | null;
  return o !== null && typeof o === 'object' && o.quick === true;
}

/** The largest `threads` label of any metric (of `lane`'s only, when given): the most workers run at once. */
export function largestThreadCount(r: Results, lane: string | null = null): number | null {
  let most: number | null = null;
  for (const l of r.lanes) {
    if (lane !== null && l.lane !== lane) continue;
    for (const m of l.metrics) {
      const t = m.labels.threads;
      if (typeof t === 'number' && (most === null || t > most)) most = t;
    }
  }
  return most;
}

/** Lanes whose workers --cpus pins (bench/lanes/kernel.ts, bpf.ts, native.ts, patched.ts). */
const PINNED_LANES = new Set(['kernel', 'bpf-standin', 'native', 'patched']);

/** The CPUs the run's workers could run on at once, and what limited them. */
export interface UsableCpus {
  /** CPUs; fractional for a cgroup quota (1.5 CPUs: two workers cannot both run all the time). */
  readonly count: number;
  /** What set the count, for the stamp: 'affinity 0', '--cpus 0,0', 'cgroup cpu.max 1.0 CPU'. */
  readonly limit: string;
}

/**
 * The fewest CPUs the workers of `lane` (of any lane when null) could use in
 * parallel, from the process's affinity mask, the --cpus pinning (kept within
 * the mask; only lanes that pin) and the cgroup quota; null when results carry
 * none of them (older results).
 */
export function usableCpus(r: Results, lane: string | null = null): UsableCpus | null {
  const e = env(r);
  const candidates: UsableCpus[] = [];
  const affinity = e?.affinity ?? null;
  if (affinity !== null && affinity.length > 0) {
    candidates.push({ count: affinity.length, limit: `affinity ${formatCpuList(affinity)}` });
  }
  const o = r.options as { cpus?: unknown } | null;
  const pinned = Array.isArray(o?.cpus) ? (o.cpus as unknown[]).filter(Number.isInteger) : [];
  if (pinned.length > 0 && (lane === null || PINNED_LANES.has(lane))) {
    const distinct = new Set(pinned as number[]);
    const allowed = affinity === null ? distinct : new Set(affinity.filter((c) => distinct.has(c)));
    candidates.push({ count: allowed.size, limit: `--cpus ${(pinned as number[]).join(',')}` });
  }
  const quota = e?.cgroupCpus ?? null;
  if (quota !== null) {
    candidates.push({ count: quota, limit: `cgroup cpu.max ${quota.toFixed(1)} CPU` });
  }
  if (candidates.length === 0) return null;
  return candidates.reduce((a, b) => (b.count < a.count ? b : a));
}

/**
 * Whether `threads` workers of `lane` (of any lane when null) could have run
 * in parallel: false when the usable CPUs were fewer; true when they were
 * enough or are unknown. Renderers call this before stating an n-thread
 * (sharing) conclusion.
 */
export function threadsCouldRunInParallel(
  r: Results,
  threads: number,
  lane: string | null = null,
): boolean {
  const u = usableCpus(r, lane);
  return u === null || u.count >= threads;
}

/** The lane whose threads most outnumber its usable CPUs, if any does. */
function crowded(r: Results): { threads: number; cpus: UsableCpus } | null {
  let worst: { threads: number; cpus: UsableCpus } | null = null;
  for (const l of r.lanes) {
    const threads = largestThreadCount(r, l.lane);
    const cpus = usableCpus(r, l.lane);
    if (threads === null || cpus === null || cpus.count >= threads) continue;
    if (worst === null || threads - cpus.count > worst.threads - worst.cpus.count) {
      worst = { threads, cpus };
    }
  }
  return worst;
}

/** Steal time as a percentage of the run's CPU time on its CPUs (/proc/stat before and after). */
export function runStealPercent(r: Results): number | null {
  const load = env(r)?.load;
  const before = load?.before?.cpuTimes ?? null;
  const after = load?.after?.cpuTimes ?? null;
  return before === null || after === null ? null : stealPercent(before, after);
}

/** The run-level caveats of `r` with their kinds, in the order reports print them. */
export function runCaveatList(r: Results): RunCaveat[] {
  const out: RunCaveat[] = [];
  if (virtualizationOf(r) === 'tcg') out.push({ kind: 'tcg', text: TCG_CAVEAT });
  if (isQuickRun(r)) {
    const o = r.options as { rounds?: unknown; durationMs?: unknown };
    const shape =
      typeof o.rounds === 'number' && typeof o.durationMs === 'number'
        ? ` (${o.rounds} rounds of ${o.durationMs} ms samples)`
        : '';
    out.push({
      kind: 'quick',
      text: `quick run${shape}: a smoke check, not citable`,
    });
  }
  const c = crowded(r);
  const usable = usableCpus(r);
  if (c !== null) {
    const n = c.cpus.count;
    const whole = Math.floor(n);
    const asked = (r.options as { oversubscribe?: unknown } | null)?.oversubscribe === true;
    out.push({
      kind: 'cpus',
      text: `up to ${c.threads} threads ran on ${Number.isInteger(n) ? n : n.toFixed(1)} usable CPU${n === 1 ? '' : 's'} (${c.cpus.limit}${asked ? ', --oversubscribe' : ''}): results with more than ${whole} thread${whole === 1 ? '' : 's'} measure time-sharing, not parallel sharing`,
    });
  } else if (usable !== null && usable.count <= 1) {
    // One CPU: the ladder stops at 1 thread, so no result says anything about rings in parallel.
    out.push({
      kind: 'cpus',
      text: `the run had one usable CPU (${usable.limit}): every lane ran one thread, so nothing here measures rings in parallel or the cost of sharing`,
    });
  }
  const steal = runStealPercent(r);
  if (steal !== null && steal > STEAL_CAVEAT_PERCENT) {
    out.push({
      kind: 'steal',
      text: `steal time was ${steal.toFixed(1)} % of this run's CPU time (/proc/stat): the hypervisor ran others on its CPUs, so timings are inflated and noisy`,
    });
  }
  return out;
}

/** The run-level caveats of `r`, one sentence each, in the order reports print them; empty when none. */
export function runCaveats(r: Results): string[] {
  return runCaveatList(r).map((c) => c.text);
}
