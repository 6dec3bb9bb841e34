// The kernel lane: the stock kernel's stand-ins for each design's lookup
// (native/), per request, every batch size and thread count, in interleaved
// rounds; each cell also as a per-round ratio to plain NOP of the same
// batch and threads; and the marginal cost per request between the two
// largest batches, where the syscall no longer dominates.

import {
  checkRunOptions,
  probeKernel,
  runStandins,
  type StandinCell,
  standinDefs,
} from '../../native/index.js';
import { type Lane, LaneSkipped, metric } from '../lane.js';
import type { Json, Metric } from '../results.js';

const BASELINE = 'nop';

const cellId = (standin: string, batch: number, threads: number) =>
  `kernel/${standin}/b${batch}/t${threads}`;

/** Per round: (t_hi * hi - t_lo * lo) / (hi - lo), the cost of one more request in a large batch. */
function marginal(lo: StandinCell, hi: StandinCell): number[] {
  return hi.nsPerReq.map(
    (nsHi, r) =>
      (nsHi * hi.batch - (lo.nsPerReq[r] ?? Number.NaN) * lo.batch) / (hi.batch - lo.batch),
  );
}

export const kernelLane: Lane = {
  name: 'kernel',
  title: 'Stock-kernel stand-ins through real io_uring',
  async run(ctx) {
    const probe = probeKernel();
    if (!probe.available) throw new LaneSkipped(probe.reason);
    const o = ctx.options;
    const selected = new Set(o.designs.map((d) => d.id));
    // Stand-ins for the selected designs, and always the plain NOP baseline.
    const standins = standinDefs()
      .filter(
        (d) => d.name === BASELINE || d.designs.split(' ').some((id) => selected.has(id as never)),
      )
      .map((d) => d.name);
    const runOpts = {
      standins,
      batches: o.batches,
      threads: o.threads,
      cpus: o.placement.cpus,
      rounds: o.rounds,
      sampleMs: o.durationMs,
    };
    const problem = checkRunOptions(runOpts);
    if (problem !== null) throw new Error(problem);
    const result = await runStandins(runOpts, (done, total) => ctx.progress(done, total));

    const defs = new Map(standinDefs().map((d) => [d.name, d]));
    const find = (s: string, b: number, t: number) =>
      result.cells.find((c) => c.standin === s && c.batch === b && c.threads === t);
    const metrics: Metric[] = [];
    const notes: string[] = [];
    for (const cell of result.cells) {
      if (cell.unsupported !== null) {
        if (cell.batch === o.batches[0] && cell.threads === o.threads[0]) {
          notes.push(`${cell.standin}: unsupported on this kernel (${cell.unsupported})`);
        }
        continue;
      }
      const base = find(BASELINE, cell.batch, cell.threads);
      metrics.push(
        metric(
          {
            id: cellId(cell.standin, cell.batch, cell.threads),
            lane: 'kernel',
            labels: {
              standin: cell.standin,
              designs: defs.get(cell.standin)?.designs ?? '',
              sharing: defs.get(cell.standin)?.sharing ?? 'none',
              batch: cell.batch,
              threads: cell.threads,
            },
            unit: 'ns/req',
            better: 'lower',
          },
          cell.nsPerReq,
          base !== undefined && base.unsupported === null
            ? { id: cellId(BASELINE, cell.batch, cell.threads), values: base.nsPerReq }
            : undefined,
        ),
      );
    }
    const sorted = [...o.batches].sort((a, b) => a - b);
    const [lo, hi] = [sorted.at(-2), sorted.at(-1)];
    if (lo !== undefined && hi !== undefined) {
      for (const s of standins) {
        for (const t of o.threads) {
          const a = find(s, lo, t);
          const b = find(s, hi, t);
          if (
            a === undefined ||
            b === undefined ||
            a.unsupported !== null ||
            b.unsupported !== null
          )
            continue;
          metrics.push(
            metric(
              {
                id: `kernel/${s}/marginal-b${lo}-b${hi}/t${t}`,
                lane: 'kernel',
                labels: {
                  standin: s,
                  designs: defs.get(s)?.designs ?? '',
                  batch: `${lo}..${hi}`,
                  threads: t,
                },
                unit: 'ns/req',
                better: 'lower',
              },
              marginal(a, b),
            ),
          );
        }
      }
    }
    return {
      metrics,
      notes,
      details: {
        baseline: BASELINE,
        standins: standins.map((s) => ({
          name: s,
          designs: defs.get(s)?.designs ?? '',
          what: defs.get(s)?.what ?? '',
        })),
        batchesPerSample: result.cells.map((c) => ({
          id: cellId(c.standin, c.batch, c.threads),
          n: c.batchesPerSample,
        })),
      } satisfies Json,
    };
  },
};
