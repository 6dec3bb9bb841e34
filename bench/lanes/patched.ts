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

import { readFileSync } from 'node:fs';
import { readKernelBtf } from '../../lib/btf.js';
import { probeKernel } from '../../native/index.js';
import { detectBpfOp, POSTED_VERSIONS, probeLine, versionLine } from '../../native/patched.js';
import {
  buildPatched,
  kfuncMismatch,
  missingToolchain,
  runPatched,
} from '../../native/patched-run.js';
import { type Lane, LaneSkipped, metric } from '../lane.js';
import type { Json, Metric } from '../results.js';

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
    ctx.progress(0, 1);
    const result = runPatched(built.runner, built.object, version, {
      batches: o.batches,
      threads: o.threads,
      rounds: o.rounds,
      sampleMs: o.durationMs,
    });
    ctx.progress(1, 1);
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
    return { metrics, notes, details };
  },
};
