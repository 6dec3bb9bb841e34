// The patched lane: real IORING_OP_BPF requests, when the running kernel has
// Ming Lei's series. Detection is by probing (native/patched.ts), never by
// version number; on a stock kernel the lane is skipped as "not present"
// with every probe and its result (kept in the lane's details). When the
// series is there, the lane builds its struct_ops programs (a no-op, an
// array lookup, one that sets the CQE result) with clang and libbpf,
// registers them per the detected version's UAPI, and times them against a
// plain NOP on the same rings, like the kernel lane. Before loading, the
// objects' kfunc declarations are checked against the kernel's BTF, so a
// mismatch fails in one line naming the kfunc instead of in libbpf's log.
// After the timing, the lane measures the kernel's own memory per
// registration (iou-patched --memory: Slab and VmallocUsed from
// /proc/meminfo, MEMORY_RINGS rings x 16 ops, programs shared or each
// registration's own) beside the memory model's per-ctx figure; a failure
// there is a note, never a failed lane, since the timing stands.

import { readFileSync } from 'node:fs';
import type { StructSizes } from '../../designs/memory.js';
import { perCtx } from '../../designs/per-ctx.js';
import { readKernelBtf } from '../../lib/btf.js';
import { probeKernel } from '../../native/index.js';
import { detectBpfOp, POSTED_VERSIONS, probeLine, versionLine } from '../../native/patched.js';
import {
  buildPatched,
  kfuncMismatch,
  MEMORY_MODES,
  type MemoryMode,
  type MemoryParts,
  memoryGrowth,
  missingToolchain,
  type PatchedMemory,
  runPatched,
  runPatchedMemory,
} from '../../native/patched-run.js';
import { type Lane, LaneSkipped, metric } from '../lane.js';
import type { Json, Metric } from '../results.js';
import { structSizes } from './memory.js';

/** Ring counts the memory part registers 16 ops on, in each mode. */
export const MEMORY_RINGS = [10, 40] as const;

/** What each mode's registration is, for the notes. */
const MODE_WHAT: Record<MemoryMode, string> = {
  shared:
    'programs shared (loaded once; each registration a struct_ops map made by hand naming them, and its link)',
  own: 'programs per registration (each registration loads its own copy of the object: its BTF, prep and nop_issue, one struct_ops map, and the link)',
};

/** Why VmallocUsed is lumpy (kernel/bpf/core.c BPF_PROG_PACK_SIZE, arch_alloc_bpf_trampoline on x86). */
const PACK_STEPS =
  "VmallocUsed moves in whole 2 MiB bpf_prog_pack steps on x86 (each map's 4 KiB trampoline image and the JITed programs come from them), so it averages out only over many registrations";

/** Bytes as KiB (or MiB from 1 MiB on), one decimal. */
export function kib(bytes: number): string {
  return Math.abs(bytes) >= 1 << 20
    ? `${(bytes / (1 << 20)).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * The memory model's bytes per registration for per-ctx (designs/per-ctx.ts,
 * as the memory lane computes it with `sizes`): `rings` x `ops`, the
 * programs shared by every ring ('shared') or each ring's own ('own', the
 * model's 'per-ring', which leaves out the programs and their maps).
 */
export function modelPerRegistration(
  mode: MemoryMode,
  rings: number,
  ops: number,
  sizes: StructSizes,
): number | null {
  const b = perCtx.memory(
    {
      rings,
      programs: ops,
      threadsPerProcess: 1,
      sharing: mode === 'shared' ? 'shared' : 'per-ring',
    },
    sizes,
  );
  return b.doesNotFit === null ? b.bytes / (rings * ops) : null;
}

const partsJson = (p: MemoryParts | null): Json =>
  p === null ? null : { slab: p.slab, vmallocUsed: p.vmallocUsed, total: p.total };

/**
 * Metrics, one note per mode and details from `iou-patched --memory`:
 * `patched-memory/<mode>/r<rings>` in bytes per registration (Slab +
 * VmallocUsed growth / registrations), the model's figure beside it when
 * `model` gives one. Pure: the lane passes the runner's output and the model.
 */
export function memoryReport(
  memory: PatchedMemory,
  uapi: string,
  model: (mode: MemoryMode, rings: number) => number | null,
): { metrics: Metric[]; notes: string[]; details: Json } {
  const metrics: Metric[] = [];
  const notes: string[] = [];
  const runs: Json[] = [];
  for (const mode of MEMORY_MODES) {
    const mine = memory.runs.filter((r) => r.mode === mode);
    if (mine.length === 0) continue;
    const parts: string[] = [];
    const modelFigures: string[] = [];
    for (const run of mine) {
      const g = memoryGrowth(run);
      const modelBytes = model(mode, run.rings);
      if (modelBytes !== null) modelFigures.push(`${kib(modelBytes)} at ${run.rings} rings`);
      runs.push({
        mode,
        rings: run.rings,
        ops: memory.ops,
        registrations: run.registrations,
        notEffective: run.notEffective,
        error: run.error,
        registerMs: run.registerMs,
        settled: { ...run.settled },
        before: run.before === null ? null : { ...run.before },
        after: run.after === null ? null : { ...run.after },
        teardown: run.teardown === null ? null : { ...run.teardown },
        perRegistrationBytes: g.ok ? partsJson(g.perRegistration) : null,
        totalBytes: g.ok ? partsJson(g.total) : null,
        teardownResidueBytes: g.ok ? partsJson(g.residue) : null,
        teardownResidueTasks: g.ok ? g.residueThreads : null,
        modelPerRegistrationBytes: modelBytes,
        notMeasured: g.ok ? null : g.reason,
      });
      if (!g.ok) {
        parts.push(`${run.rings} rings: not measured (${g.reason})`);
        continue;
      }
      const p = g.perRegistration;
      const residue =
        g.residue === null
          ? ''
          : `; after teardown ${kib(g.residue.total)} remained${g.residueThreads === null ? '' : `, with ${g.residueThreads} more tasks`}`;
      parts.push(
        `${run.rings} rings: ${kib(p.total)} (Slab ${kib(p.slab)} + VmallocUsed ${kib(p.vmallocUsed)}; ${kib(g.total.total)} in all for ${run.registrations}${residue})`,
      );
      metrics.push(
        metric(
          {
            id: `patched-memory/${mode}/r${run.rings}`,
            lane: 'patched',
            labels: {
              mode,
              rings: run.rings,
              ops: memory.ops,
              registrations: run.registrations,
              version: uapi,
            },
            unit: 'bytes',
            better: 'lower',
          },
          [p.total],
        ),
      );
    }
    const modelLine =
      modelFigures.length === 0
        ? ''
        : mode === 'shared'
          ? `; the memory model (designs/per-ctx.ts, programs shared) gives ${modelFigures.join(', ')}, counting also each ring's op table, which the ring allocates before the first reading here`
          : `; the memory model (designs/per-ctx.ts, programs per ring) gives ${modelFigures.join(', ')}, counting also each ring's op table and leaving out the programs and their maps, which this mode loads per registration`;
    notes.push(
      `kernel memory per registration, ${MODE_WHAT[mode]}, as (Slab + VmallocUsed growth) / registrations with ${memory.ops} ops per ring: ${parts.join('; ')}${modelLine}; ${PACK_STEPS}`,
    );
  }
  return { metrics, notes, details: { ops: memory.ops, runs } };
}

export const patchedLane: Lane = {
  name: 'patched',
  title: 'IORING_OP_BPF itself, on kernels with the series',
  async run(ctx) {
    const btf = readKernelBtf();
    const detection = detectBpfOp(
      probeKernel(),
      btf.ok ? btf.btf : null,
      btf.ok ? null : btf.reason,
    );
    const details = {
      present: detection.present,
      version: detection.version,
      matches: [...detection.matches],
      loopStepHook: detection.loopStepHook,
      probes: detection.probes.map((p) => ({ ...p })),
    } satisfies Json;
    if (!detection.present)
      throw new LaneSkipped(`IORING_OP_BPF not present (${probeLine(detection)})`, details);
    const version = detection.version;
    if (version === null || version === 'unknown')
      throw new LaneSkipped(
        `IORING_OP_BPF present but matches no posted version (${probeLine(detection)})`,
        details,
      );
    const o = ctx.options;
    const missing = missingToolchain(o.libbpf);
    if (missing !== null)
      throw new LaneSkipped(`IORING_OP_BPF ${version} present; ${missing}`, details);
    const built = buildPatched(version, o.libbpf);
    if (!built.ok) throw new Error(`building the patched lane's programs: ${built.reason}`);
    // Detection found the struct_ops type, so the BTF was readable.
    if (btf.ok) {
      const mismatch = kfuncMismatch(readFileSync(built.object), btf.btf);
      if (mismatch !== null) throw new Error(`the patched lane's programs: ${mismatch}`);
    }
    ctx.progress(0, 2);
    const target = {
      runner: built.runner,
      object: built.object,
      version,
      // Present with a known version means a setup bit was accepted.
      setupBit: detection.setupBit ?? POSTED_VERSIONS[version].setupBit,
    };
    const result = runPatched(target, {
      batches: o.batches,
      threads: o.threads,
      cpus: o.placement.cpus,
      rounds: o.rounds,
      sampleMs: o.durationMs,
    });
    if (!result.ok) throw new Error(`iou-patched: ${result.reason}`);
    // The versions whose UAPI this is ('v2/v3' when detection cannot tell them apart).
    const uapi = detection.matches.join('/');
    const id = (v: string, b: number, t: number) => `patched/${v}/b${b}/t${t}`;
    const notes: string[] = [
      `detected ${versionLine(detection)}`,
      `registration: ${POSTED_VERSIONS[version].registration}`,
    ];
    if (detection.loopStepHook)
      notes.push('the merged io_uring_bpf_ops (loop_step) hook is also present');
    const metrics: Metric[] = [];
    for (const c of result.cells) {
      if (c.error !== 0) {
        notes.push(`${c.variant} b${c.batch} t${c.threads}: failed with errno ${-c.error}`);
        continue;
      }
      const base = result.cells.find(
        (x) => x.variant === 'nop' && x.batch === c.batch && x.threads === c.threads,
      );
      metrics.push(
        metric(
          {
            id: id(c.variant, c.batch, c.threads),
            lane: 'patched',
            labels: { variant: c.variant, version: uapi, batch: c.batch, threads: c.threads },
            unit: 'ns/req',
            better: 'lower',
          },
          c.nsPerReq,
          base !== undefined && base.error === 0
            ? { id: id('nop', c.batch, c.threads), values: base.nsPerReq }
            : undefined,
        ),
      );
    }
    ctx.progress(1, 2);
    // The memory part: its failure is a note, the timing above stands.
    let memoryDetails: Json;
    try {
      if (version === 'v1')
        throw new Error(
          'v1 registers its ops globally, not per ring (the measurement is per ring)',
        );
      const memory = runPatchedMemory(target, MEMORY_RINGS);
      if (!memory.ok) throw new Error(memory.reason);
      const { sizes } = structSizes();
      const report = memoryReport(memory.memory, uapi, (mode, rings) =>
        modelPerRegistration(mode, rings, memory.memory.ops, sizes),
      );
      metrics.push(...report.metrics);
      notes.push(...report.notes);
      memoryDetails = report.details;
    } catch (e) {
      const reason = (e as Error).message;
      notes.push(`kernel memory per registration not measured: ${reason}`);
      memoryDetails = { error: reason };
    }
    ctx.progress(2, 2);
    return { metrics, notes, details: { ...details, memory: memoryDetails } };
  },
};
