// The typed API over the in-kernel BPF stand-ins (native/src/bpf_standins.c):
// BPF programs on io_uring's per-request tracepoints that find a program the
// way each design would and tail-call it. Offsets into struct io_kiocb come
// from the running kernel's BTF.

import type { BtfTypes } from '../bench/btf.js';
import { errnoLabel, loadNative } from './index.js';

export interface BpfShapeDef {
  readonly name: string;
  /** Design ids (space-separated) whose lookup it stands in for; empty for the baselines. */
  readonly designs: string;
  readonly what: string;
  /** The tracepoint its program attaches to, or null (nothing attached). */
  readonly tracepoint: string | null;
  /** The no-program shape it is measured against. */
  readonly baseline: string;
}

export interface BpfOffsets {
  readonly userData: number;
  readonly ctx: number;
}

export interface BpfCell {
  readonly shape: string;
  readonly batch: number;
  readonly threads: number;
  readonly error: number;
  readonly iters: number;
  readonly nsPerReq: number[];
}

export interface BpfAddon {
  bpfShapes(): BpfShapeDef[];
  bpfCheck(
    off: BpfOffsets,
    n: number,
  ): { error: null; counts: number[] } | { error: string; errno: number };
  runBpfStandins(
    off: BpfOffsets,
    opts: {
      shapes: number[];
      batches: readonly number[];
      threads: readonly number[];
      cpus: readonly number[];
      rounds: number;
      sampleMs: number;
    },
    onProgress?: (done: number, total: number) => void,
  ): Promise<BpfCell[]>;
}

/** req->cqe.user_data and req->ctx in this kernel's struct io_kiocb, or why they are unknown. */
export function bpfOffsets(
  btf: BtfTypes,
): { ok: true; off: BpfOffsets } | { ok: false; reason: string } {
  const userData = btf.offsetOf('io_kiocb', 'cqe.user_data');
  const ctx = btf.offsetOf('io_kiocb', 'ctx');
  if (userData === undefined || ctx === undefined)
    return { ok: false, reason: 'the kernel BTF has no io_kiocb with cqe.user_data and ctx' };
  return { ok: true, off: { userData, ctx } };
}

/** The addon's BPF functions, or why there are none. */
export function bpfAddon(): { ok: true; addon: BpfAddon } | { ok: false; reason: string } {
  const native = loadNative();
  return native.ok ? { ok: true, addon: native.addon } : native;
}

/**
 * Loads every stand-in, runs `n` requests per shape and returns how often
 * the found program ran, by shape; or one line saying why BPF cannot run here.
 */
export function checkBpfStandins(
  addon: BpfAddon,
  off: BpfOffsets,
  n: number,
): { ok: true; counts: Map<string, number> } | { ok: false; reason: string } {
  const shapes = addon.bpfShapes();
  const r = addon.bpfCheck(off, n);
  if (r.error !== null) {
    const perm = r.errno === -1 || r.errno === -13;
    return {
      ok: false,
      reason: perm
        ? `${r.error}: loading BPF programs needs root (or CAP_BPF and CAP_PERFMON)`
        : r.error,
    };
  }
  const failed = r.counts.findIndex((c) => c < 0);
  if (failed >= 0)
    return {
      ok: false,
      reason: `attaching the '${shapes[failed]?.name}' program failed: ${errnoLabel(r.counts[failed] ?? 0)}`,
    };
  return { ok: true, counts: new Map(shapes.map((s, i) => [s.name, r.counts[i] ?? 0])) };
}
