// The typed API over the in-kernel BPF stand-ins (native/src/bpf_standins.c):
// BPF programs on io_uring's per-request tracepoints that find a program the
// way each design would and tail-call it. They are tp_btf programs: the
// tracepoints' type ids and the offsets into struct io_kiocb come from the
// running kernel's BTF.

import type { BtfTypes } from '../lib/btf.js';
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

/** What the programs need from the kernel's BTF. */
export interface BpfBtf {
  /** Byte offset of req->cqe.user_data in struct io_kiocb. */
  readonly userData: number;
  /** Byte offset of req->ctx. */
  readonly ctx: number;
  /** Type id of typedef btf_trace_io_uring_submit_req (the tp_btf attach point). */
  readonly submitReqType: number;
  /** Type id of typedef btf_trace_io_uring_file_get. */
  readonly fileGetType: number;
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
    btf: BpfBtf,
    n: number,
  ): { error: null; counts: number[]; runs: number[] } | { error: string; errno: number };
  runBpfStandins(
    btf: BpfBtf,
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

/** What the programs need from this kernel's BTF, or why it does not have it. */
export function bpfBtf(btf: BtfTypes): { ok: true; btf: BpfBtf } | { ok: false; reason: string } {
  const userData = btf.offsetOf('io_kiocb', 'cqe.user_data');
  const ctx = btf.offsetOf('io_kiocb', 'ctx');
  if (userData === undefined || ctx === undefined)
    return { ok: false, reason: 'the kernel BTF has no io_kiocb with cqe.user_data and ctx' };
  const submitReqType = btf.typedefId('btf_trace_io_uring_submit_req');
  const fileGetType = btf.typedefId('btf_trace_io_uring_file_get');
  if (submitReqType === undefined || fileGetType === undefined)
    return {
      ok: false,
      reason: 'the kernel BTF has no btf_trace_io_uring_submit_req or btf_trace_io_uring_file_get',
    };
  return { ok: true, btf: { userData, ctx, submitReqType, fileGetType } };
}

/** The addon's BPF functions, or why there are none. */
export function bpfAddon(): { ok: true; addon: BpfAddon } | { ok: false; reason: string } {
  const native = loadNative();
  return native.ok ? { ok: true, addon: native.addon } : native;
}

/**
 * Loads every stand-in, runs `n` requests per shape on each of two rings and
 * returns, by shape, how often the found program ran for this process
 * (`counts`) and how often the shape's own program ran for anyone (`runs`,
 * negative errno when the kernel would not count); or one line saying why
 * BPF cannot run here.
 */
export function checkBpfStandins(
  addon: BpfAddon,
  btf: BpfBtf,
  n: number,
):
  | { ok: true; counts: Map<string, number>; runs: Map<string, number> }
  | { ok: false; reason: string } {
  const shapes = addon.bpfShapes();
  const r = addon.bpfCheck(btf, n);
  if (r.error !== null) {
    // EPERM or EACCES without the verifier's word: not allowed to load at all.
    const perm = (r.errno === -1 || r.errno === -13) && !r.error.includes('(verifier: ');
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
  return {
    ok: true,
    counts: new Map(shapes.map((s, i) => [s.name, r.counts[i] ?? 0])),
    runs: new Map(shapes.map((s, i) => [s.name, r.runs[i] ?? 0])),
  };
}
