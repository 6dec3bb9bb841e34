// The kernel lane's metrics as a grid (stand-in x batch x threads), which
// every renderer walks the same way.

import type { LaneResult, Metric } from '../bench/results.js';

export interface KernelGrid {
  /** Per-cell metrics (the marginal-cost metrics are left out). */
  readonly cells: readonly Metric[];
  readonly batches: readonly number[];
  readonly threads: readonly number[];
  /** Stand-ins in the order the lane measured them. */
  readonly standins: readonly string[];
  /** The metric of one cell, if measured. */
  at(standin: string, batch: number, threads: number): Metric | undefined;
}

const sortedNumbers = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

/** The grid of a kernel lane's metrics (empty when the lane has none). */
export function kernelGrid(lane: LaneResult | undefined): KernelGrid {
  const cells = (lane?.metrics ?? []).filter((m) => typeof m.labels.batch === 'number');
  return {
    cells,
    batches: sortedNumbers(cells.map((m) => m.labels.batch as number)),
    threads: sortedNumbers(cells.map((m) => m.labels.threads as number)),
    standins: [...new Set(cells.map((m) => String(m.labels.standin)))],
    at: (standin, batch, threads) =>
      cells.find(
        (m) =>
          m.labels.standin === standin && m.labels.batch === batch && m.labels.threads === threads,
      ),
  };
}
