// The native lane's metrics as the tables every renderer prints: each C
// design per request (pure and ring loops, shared and own programs), its
// scaling with registered programs, and the cross-check that puts the
// native cost a design adds next to the cost its kernel stand-in adds.
// Reads results only; measures nothing.

import type { LaneResult, Metric, Results } from '../bench/results.js';
import { perRoundDiffs, perRoundRatios, type Summary, summarize } from '../bench/stats.js';
import { kernelGrid } from './kernel-view.js';
import { fmtRatio } from './numbers.js';

export interface NativeView {
  /** Designs (and 'core') in the order measured. */
  readonly designs: readonly string[];
  readonly batch: number;
  readonly threads: readonly number[];
  readonly sizes: readonly number[];
  at(
    design: string,
    loop: string,
    sharing: string,
    programs: number,
    batch: number,
    threads: number,
  ): Metric | undefined;
}

const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);

/** The view of a native lane (empty when it has no metrics). */
export function nativeView(lane: LaneResult | undefined): NativeView {
  const metrics = lane?.metrics ?? [];
  const byId = new Map(metrics.map((m) => [m.id, m]));
  return {
    designs: [...new Set(metrics.map((m) => String(m.labels.design)))].filter(
      (d) => d !== 'ring-only',
    ),
    batch: Math.max(0, ...metrics.map((m) => m.labels.batch as number)),
    threads: sorted(metrics.map((m) => m.labels.threads as number)),
    sizes: sorted(metrics.map((m) => m.labels.programs as number)),
    at: (design, loop, sharing, programs, batch, threads) =>
      byId.get(`native/${design}/${loop}/${sharing}/p${programs}/b${batch}/t${threads}`),
  };
}

/** Median of per-round ratios: how much slower every ring using the same programs is than each ring its own. */
export function sharedOverOwn(shared: Metric | undefined, own: Metric | undefined): Summary | null {
  if (shared === undefined || own === undefined) return null;
  return summarize(perRoundRatios(shared.values, own.values));
}

/** One cross-check cell: what the design adds natively and what its stand-in adds in the kernel. */
/**
 * The per-design table every renderer prints: one thread pure, the largest
 * thread count with the same programs and with its own (and their per-round
 * ratio), the io-wq loop and the ring loop. `fmt` renders one metric; the
 * header names columns as `names` says.
 */
export function nativeTable(
  v: NativeView,
  fmt: (m: Metric | undefined) => string,
  names: { pure: string; same: string; own: string; ratio: string; iowq: string; ring: string },
): { head: string[]; rows: string[][] } {
  const t = Math.max(...v.threads);
  const head = ['design', names.pure];
  if (t > 1)
    head.push(names.same.replace('N', String(t)), names.own.replace('N', String(t)), names.ratio);
  head.push(names.iowq, names.ring);
  const rows = v.designs.map((d) => {
    const row = [d, fmt(v.at(d, 'pure', 'shared', 1, v.batch, 1))];
    if (t > 1) {
      const same = v.at(d, 'pure', 'shared', 1, v.batch, t);
      const own = v.at(d, 'pure', 'own', 1, v.batch, t);
      const ratio = sharedOverOwn(same, own);
      // The median of per-round ratios with its interval (findings.ts RATIO_DEF), not a ratio of the cells beside it.
      row.push(fmt(same), fmt(own), ratio === null ? '-' : fmtRatio(ratio));
    }
    row.push(
      fmt(v.at(d, 'iowq', 'shared', 1, v.batch, 1)),
      fmt(v.at(d, 'ring', 'shared', 1, v.batch, 1)),
    );
    return row;
  });
  return { head, rows };
}

export interface CrossCheckCell {
  readonly threads: number;
  readonly sharing: 'shared' | 'own';
  /** ns/request the C design adds to the C io_uring core, both inside a real NOP loop. */
  readonly native: Summary;
  /** ns/request the stand-in adds over plain NOP in the kernel lane; null when not measured. */
  readonly kernel: Summary | null;
}

export interface CrossCheckRow {
  readonly design: string;
  /** The kernel stand-in for the design's primitive, or null when the kernel lane has none. */
  readonly standin: string | null;
  readonly batch: number;
  readonly cells: readonly CrossCheckCell[];
}

const laneOf = (r: Results, name: string) =>
  r.lanes.find((l) => l.lane === name && l.status === 'ok');

/**
 * Per design at the largest batch: the native cost next to the kernel
 * stand-in that exercises the same primitive (its `designs` label names the
 * design; for shared programs a stand-in whose threads share one file is
 * preferred, for own ones a file per thread, else one that shares nothing;
 * io-wq stand-ins are left out). Cells cover 1 thread and, for the largest
 * thread count, shared and own programs.
 */
export function crossCheck(r: Results): CrossCheckRow[] {
  const view = nativeView(laneOf(r, 'native'));
  const grid = kernelGrid(laneOf(r, 'kernel'));
  const b = view.batch;
  const tmax = Math.max(...view.threads);
  const shapes: { threads: number; sharing: 'shared' | 'own' }[] = [
    { threads: 1, sharing: 'shared' },
  ];
  if (tmax > 1)
    shapes.push({ threads: tmax, sharing: 'shared' }, { threads: tmax, sharing: 'own' });
  const standinFor = (id: string, sharing: 'shared' | 'own', t: number): string | null => {
    const candidates = grid.standins.filter((s) => {
      const cell = grid.at(s, b, t);
      return (
        cell !== undefined &&
        !s.endsWith('-async') &&
        String(cell.labels.designs).split(' ').includes(id)
      );
    });
    const of = (s: string) => String(grid.at(s, b, t)?.labels.sharing);
    const want = sharing === 'shared' ? 'same' : 'own';
    return (
      candidates.find((s) => of(s) === want) ?? candidates.find((s) => of(s) === 'none') ?? null
    );
  };
  const rows: CrossCheckRow[] = [];
  for (const design of view.designs.filter((d) => d !== 'core')) {
    const id = design.split('+')[0] as string;
    const cells: CrossCheckCell[] = [];
    let standin: string | null = null;
    for (const { threads: t, sharing } of shapes) {
      const m = view.at(design, 'ring', sharing, 1, b, t);
      const core = view.at('core', 'ring', sharing, 1, b, t);
      if (m === undefined || core === undefined) continue;
      const s = standinFor(id, sharing, t);
      standin ??= s === null ? null : s.replace(/-(same|own)$/, '');
      const cell = s === null ? undefined : grid.at(s, b, t);
      const nop = grid.at('nop', b, t);
      cells.push({
        threads: t,
        sharing,
        native: summarize(perRoundDiffs(m.values, core.values)),
        kernel:
          cell === undefined || nop === undefined
            ? null
            : summarize(perRoundDiffs(cell.values, nop.values)),
      });
    }
    if (cells.length > 0) rows.push({ design, standin, batch: b, cells });
  }
  return rows;
}
