// The native lane: every design written in C (native/src/designs/) timed per
// request on real threads, one ring each. Each request runs the design's
// prep -> issue -> completion -> cleanup, a batch under one uring_lock as
// io_submit_sqes() takes it, either alone ("pure"), alone with IOSQE_ASYNC
// ("iowq": issue without uring_lock, where v1 reads its table under SRCU),
// or inside a real io_uring loop that also submits the batch as NOPs ("ring").
// Every ring uses the same programs ("shared") or each its own ("own").
// Baselines measured in the same rounds: 'core' (the C io_uring core with
// no lookup) for the pure and iowq loops, 'ring-only' (the real NOP batch alone) for
// the ring loop. The pure loop at one thread also scales the registered
// program count (1, 16, 256, 4096, 65535 where the design holds that many).

import type { DesignDef } from '../../designs/design.js';
import { type NativeWorkload, nativeDesigns } from '../../native/designs.js';
import { errnoLabel, probeKernel } from '../../native/index.js';
import { type Lane, LaneSkipped, metric } from '../lane.js';
import type { Metric } from '../results.js';
import { capacity, TABLE_SIZES } from './model.js';

const CORE = 'core';
const RING_ONLY = 'ring-only';

type Sharing = 'shared' | 'own';

export const nativeId = (
  design: string,
  loop: NativeWorkload['loop'],
  sharing: Sharing,
  programs: number,
  batch: number,
  threads: number,
) => `native/${design}/${loop}/${sharing}/p${programs}/b${batch}/t${threads}`;

interface Plan {
  readonly workloads: NativeWorkload[];
  readonly cells: { workload: number; batch: number; threads: number }[];
}

/** The cells to measure, in round order: the loops at every batch and thread count, then the scaling. */
export function nativePlan(
  designs: readonly DesignDef[],
  batches: readonly number[],
  threads: readonly number[],
  withRing: boolean,
): Plan {
  const workloads: NativeWorkload[] = [];
  const cells: Plan['cells'] = [];
  const workload = (w: NativeWorkload) => {
    const i = workloads.findIndex(
      (x) =>
        x.design === w.design && x.programs === w.programs && x.loop === w.loop && x.own === w.own,
    );
    if (i >= 0) return i;
    workloads.push(w);
    return workloads.length - 1;
  };
  const largest = Math.max(...batches);
  const names = [CORE, ...designs.map((d) => d.name)];
  const loops: NativeWorkload['loop'][] = withRing ? ['pure', 'iowq', 'ring'] : ['pure', 'iowq'];
  for (const t of threads) {
    // Sharing only means something with more than one ring.
    for (const loop of loops) {
      // The io-wq path is timed with shared programs only: its question is the SRCU read side, not sharing.
      const sharings: Sharing[] = t > 1 && loop !== 'iowq' ? ['shared', 'own'] : ['shared'];
      // The pure loops have no syscall to amortise: batch only spreads uring_lock; time them at the largest.
      for (const b of loop === 'ring' ? batches : [largest]) {
        if (loop === 'ring')
          cells.push({
            workload: workload({ design: RING_ONLY, programs: 1, loop: 'ring-only', own: false }),
            batch: b,
            threads: t,
          });
        for (const s of sharings)
          for (const design of names)
            cells.push({
              workload: workload({ design, programs: 1, loop, own: s === 'own' }),
              batch: b,
              threads: t,
            });
      }
    }
  }
  for (const d of designs)
    for (const n of TABLE_SIZES.filter((n) => n > 1 && n <= capacity(d)))
      cells.push({
        workload: workload({ design: d.name, programs: n, loop: 'pure', own: false }),
        batch: largest,
        threads: 1,
      });
  return { workloads, cells };
}

export const nativeLane: Lane = {
  name: 'native',
  title: 'C designs per request: pure loop and real io_uring loop, shared or own programs',
  async run(ctx) {
    const native = nativeDesigns();
    if (!native.ok) throw new LaneSkipped(native.reason);
    const o = ctx.options;
    const known = new Set(native.addon.designDefs().map((d) => d.name));
    const missing = o.designs.filter((d) => !known.has(d.name));
    if (missing.length > 0)
      throw new Error(
        `native lane: no C design for ${missing.map((d) => d.name).join(', ')} (native/src/designs/registry.c)`,
      );
    const notes: string[] = [];
    const probe = probeKernel();
    if (!probe.available)
      notes.push(`ring loop left out: io_uring unavailable here (${probe.reason})`);
    const plan = nativePlan(o.designs, o.batches, o.threads, probe.available);
    for (const d of o.designs) {
      const left = TABLE_SIZES.filter((n) => n > capacity(d));
      if (left.length > 0)
        notes.push(`${d.name}: holds at most ${capacity(d)} programs; ${left.join(', ')} left out`);
    }
    // A native sample is pure CPU work and settles fast: a fifth of the kernel lane's sample length.
    const sampleMs = Math.max(2, o.durationMs / 5);
    const cells = await native.addon.runNativeLane(
      plan.workloads,
      { cells: plan.cells, rounds: o.rounds, sampleMs, cpus: o.placement.cpus },
      (done, total) => ctx.progress(done, total),
    );
    const sharingOf = (w: NativeWorkload): Sharing => (w.own ? 'own' : 'shared');
    const idOf = (c: (typeof cells)[number]) => {
      const w = plan.workloads[c.workload] as NativeWorkload;
      return nativeId(w.design, w.loop, sharingOf(w), w.programs, c.batch, c.threads);
    };
    const values = new Map(cells.map((c) => [idOf(c), c]));
    const metrics: Metric[] = [];
    const reported = new Set<string>();
    for (const c of cells) {
      const w = plan.workloads[c.workload] as NativeWorkload;
      if (c.error !== 0) {
        const why = `${w.design} ${w.loop} ${sharingOf(w)} p${w.programs} b${c.batch} t${c.threads}: ${errnoLabel(c.error)}`;
        if (!reported.has(why)) notes.push(`could not run ${why}`);
        reported.add(why);
        continue;
      }
      const baselineId =
        w.loop === 'ring' || w.loop === 'ring-only'
          ? nativeId(RING_ONLY, 'ring-only', 'shared', 1, c.batch, c.threads)
          : nativeId(CORE, w.loop, sharingOf(w), 1, c.batch, c.threads);
      const base = values.get(baselineId);
      metrics.push(
        metric(
          {
            id: idOf(c),
            lane: 'native',
            labels: {
              design: w.design,
              loop: w.loop,
              sharing: sharingOf(w),
              programs: w.programs,
              batch: c.batch,
              threads: c.threads,
            },
            unit: 'ns/req',
            better: 'lower',
          },
          c.nsPerReq,
          base !== undefined && base.error === 0
            ? { id: baselineId, values: base.nsPerReq }
            : undefined,
        ),
      );
    }
    return {
      metrics,
      notes,
      details: {
        baselines: { pure: CORE, ring: RING_ONLY },
        sampleMs,
        batchesPerSample: cells.map((c) => ({ id: idOf(c), n: c.iters })),
      },
    };
  },
};
