// D1 global-array: v1 as posted (20251104162123.1086035-4-ming.lei@redhat.com).
// One system-wide `struct uring_bpf_ops bpf_ops[256]`, filled by copying the
// struct in member by member (OpsArray in global-registry.ts). The SQE's op
// id is the top 8 bits of bpf_op_flags, so lookups stay inside the array;
// the id a struct_ops value carries is a u16 that the posted code never
// checks against 256 (87346a2ijz.fsf@trenco.lwn.net), so a registration can
// write past the end. The +bounds-fix variant adds the check
// Ming agreed to (CAFj5m9KiPcKKjYTY3Jov_T=tWrknivoPiaao_wW25=ZjJ6XGrQ@mail.gmail.com).

import type { DesignDef } from './design.js';
import { globalRegistry, OpsArray } from './global-registry.js';
import { neg } from './kernel/errno.js';
import { breakdown, registrations } from './memory.js';

export const GLOBAL_ARRAY_SLOTS = 256;
const TABLE = 'bpf_ops[256]';

const SOURCES = ['20251104162123.1086035-4-ming.lei@redhat.com'];

function define(variant: 'bounds-fix' | null): DesignDef {
  return {
    id: 'global-array',
    variant,
    name: variant === null ? 'global-array' : `global-array+${variant}`,
    title: 'One global array of 256 ops (v1)',
    sources:
      variant === null
        ? SOURCES
        : [...SOURCES, 'CAFj5m9KiPcKKjYTY3Jov_T=tWrknivoPiaao_wW25=ZjJ6XGrQ@mail.gmail.com'],
    scope: 'global',
    setupFlag: { name: 'IORING_SETUP_BPF', bit: 20 },
    nameKind: 'id',
    idRange: { min: 0, max: GLOBAL_ARRAY_SLOTS - 1 },
    sqeEncoding: 'op id in bits 31..24 of bpf_op_flags (IORING_BPF_OP_SHIFT 24)',
    change:
      variant === null ? '' : '->reg() rejects ids >= 256 with -EINVAL before taking any lock',
    create: (world) =>
      globalRegistry(world, {
        table: new OpsArray(world, TABLE, GLOBAL_ARRAY_SLOTS),
        sqeIdShift: 24,
        sqeIdBits: 8,
        discovery: true,
        ...(variant === 'bounds-fix'
          ? { checkId: (id: number) => (id >= GLOBAL_ARRAY_SLOTS ? neg('EINVAL') : 0) }
          : {}),
      }),
    memory: (p, sizes) =>
      breakdown(
        sizes,
        [
          ['uring_bpf_ops', GLOBAL_ARRAY_SLOTS, 'static bpf_ops[256]'],
          ['list_head', p.rings, 'ctx->bpf_node'],
          ['bpf_struct_ops_link', registrations(p)],
          ['file', registrations(p), 'link fd'],
        ],
        registrations(p) > GLOBAL_ARRAY_SLOTS
          ? `${registrations(p)} registrations need more than ${GLOBAL_ARRAY_SLOTS} global ids`
          : null,
      ),
  };
}

export const globalArray = define(null);
export const globalArrayBoundsFix = define('bounds-fix');
