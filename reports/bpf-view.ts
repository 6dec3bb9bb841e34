// The BPF stand-in lane's metrics as the table every renderer prints: per
// shape, ns/request at each batch (medians) and what it adds over the same
// requests with no program attached: the median of per-round differences
// with its 95 % interval (findings.ts DIFF_DEF), never a difference of the
// medians beside it. Reads results only; measures nothing.

import type { LaneResult, Metric } from '../bench/results.js';
import { perRoundDiffs, summarize } from '../bench/stats.js';
import { fmtDiff } from './numbers.js';

const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);

/** Rows per thread count: shape, what it stands in for, a cell per batch, and the ns added at the largest batch (median of per-round differences [95 % CI]). */
export function bpfTables(
  lane: LaneResult,
  fmt: (m: Metric | undefined) => string,
): { threads: number; batches: number[]; head: string[]; rows: string[][] }[] {
  const batches = sorted(lane.metrics.map((m) => m.labels.batch as number));
  const threads = sorted(lane.metrics.map((m) => m.labels.threads as number));
  const shapes = [...new Set(lane.metrics.map((m) => String(m.labels.shape)))];
  const at = (s: string, b: number, t: number) =>
    lane.metrics.find(
      (m) => m.labels.shape === s && m.labels.batch === b && m.labels.threads === t,
    );
  const largest = batches.at(-1) ?? 0;
  return threads.map((t) => ({
    threads: t,
    batches,
    head: ['shape', 'stands in for', ...batches.map((b) => `b${b}`), `+ns b${largest}`],
    rows: shapes.map((s) => {
      const m = at(s, largest, t);
      const base = m === undefined ? undefined : at(String(m.labels.baseline), largest, t);
      const added =
        m === undefined || base === undefined || base === m
          ? '-'
          : fmtDiff(summarize(perRoundDiffs(m.values, base.values)));
      return [
        s,
        String(m?.labels.designs ?? '') || '-',
        ...batches.map((b) => fmt(at(s, b, t))),
        added,
      ];
    }),
  }));
}
