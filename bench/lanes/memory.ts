// The memory lane: bytes each design adds to name programs, for rings
// 1, 10, 100, 1000 and programs 1, 16, 256, with every ring using the same
// programs (ublk) or each its own. Struct sizes come from the running
// kernel's BTF where it has the struct, otherwise from the documented
// constants in designs/memory.ts; the details say which, per struct.

import {
  BTF_NAMES,
  type MemoryParams,
  STRUCT_SIZES,
  type StructName,
  type StructSizes,
} from '../../designs/memory.js';
import { readKernelBtf } from '../../lib/btf.js';
import { type Lane, metric } from '../lane.js';
import type { Json, Metric } from '../results.js';

export const RINGS = [1, 10, 100, 1000] as const;
export const PROGRAMS = [1, 16, 256] as const;
export const SHARING = ['shared', 'per-ring'] as const;

/** Struct sizes from BTF where it has them, constants otherwise, and where each came from. */
export function structSizes(): {
  sizes: StructSizes;
  from: Record<string, 'btf' | 'constant'>;
  btf: string;
} {
  const btf = readKernelBtf();
  const sizes = { ...STRUCT_SIZES } as Record<StructName, { bytes: number; source: string }>;
  const from: Record<string, 'btf' | 'constant'> = {};
  for (const name of Object.keys(STRUCT_SIZES) as StructName[]) {
    const btfName = BTF_NAMES[name];
    const bytes = btf.ok && btfName !== undefined ? btf.btf.sizeOf(btfName) : undefined;
    if (bytes === undefined) {
      from[name] = 'constant';
    } else {
      from[name] = 'btf';
      sizes[name] = { bytes, source: `struct ${btfName} in this kernel's BTF` };
    }
  }
  return { sizes, from, btf: btf.ok ? 'read' : btf.reason };
}

export const memoryLane: Lane = {
  name: 'memory',
  title: 'Bytes each design adds, by rings and programs',
  async run(ctx) {
    const { sizes, from, btf } = structSizes();
    const metrics: Metric[] = [];
    const breakdowns: Json[] = [];
    const notes: string[] = [];
    if (btf !== 'read') notes.push(`BTF not readable (${btf}): documented struct sizes used`);
    const designs = ctx.options.designs;
    let done = 0;
    for (const design of designs) {
      for (const rings of RINGS) {
        for (const programs of PROGRAMS) {
          for (const sharing of SHARING) {
            const p: MemoryParams = { rings, programs, threadsPerProcess: 1, sharing };
            const b = design.memory(p, sizes);
            const id = `memory/${design.name}/r${rings}/p${programs}/${sharing}`;
            breakdowns.push({
              id,
              doesNotFit: b.doesNotFit,
              items: b.items.map((i) => ({ ...i })),
            });
            if (b.doesNotFit === null) {
              metrics.push(
                metric(
                  {
                    id,
                    lane: 'memory',
                    labels: { design: design.name, rings, programs, sharing },
                    unit: 'bytes',
                    better: 'lower',
                  },
                  [b.bytes],
                ),
              );
            }
          }
        }
      }
      ctx.progress(++done, designs.length);
    }
    return {
      metrics,
      notes,
      details: {
        btf,
        structSizes: Object.fromEntries(
          Object.entries(sizes).map(([k, v]) => [
            k,
            { bytes: v.bytes, source: v.source, from: from[k] ?? 'constant' },
          ]),
        ),
        breakdowns,
      },
    };
  },
};
