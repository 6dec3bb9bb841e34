// The in-kernel BPF stand-in lane (stock kernels, root): real BPF programs
// on io_uring's per-request tracepoints (io_uring_submit_req,
// io_uring_file_get) that find a program the way each design would (an
// array indexed by op id, a hash for ids >= 256, a per-ring table, a tail
// call with a variable key, a table indexed by the request's fd) and
// tail-call it, interleaved in rounds with the same NOPs and no program.
// What it measures: what "find and call a BPF program per request" costs in
// the kernel today. Skips with the reason when BPF cannot load or attach.

import { readKernelBtf } from '../../lib/btf.js';
import { type BpfShapeDef, bpfAddon, bpfBtf, checkBpfStandins } from '../../native/bpf.js';
import { probeKernel } from '../../native/index.js';
import { type Lane, LaneSkipped, metric } from '../lane.js';
import type { Metric } from '../results.js';

/** The batches the lane times: the large ones, where the syscall no longer dominates. */
export const BPF_BATCHES = [32, 128] as const;
/** Requests per shape in the check that the programs load, attach and run. */
const CHECK_REQUESTS = 16;

export const bpfId = (shape: string, batch: number, threads: number) =>
  `bpf-standin/${shape}/b${batch}/t${threads}`;

export const bpfLane: Lane = {
  name: 'bpf-standin',
  title: 'In-kernel BPF stand-ins: find and call a BPF program per request',
  async run(ctx) {
    const kernel = probeKernel();
    if (!kernel.available) throw new LaneSkipped(kernel.reason);
    const addon = bpfAddon();
    if (!addon.ok) throw new LaneSkipped(addon.reason);
    const btf = readKernelBtf();
    if (!btf.ok)
      throw new LaneSkipped(
        `needs the kernel's BTF for tp_btf programs and io_kiocb offsets: ${btf.reason}`,
      );
    const facts = bpfBtf(btf.btf);
    if (!facts.ok) throw new LaneSkipped(facts.reason);
    const check = checkBpfStandins(addon.addon, facts.btf, CHECK_REQUESTS);
    if (!check.ok) throw new LaneSkipped(check.reason);
    const shapes = addon.addon.bpfShapes();
    const o = ctx.options;
    const large = o.batches.filter((b) => b >= BPF_BATCHES[0]);
    const batches = large.length > 0 ? large : [...BPF_BATCHES];
    const cells = await addon.addon.runBpfStandins(
      facts.btf,
      {
        shapes: shapes.map((_, i) => i),
        batches,
        threads: o.threads,
        cpus: o.placement.cpus,
        rounds: o.rounds,
        sampleMs: o.durationMs,
      },
      (done, total) => ctx.progress(done, total),
    );
    const byName = new Map<string, BpfShapeDef>(shapes.map((s) => [s.name, s]));
    const find = (shape: string, b: number, t: number) =>
      cells.find((c) => c.shape === shape && c.batch === b && c.threads === t);
    const notes: string[] = [];
    const metrics: Metric[] = [];
    for (const c of cells) {
      const def = byName.get(c.shape);
      if (c.error !== 0) {
        notes.push(`${c.shape} b${c.batch} t${c.threads}: failed with errno ${-c.error}`);
        continue;
      }
      const base = find(def?.baseline ?? 'none', c.batch, c.threads);
      metrics.push(
        metric(
          {
            id: bpfId(c.shape, c.batch, c.threads),
            lane: 'bpf-standin',
            labels: {
              shape: c.shape,
              designs: def?.designs ?? '',
              tracepoint: def?.tracepoint ?? 'none',
              baseline: def?.baseline ?? 'none',
              batch: c.batch,
              threads: c.threads,
            },
            unit: 'ns/req',
            better: 'lower',
          },
          c.nsPerReq,
          base !== undefined && base.error === 0
            ? { id: bpfId(base.shape, c.batch, c.threads), values: base.nsPerReq }
            : undefined,
        ),
      );
    }
    return {
      metrics,
      notes,
      details: {
        btf: { ...facts.btf },
        // How often the found program ran for CHECK_REQUESTS requests on each of two rings
        // (per-ring registers on each ring's first), and how often each shape's program ran.
        invocations: Object.fromEntries(check.counts),
        runs: Object.fromEntries(check.runs),
        checkRequests: CHECK_REQUESTS,
        shapes: shapes.map((s) => ({ ...s })),
      },
    };
  },
};
