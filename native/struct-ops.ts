// A real struct_ops attach and detach on the stock kernel, for the
// registration lane (native/src/struct_ops.c): tcp_congestion_ops, whose
// ->reg() adds to a global list keyed by name (tcp_register_congestion_control)
// and whose ->unreg() deletes from it and waits in synchronize_rcu()
// (tcp_unregister_congestion_control, net/ipv4/tcp_cong.c): a global registry
// with a grace period on unregister, v1's shape without the ring locks. Type
// ids and offsets come from the running kernel's BTF.

import type { BtfTypes } from '../lib/btf.js';
import { errnoLabel, loadNative } from './index.js';

/** The struct_ops type that stands in, and why. */
export const STRUCT_OPS_STANDIN = {
  type: 'tcp_congestion_ops',
  why:
    'a struct_ops type every stock kernel can load and attach through a link; ' +
    '->reg() adds to a global list keyed by name under a spinlock, ->unreg() ' +
    'removes it and waits in synchronize_rcu(): a global registry with a grace ' +
    "period on unregister, like v1's without the ring locks",
} as const;

/** The members tcp_validate_congestion_control() requires, in the order the C side takes them. */
const MEMBERS = ['ssthresh', 'cong_avoid', 'undo_cwnd'] as const;

export interface TcpCaBtf {
  readonly opsType: number;
  readonly valueType: number;
  readonly valueSize: number;
  readonly dataOff: number;
  readonly nameOff: number;
  readonly memberIndex: readonly number[];
  readonly memberOff: readonly number[];
}

export interface TcpCaOps {
  attach(): { errno: number; error: string | null };
  detach(): { errno: number; error: string | null };
  /** 1 when the name is in tcp_available_congestion_control, 0 when not, or -errno. */
  listed(): number;
  time(reps: number): {
    errno: number;
    error: string | null;
    attachNs: number[];
    detachNs: number[];
  };
  info(): { name: string; linkDetach: boolean };
  close(): void;
}

export interface StructOpsAddon {
  /** Loads the programs and fills the map; throws the one-line reason (with .errno). */
  TcpCaOps: new (
    btf: TcpCaBtf,
  ) => TcpCaOps;
}

/** What the struct_ops map and programs need from this kernel's BTF, or why it does not have it. */
export function tcpCaBtf(
  btf: BtfTypes,
): { ok: true; btf: TcpCaBtf } | { ok: false; reason: string } {
  const opsType = btf.structId('tcp_congestion_ops');
  const valueType = btf.structId('bpf_struct_ops_tcp_congestion_ops');
  const valueSize = btf.sizeOf('bpf_struct_ops_tcp_congestion_ops');
  const dataOff = btf.offsetOf('bpf_struct_ops_tcp_congestion_ops', 'data');
  const nameOff = btf.offsetOf('tcp_congestion_ops', 'name');
  const members = btf.members('tcp_congestion_ops') ?? [];
  const memberIndex = MEMBERS.map((m) => members.indexOf(m));
  const memberOff = MEMBERS.map((m) => btf.offsetOf('tcp_congestion_ops', m) ?? -1);
  if (
    opsType === undefined ||
    valueType === undefined ||
    valueSize === undefined ||
    dataOff === undefined ||
    nameOff === undefined ||
    memberIndex.some((i) => i < 0) ||
    memberOff.some((o) => o < 0)
  )
    return {
      ok: false,
      reason:
        'the kernel BTF has no bpf_struct_ops_tcp_congestion_ops with ssthresh, cong_avoid, undo_cwnd and name (no BPF TCP congestion control)',
    };
  return {
    ok: true,
    btf: { opsType, valueType, valueSize, dataOff, nameOff, memberIndex, memberOff },
  };
}

/** Opens the tcp_congestion_ops struct_ops, or says in one line why it cannot here. */
export function openTcpCa(
  btf: TcpCaBtf,
): { ok: true; ops: TcpCaOps } | { ok: false; reason: string } {
  const native = loadNative();
  if (!native.ok) return native;
  try {
    return { ok: true, ops: new native.addon.TcpCaOps(btf) };
  } catch (e) {
    const errno = (e as { errno?: number }).errno ?? 0;
    const perm = errno === -1 || errno === -13;
    return {
      ok: false,
      reason: `${(e as Error).message}${perm ? ` (${errnoLabel(errno)}: needs root, or CAP_BPF and CAP_NET_ADMIN)` : ''}`,
    };
  }
}
