// Memory accounting: the bytes each design adds to name programs, for R
// rings x P programs, with T rings (threads) per process. Only structures a
// design adds are counted; the programs themselves are the same in every
// design and are left out. Sizes are x86-64 with 4 KiB pages; each names
// where it comes from. The memory lane replaces them with sizes read from
// the running kernel's BTF when it can.

import { XArray } from './kernel/xarray.js';

export interface StructSize {
  readonly bytes: number;
  readonly source: string;
}

export const STRUCT_SIZES = {
  uring_bpf_ops: {
    bytes: 40,
    source:
      'v1/v2 io_uring/uring_bpf.h: u16 id (+ int ring_fd in v2), 4 callback pointers; padded to 8',
  },
  uring_bpf_ops_kern: {
    bytes: 16,
    source: 'v2 io_uring/bpf_op.h: { const struct uring_bpf_ops *ops; int refcount; } padded to 8',
  },
  list_head: { bytes: 16, source: 'include/linux/types.h: two pointers (v1 ctx->bpf_node)' },
  wait_queue_head: {
    bytes: 24,
    source: 'include/linux/wait.h: spinlock_t + list_head (v2 ctx->bpf_wq)',
  },
  xa_node: {
    bytes: 576,
    source: 'include/linux/xarray.h: 64 slots, XA_CHUNK_SHIFT 6 (6.18 BTF, x86-64)',
  },
  pointer: { bytes: 8, source: 'x86-64' },
  io_rsrc_node: {
    bytes: 24,
    source: 'io_uring/rsrc.h: u8 type, int refs, u64 tag, unsigned long file_ptr',
  },
  file: { bytes: 184, source: 'include/linux/fs.h: struct file (6.18 BTF, x86-64)' },
  bpf_struct_ops_link: {
    bytes: 104,
    source: 'kernel/bpf/bpf_struct_ops.c: struct bpf_link (64) + map pointer + wait_queue_head_t',
  },
  bpf_struct_ops_map: {
    bytes: 512,
    source:
      'kernel/bpf/bpf_struct_ops.c: cacheline-aligned struct bpf_map + image page table + kvalue (estimate)',
  },
  trampoline_page: {
    bytes: 4096,
    source: 'kernel/bpf/bpf_struct_ops.c: each struct_ops map gets its own trampoline image page',
  },
} as const satisfies Record<string, StructSize>;

export type StructName = keyof typeof STRUCT_SIZES;
export type StructSizes = Record<StructName, StructSize>;

export interface MemoryParams {
  /** Rings in the system, one per thread. */
  readonly rings: number;
  /** Programs each ring uses. */
  readonly programs: number;
  /** Rings (threads) per process: fd tables are per process, rings per thread. */
  readonly threadsPerProcess: number;
  /** 'shared': every ring uses the same P programs (ublk); 'per-ring': each ring its own P. */
  readonly sharing: 'shared' | 'per-ring';
}

export interface MemoryItem {
  readonly structure: string;
  readonly count: number;
  readonly bytesEach: number;
  readonly bytes: number;
  readonly source: string;
}

export interface MemoryBreakdown {
  readonly items: readonly MemoryItem[];
  readonly bytes: number;
  /** Why the configuration cannot be registered at all (a full table), or null. */
  readonly doesNotFit: string | null;
}

/** Builds a breakdown from (structure, count) pairs; zero counts are dropped. */
export function breakdown(
  sizes: StructSizes,
  counts: readonly (readonly [StructName, number, string?])[],
  doesNotFit: string | null = null,
): MemoryBreakdown {
  const items = counts
    .filter(([, count]) => count > 0)
    .map(([name, count, what]) => {
      const size = sizes[name];
      return {
        structure: what === undefined ? name : `${name} (${what})`,
        count,
        bytesEach: size.bytes,
        bytes: count * size.bytes,
        source: size.source,
      };
    });
  return { items, bytes: items.reduce((sum, item) => sum + item.bytes, 0), doesNotFit };
}

/** The BTF struct name behind each size that BTF can give (the others are not structs). */
export const BTF_NAMES: Partial<Record<StructName, string>> = {
  uring_bpf_ops: 'uring_bpf_ops',
  uring_bpf_ops_kern: 'uring_bpf_ops_kern',
  list_head: 'list_head',
  wait_queue_head: 'wait_queue_head',
  xa_node: 'xa_node',
  io_rsrc_node: 'io_rsrc_node',
  file: 'file',
  bpf_struct_ops_link: 'bpf_struct_ops_link',
  bpf_struct_ops_map: 'bpf_struct_ops_map',
};

/** Registrations the parameters need: P once when shared by a global name, else R x P. */
export function registrations(p: MemoryParams): number {
  return p.sharing === 'shared' ? p.programs : p.rings * p.programs;
}

/** Processes the rings live in. */
export function processes(p: MemoryParams): number {
  return Math.ceil(p.rings / p.threadsPerProcess);
}

/** xa_node count once `count` consecutive ids from `first` are stored. */
export function xarrayNodesFor(first: number, count: number): number {
  const xa = new XArray<boolean>();
  for (let id = first; id < first + count; id++) xa.store(id, true);
  return xa.nodeCount;
}
