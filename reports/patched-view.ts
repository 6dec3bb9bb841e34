// The patched lane's metrics as a grid (variant x batch x threads), which
// every renderer walks the same way. Reads results only; measures nothing.

import type { LaneResult, Metric } from '../bench/results.js';
import type { Summary } from '../bench/stats.js';

/** The variant every other one is a ratio to: plain IORING_OP_NOP on the same ring. */
export const PATCHED_BASELINE = 'nop';

export interface PatchedGrid {
  readonly cells: readonly Metric[];
  readonly batches: readonly number[];
  readonly threads: readonly number[];
  /** Variants in the order the lane measured them ('nop' first when it ran). */
  readonly variants: readonly string[];
  /** The largest batch measured, where the xnop ratio is read; undefined with no cells. */
  readonly largest: number | undefined;
  /** Rounds behind each cell (the first cell's n; every cell runs in the same rounds). */
  readonly rounds: number;
  /** The metric of one cell, if measured. */
  at(variant: string, batch: number, threads: number): Metric | undefined;
  /**
   * The per-round ratio to plain NOP at the largest batch, as the lane summarized it;
   * undefined for the baseline itself or when either cell was not measured.
   */
  xnop(variant: string, threads: number): Summary | undefined;
}

const sortedNumbers = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

/** The grid of a patched lane's metrics (empty when the lane has none). */
export function patchedGrid(lane: LaneResult | undefined): PatchedGrid {
  const cells = (lane?.metrics ?? []).filter(
    (m) => typeof m.labels.batch === 'number' && typeof m.labels.threads === 'number',
  );
  const batches = sortedNumbers(cells.map((m) => m.labels.batch as number));
  const at = (variant: string, batch: number, threads: number) =>
    cells.find(
      (m) =>
        m.labels.variant === variant && m.labels.batch === batch && m.labels.threads === threads,
    );
  const largest = batches.at(-1);
  return {
    cells,
    batches,
    threads: sortedNumbers(cells.map((m) => m.labels.threads as number)),
    variants: [...new Set(cells.map((m) => String(m.labels.variant)))],
    largest,
    rounds: cells[0]?.summary.n ?? 0,
    at,
    xnop: (variant, threads) =>
      largest === undefined ? undefined : at(variant, largest, threads)?.vsBaseline?.ratio,
  };
}
