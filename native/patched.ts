// IORING_OP_BPF itself (Ming Lei's series): how each posted version encodes
// a request and which setup flag its rings need, and detection of the
// series in the running kernel by probing, never by version number
// (../shared/DESIGN.md, "Patched kernels"):
//   * opcode 65 in IORING_REGISTER_PROBE;
//   * the setup flags: v1 IORING_SETUP_BPF and v2 IORING_SETUP_BPF_OP are
//     bit 20, v3 IORING_SETUP_BPF_EXT is bit 21 (v3's base kernel gives bit 20
//     to IORING_SETUP_SQ_REWIND, so bit 21 is checked first);
//   * IORING_FEAT_BPF, bit 18;
//   * the struct_ops type uring_bpf_ops in the kernel's BTF, and v2/v3's
//     per-ring slot type uring_bpf_ops_kern, which v1 (one global array of
//     copied ops) does not have.
// Pavel Begunkov's merged io_uring_bpf_ops (a loop_step hook on
// DEFER_TASKRUN rings) is a different hook and is reported on its own.

import type { BtfTypes } from '../lib/btf.js';
import type { KernelProbe } from './index.js';

export const IORING_OP_BPF = 65;
export const IORING_FEAT_BPF_BIT = 18;
/** sqe->bpf_op_flags: the op id in the top 8 bits, the program's own flags in the low 24. */
export const IORING_BPF_OP_SHIFT = 24;
/** Byte offsets in the 64-byte SQE (include/uapi/linux/io_uring.h). */
const SQE = { opcode: 0, flags: 1, fd: 4, opFlags: 28, userData: 32, size: 64 } as const;

export type PostedVersion = 'v1' | 'v2' | 'v3';

export interface VersionDef {
  readonly setupFlag: string;
  readonly setupBit: number;
  /** Op ids the version accepts: v1 indexes a global bpf_ops[256]; v2/v3 a per-ring table of 16. */
  readonly opIds: number;
  /** How a program is registered. */
  readonly registration: string;
  readonly messageId: string;
}

export const POSTED_VERSIONS: Readonly<Record<PostedVersion, VersionDef>> = {
  v1: {
    setupFlag: 'IORING_SETUP_BPF',
    setupBit: 20,
    opIds: 256,
    registration: 'struct_ops map with a global id (u16, unchecked against 256)',
    messageId: '20251104162123.1086035-4-ming.lei@redhat.com',
  },
  v2: {
    setupFlag: 'IORING_SETUP_BPF_OP',
    setupBit: 20,
    opIds: 16,
    registration: 'one struct_ops map per (ring, op): ring_fd and id in the map value',
    messageId: '20260106101126.4064990-6-ming.lei@redhat.com',
  },
  v3: {
    setupFlag: 'IORING_SETUP_BPF_EXT',
    setupBit: 21,
    opIds: 16,
    registration: 'one struct_ops map per (ring, op): ring_fd and id in the map value',
    messageId: '20260324163753.1900977-7-ming.lei@redhat.com',
  },
};

export interface BpfSqeFields {
  /** The op id: the top 8 bits of bpf_op_flags. */
  readonly op: number;
  /** The low 24 bits, the program's own. */
  readonly progFlags?: number;
  readonly userData: bigint;
  readonly fd?: number;
  readonly sqeFlags?: number;
}

/** The 64-byte SQE of an IORING_OP_BPF request as `version` reads it; RangeError for an op it cannot name. */
export function encodeBpfSqe(version: PostedVersion, f: BpfSqeFields): Buffer {
  const { opIds } = POSTED_VERSIONS[version];
  if (!Number.isInteger(f.op) || f.op < 0 || f.op >= opIds)
    throw new RangeError(`${version}: op id ${f.op} is outside 0..${opIds - 1}`);
  const progFlags = f.progFlags ?? 0;
  if (!Number.isInteger(progFlags) || progFlags < 0 || progFlags >= 1 << IORING_BPF_OP_SHIFT)
    throw new RangeError(`program flags ${progFlags} do not fit the low 24 bits of bpf_op_flags`);
  const sqe = Buffer.alloc(SQE.size);
  sqe.writeUInt8(IORING_OP_BPF, SQE.opcode);
  sqe.writeUInt8(f.sqeFlags ?? 0, SQE.flags);
  sqe.writeInt32LE(f.fd ?? -1, SQE.fd);
  sqe.writeUInt32LE(((f.op << IORING_BPF_OP_SHIFT) | progFlags) >>> 0, SQE.opFlags);
  sqe.writeBigUInt64LE(f.userData, SQE.userData);
  return sqe;
}

/** The op id and program flags an SQE carries (what uring_bpf_get_op() reads). */
export function decodeBpfOpFlags(sqe: Buffer): { op: number; progFlags: number } {
  const flags = sqe.readUInt32LE(SQE.opFlags);
  return { op: flags >>> IORING_BPF_OP_SHIFT, progFlags: flags & ((1 << IORING_BPF_OP_SHIFT) - 1) };
}

export interface Probe {
  readonly what: string;
  readonly result: string;
}

export interface Detection {
  /** The series is in this kernel: opcode 65 and (when BTF is readable) the uring_bpf_ops type. */
  readonly present: boolean;
  /** Which posted version's UAPI the lane uses, when present. */
  readonly version: PostedVersion | 'unknown' | null;
  /**
   * Every posted version this kernel matches equally: probing sees the UAPI
   * and BTF types, not the version. A v2 rebased past IORING_SETUP_SQ_REWIND
   * (bit 20 since 7.2) takes bit 21 as v3 did, and v3 kept v2's types, so a
   * kernel with bit 21 matches both.
   */
  readonly matches: readonly PostedVersion[];
  /** The setup bit the kernel accepted for the series' rings (21 checked first), when present. */
  readonly setupBit: number | null;
  /** Pavel Begunkov's merged io_uring_bpf_ops (loop_step) hook is in the BTF. */
  readonly loopStepHook: boolean | null;
  readonly probes: readonly Probe[];
}

/** What the probes say about IORING_OP_BPF in this kernel. `btf` is null when unreadable (`btfReason`). */
export function detectBpfOp(
  kernel: KernelProbe,
  btf: BtfTypes | null,
  btfReason: string | null,
): Detection {
  const probes: Probe[] = [];
  if (!kernel.available) {
    probes.push({ what: 'io_uring', result: `unavailable: ${kernel.reason}` });
    return {
      present: false,
      version: null,
      matches: [],
      setupBit: null,
      loopStepHook: null,
      probes,
    };
  }
  const op = kernel.supportedOps.includes(IORING_OP_BPF);
  probes.push({
    what: `opcode ${IORING_OP_BPF} in IORING_REGISTER_PROBE`,
    result:
      kernel.probeError !== null
        ? `probe failed: ${kernel.probeError}`
        : op
          ? 'supported'
          : `not supported (last op ${kernel.lastOp ?? '?'})`,
  });
  const bit = (n: number) => kernel.setupFlags.find((f) => f.bit === n);
  const accepted = (n: number) => bit(n)?.accepted === true;
  for (const [n, names] of [
    [20, 'v1 IORING_SETUP_BPF, v2 IORING_SETUP_BPF_OP'],
    [21, 'v3 IORING_SETUP_BPF_EXT'],
  ] as const) {
    const v = bit(n);
    probes.push({
      what: `setup bit ${n} (${names})`,
      result: v === undefined ? 'not probed' : v.accepted ? 'accepted' : `refused: ${v.errno}`,
    });
  }
  const feat = (kernel.features & (1 << IORING_FEAT_BPF_BIT)) !== 0;
  probes.push({
    what: `IORING_FEAT_BPF (bit ${IORING_FEAT_BPF_BIT})`,
    result: feat ? 'set' : 'clear',
  });
  const type = btf?.has('uring_bpf_ops') ?? null;
  const slotType = btf?.has('uring_bpf_ops_kern') ?? null;
  const loopStep = btf?.has('io_uring_bpf_ops') ?? null;
  const btfResult = (found: boolean | null) =>
    found === null ? `BTF unreadable (${btfReason ?? 'unknown'})` : found ? 'present' : 'absent';
  probes.push({ what: 'BTF struct_ops type uring_bpf_ops', result: btfResult(type) });
  probes.push({
    what: 'BTF uring_bpf_ops_kern (v2/v3 per-ring slots)',
    result: btfResult(slotType),
  });
  probes.push({
    what: 'BTF io_uring_bpf_ops (merged loop_step hook)',
    result: btfResult(loopStep),
  });
  const present = op && type !== false;
  let version: Detection['version'] = null;
  let matches: PostedVersion[] = [];
  const setupBit = !present ? null : accepted(21) ? 21 : accepted(20) ? 20 : null;
  if (present) {
    // The per-ring slot type separates v1's UAPI (global ids) from v2/v3's (ring_fd).
    if (setupBit === null) version = 'unknown';
    else if (slotType === false) {
      version = 'v1';
      matches = ['v1'];
    } else if (setupBit === 21) {
      version = 'v3';
      matches = ['v2', 'v3'];
    } else if (slotType === true) {
      version = 'v2';
      matches = ['v2'];
    } else version = 'unknown';
  }
  return { present, version, matches, setupBit, loopStepHook: loopStep, probes };
}

/** One line: every probe and its result. */
export function probeLine(d: Detection): string {
  return d.probes.map((p) => `${p.what}: ${p.result}`).join('; ');
}

/** What detection could and could not tell apart, as one sentence; null when not present. */
export function versionLine(d: Detection): string | null {
  if (!d.present || d.version === null) return null;
  if (d.version === 'unknown' || d.setupBit === null)
    return 'IORING_OP_BPF present, but its setup flag and BTF types match no posted version';
  const def = POSTED_VERSIONS[d.version];
  if (d.matches.length > 1)
    return `${d.matches.join(' or ')}: setup bit ${d.setupBit}, ring_fd and per-ring slots; a v2 rebased onto bit 21 and v3 have the same UAPI and BTF types and cannot be told apart, so requests use that shared UAPI`;
  if (d.setupBit !== def.setupBit)
    return `${d.version}'s UAPI on setup bit ${d.setupBit} (posted: ${def.setupFlag}, bit ${def.setupBit}): a ${d.version} rebased past 7.2's IORING_SETUP_SQ_REWIND`;
  return `${d.version}: ${def.setupFlag} (bit ${def.setupBit})`;
}
