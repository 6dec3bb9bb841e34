// `compare --confirm`: before a regression is called, the cells it was
// called on are measured again on this machine, now, and compared with the
// base run once more. A regression counts only when the re-run shows it
// too. Every lane that can gate measures its baseline (kernel/nop,
// bpf-standin/none, native/core and ring-only) in the same interleaved
// rounds as its cells, so the re-run brings a fresh baseline with it, and
// the ratio tests of the re-run compare like with like however the machine
// drifted since the new run. A raw test (a baseline's own ns, a lane's raw
// geometric mean) has nothing to cancel against: the re-run can show that
// the change is gone, not that the base code would not show it today.
//
// This module plans the re-run (the bench options that cover the flagged
// cells and nothing else of other lanes) and judges it; compare-cli runs it.

import type { Results } from '../bench/results.js';
import { DESIGNS } from '../designs/registry.js';
import type { Comparison, LaneShift, MetricDelta } from './compare.js';
import { deltaLabel, laneLabel } from './compare.js';

type Ok = Extract<Comparison, { ok: true }>;

export interface ConfirmPlan {
  /** Arguments for `bench` (after `--`), --json included: the re-run's results come on stdout. */
  readonly argv: readonly string[];
  /** The lanes re-run, and the flagged items the re-run must show again. */
  readonly lanes: readonly string[];
  readonly items: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Numbers in a metric's batch label: 128, or "32..128" for a marginal cost (both cells). */
function batchesOf(label: unknown): number[] {
  if (typeof label === 'number') return [label];
  if (typeof label !== 'string') return [];
  return label
    .split('..')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Design names a metric's labels give: `design` (native) or `designs` (a stand-in's, space-separated). */
function designsOf(
  labels: Readonly<Record<string, unknown>>,
  known: ReadonlySet<string>,
): string[] {
  const names = [
    ...(typeof labels.design === 'string' ? [labels.design] : []),
    ...(typeof labels.designs === 'string' ? labels.designs.split(' ') : []),
  ];
  return names.filter((n) => known.has(n));
}

const sortedUnique = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => a - b);

/**
 * The re-run that covers every flagged regression of `c` (a metric's cell,
 * or a whole lane when the lane as a whole regressed), with the new run's
 * rounds, duration, CPUs and libbpf; null when nothing was flagged.
 */
export function confirmPlan(c: Ok, next: Results): ConfirmPlan | null {
  const deltas = c.deltas.filter((d) => d.regression);
  const laneShifts = c.lanes.filter((l) => l.regression);
  if (deltas.length + laneShifts.length === 0) return null;
  const o = isObject(next.options) ? next.options : {};
  const list = (key: string) => (Array.isArray(o[key]) ? (o[key] as unknown[]) : []);
  const runDesigns = list('designs').filter((x): x is string => typeof x === 'string');
  const runBatches = list('batches').filter((x): x is number => typeof x === 'number');
  const runThreads = list('threads').filter((x): x is number => typeof x === 'number');
  const known = new Set([...runDesigns, ...DESIGNS.map((d) => d.name)]);
  const metrics = new Map(next.lanes.flatMap((l) => l.metrics).map((m) => [m.id, m]));

  // A whole lane that regressed is re-run whole: every design, batch and thread count.
  const wholeLanes = new Set(laneShifts.map((l) => l.lane));
  const lanes = new Set([...wholeLanes, ...deltas.map((d) => d.lane)]);
  const designs = new Set<string>();
  const batches: number[] = [];
  const threads: number[] = [];
  const allDesigns = wholeLanes.size > 0;
  if (wholeLanes.size > 0) {
    batches.push(...runBatches);
    threads.push(...runThreads);
  }
  for (const d of deltas) {
    const labels = metrics.get(d.id)?.labels ?? {};
    batches.push(...batchesOf(labels.batch));
    if (typeof labels.threads === 'number') threads.push(labels.threads);
    const named = designsOf(labels, known);
    for (const n of named) designs.add(n);
    // A baseline's own cell (nop, none, core) names no design: any design brings the baseline along.
    if (named.length === 0 && designs.size === 0 && runDesigns[0] !== undefined)
      designs.add(runDesigns[0]);
  }
  const designList = allDesigns || designs.size === 0 ? runDesigns : [...designs];
  const argv = [
    '--lanes',
    [...lanes].join(','),
    ...(designList.length > 0 ? ['--designs', designList.join(',')] : []),
    ...(batches.length > 0 ? ['--batches', sortedUnique(batches).join(',')] : []),
    ...(threads.length > 0 ? ['--threads', sortedUnique(threads).join(',')] : []),
    ...(typeof o.rounds === 'number' ? ['--rounds', String(o.rounds)] : []),
    ...(typeof o.durationMs === 'number' ? ['--duration', String(o.durationMs)] : []),
    ...(Array.isArray(o.cpus) && o.cpus.length > 0 ? ['--cpus', o.cpus.join(',')] : []),
    // Placed as the run was: its thread counts may exceed the CPUs only as it did, unpinned if it was.
    ...(o.oversubscribe === true ? ['--oversubscribe'] : []),
    ...(isObject(o.placement) && o.placement.mode === 'off' ? ['--no-pin'] : []),
    ...(typeof o.libbpf === 'string' ? ['--libbpf', o.libbpf] : []),
    '--no-report',
    '--json',
  ];
  return { argv, lanes: [...lanes], items: deltas.length + laneShifts.length };
}

export interface Confirmation {
  /** Each flagged regression, by the name compare shows, and whether the re-run showed it again. */
  readonly items: readonly {
    readonly name: string;
    readonly confirmed: boolean;
    readonly again: string;
  }[];
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/**
 * Judges the re-run: `recheck` compares the base run with the re-run. A
 * flagged metric is confirmed when the same test (raw or ratio) is a
 * regression there too; a flagged lane when the lane, over the cells
 * re-run, is. The re-run's own Holm family is the cells it re-ran.
 */
export function judgeConfirmation(c: Ok, recheck: Ok): Confirmation {
  const again = (d: MetricDelta) => recheck.deltas.find((x) => x.id === d.id && x.kind === d.kind);
  const laneAgain = (l: LaneShift) =>
    recheck.lanes.find((x) => x.lane === l.lane && x.kind === l.kind);
  const items = [
    ...c.lanes
      .filter((l) => l.regression)
      .map((l) => {
        const r = laneAgain(l);
        return {
          name: `${laneLabel(l)} lane as a whole ${pct(l.change)}`,
          confirmed: r?.regression === true,
          again:
            r === undefined
              ? 'not re-measured'
              : `${pct(r.change)} [${pct(r.ci95[0])}, ${pct(r.ci95[1])}]`,
        };
      }),
    ...c.deltas
      .filter((d) => d.regression)
      .map((d) => {
        const r = again(d);
        return {
          name: `${deltaLabel(d)} ${pct(d.change)}`,
          confirmed: r?.regression === true,
          again:
            r === undefined
              ? 'not re-measured'
              : `${pct(r.change)}, p ${r.pAdjusted < 0.001 ? r.pAdjusted.toExponential(0) : r.pAdjusted.toFixed(3)}`,
        };
      }),
  ];
  return { items };
}
