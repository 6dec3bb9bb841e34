// D2 array-xarray: Ming's counter-proposal (aTeStJ9_Tu0i5_wH@fedora). Ids
// 0..255 live in the v1 array ("really global/generic progs"), 256..65535 in
// a global xarray that processes fill "in dynamic allocation way": list the
// used ids, pick a free one, register it. The table changed, not the
// protocol, so locking is v1's (global-registry.ts). The array keeps v1's
// member-by-member struct copy; the xarray "stores progs", that is a pointer
// to the registration's struct, published and removed in one write.
// Assumption, stated in reports: the 16-bit id is the top 16 bits of
// bpf_op_flags; the proposal did not say where it goes.

import type { DesignDef } from './design.js';
import {
  type GlobalTable,
  globalRegistry,
  OpsArray,
  OpsPointerXarray,
  type OpsRef,
} from './global-registry.js';
import type { Op } from './kernel/step.js';
import { breakdown, registrations, xarrayNodesFor } from './memory.js';
import type { Program, World } from './world.js';

export const ARRAY_SLOTS = 256;
export const MAX_ID = 0xffff;

/** The array for ids below 256, the xarray of pointers for the rest. */
class ArrayPlusXarray implements GlobalTable {
  private readonly array: OpsArray;
  private readonly xa: OpsPointerXarray;

  constructor(world: World) {
    this.array = new OpsArray(world, 'bpf_ops[256]', ARRAY_SLOTS);
    this.xa = new OpsPointerXarray(world, 'bpf_ops_xa');
  }

  private tableOf(id: number): GlobalTable {
    return id < ARRAY_SLOTS ? this.array : this.xa;
  }

  lookup(id: number): OpsRef | null {
    return this.tableOf(id).lookup(id);
  }

  store(id: number, program: Program): Op<void> {
    return this.tableOf(id).store(id, program);
  }

  clear(id: number): Op<void> {
    return this.tableOf(id).clear(id);
  }

  used(): number[] {
    return [...this.array.used(), ...this.xa.used()];
  }
}

export const arrayXarray: DesignDef = {
  id: 'array-xarray',
  variant: null,
  name: 'array-xarray',
  title: 'Global array below 256, global xarray up to 65535',
  sources: ['aTeStJ9_Tu0i5_wH@fedora', '20251104162123.1086035-4-ming.lei@redhat.com'],
  scope: 'global',
  setupFlag: { name: 'IORING_SETUP_BPF', bit: 20 },
  nameKind: 'id',
  idRange: { min: 0, max: MAX_ID },
  sqeEncoding: 'id in bits 31..16 of bpf_op_flags (assumed: the proposal gave no encoding)',
  change: '',
  create: (world) =>
    globalRegistry(world, {
      table: new ArrayPlusXarray(world),
      sqeIdShift: 16,
      sqeIdBits: 16,
      discovery: true,
    }),
  memory: (p, sizes) => {
    // Shared programs take the generic ids below 256; per-ring ones are allocated from 256 up.
    const regs = registrations(p);
    const inXarray = p.sharing === 'shared' ? Math.max(0, regs - ARRAY_SLOTS) : regs;
    const capacity = MAX_ID - ARRAY_SLOTS + 1;
    return breakdown(
      sizes,
      [
        ['uring_bpf_ops', ARRAY_SLOTS, 'static bpf_ops[256]'],
        ['xa_node', xarrayNodesFor(ARRAY_SLOTS, Math.min(inXarray, capacity)), 'ids >= 256'],
        ['list_head', p.rings, 'ctx->bpf_node'],
        ['bpf_struct_ops_link', regs],
        ['file', regs, 'link fd'],
      ],
      inXarray > capacity
        ? `${inXarray} dynamic registrations exceed the ${capacity} ids from 256 to 65535`
        : null,
    );
  },
};
