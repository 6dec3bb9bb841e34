// D6 global-alloc: not proposed on the list; the control design. One global
// xarray where the KERNEL allocates the id (xa_alloc_cyclic over 0..65535)
// and hands it back to the registrant, under v1's protocol otherwise. It has
// no check-then-register window, so it separates races in the discovery
// protocol of global-array/array-xarray from problems of any global namespace.

import type { DesignDef } from './design.js';
import { type GlobalTable, globalRegistry } from './global-registry.js';
import { XArray } from './kernel/xarray.js';
import { breakdown, registrations, xarrayNodesFor } from './memory.js';
import type { Program, World } from './world.js';

export const MAX_ID = 0xffff;
const TABLE = 'bpf_ops_alloc_xa';

class AllocatingXarray implements GlobalTable {
  readonly xa = new XArray<Program>();

  constructor(private readonly world: World) {}

  read(id: number): Program | null {
    const program = this.xa.load(id) ?? null;
    this.world.trace.slot('read', TABLE, id, program?.id ?? null);
    return program;
  }

  write(id: number, program: Program | null): void {
    if (program === null) this.xa.erase(id);
    else this.xa.store(id, program);
    this.world.trace.slot('write', TABLE, id, program?.id ?? null);
  }

  used(): number[] {
    return [...this.xa].map(([id]) => id);
  }
}

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
    const table = new AllocatingXarray(world);
    return globalRegistry(world, {
      table,
      sqeIdShift: 16,
      sqeIdBits: 16,
      discovery: false,
      allocate: (program) => {
        const id = table.xa.allocCyclic(program, 0, MAX_ID);
        if (id.ok) world.trace.slot('write', TABLE, id.value, program.id);
        return id;
      },
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
