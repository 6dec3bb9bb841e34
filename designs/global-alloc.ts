// D6 global-alloc: not proposed on the list; the control design. One global
// xarray where the KERNEL allocates the id (xa_alloc_cyclic over 0..65535)
// and hands it back to the registrant, under v1's protocol otherwise. It has
// no check-then-register window, so it separates races in the discovery
// protocol of global-array/array-xarray from problems of any global namespace.
// Its table is array-xarray's xarray of pointers (DESIGN.md D6 says nothing
// else): a registration is published and removed in one pointer write.

import type { DesignDef } from './design.js';
import { globalRegistry, OpsPointerXarray } from './global-registry.js';
import { breakdown, registrations, xarrayNodesFor } from './memory.js';

export const MAX_ID = 0xffff;
const TABLE = 'bpf_ops_alloc_xa';

export const globalAlloc: DesignDef = {
  id: 'global-alloc',
  variant: null,
  name: 'global-alloc',
  title: 'Global xarray, kernel-allocated ids (control)',
  sources: [],
  scope: 'global',
  setupFlag: { name: 'IORING_SETUP_BPF', bit: 20 },
  nameKind: 'id',
  idRange: { min: 0, max: MAX_ID },
  sqeEncoding: 'kernel-chosen id in bits 31..16 of bpf_op_flags (our control design)',
  change: '',
  create: (world) => {
    const table = new OpsPointerXarray(world, TABLE);
    return globalRegistry(world, {
      table,
      sqeIdShift: 16,
      sqeIdBits: 16,
      discovery: false,
      allocate: (program) => table.allocate(program, 0, MAX_ID),
    });
  },
  memory: (p, sizes) => {
    const regs = registrations(p);
    return breakdown(
      sizes,
      [
        ['xa_node', xarrayNodesFor(0, Math.min(regs, MAX_ID + 1)), 'allocated ids'],
        ['list_head', p.rings, 'ctx->bpf_node'],
        ['bpf_struct_ops_link', regs],
        ['file', regs, 'link fd'],
      ],
      regs > MAX_ID + 1 ? `${regs} registrations exceed ${MAX_ID + 1} ids` : null,
    );
  },
};
