// The one list of designs and variants. Everything else (bench lanes, the
// fuzzer, reports, tests) iterates this; adding a design is one model file
// and one line here.

import { arrayXarray } from './array-xarray.js';
import type { DesignDef } from './design.js';
import { globalAlloc } from './global-alloc.js';
import { globalArray, globalArrayBoundsFix } from './global-array.js';
import { perCtx, perCtxUnregisteringBit } from './per-ctx.js';
import { perFd } from './per-fd.js';
import { perFdFixed } from './per-fd-fixed.js';

/** Every design as posted, then its named fixed variants. */
export const DESIGNS: readonly DesignDef[] = [
  globalArray,
  globalArrayBoundsFix,
  arrayXarray,
  perCtx,
  perCtxUnregisteringBit,
  perFd,
  perFdFixed,
  globalAlloc,
];

/** The designs as posted (no variants). */
export const POSTED_DESIGNS: readonly DesignDef[] = DESIGNS.filter((d) => d.variant === null);

/** The design called `name` ('per-ctx', 'global-array+bounds-fix'), or an error naming the known ones. */
export function findDesign(
  name: string,
): { ok: true; design: DesignDef } | { ok: false; message: string } {
  const design = DESIGNS.find((d) => d.name === name);
  if (design !== undefined) return { ok: true, design };
  return {
    ok: false,
    message: `unknown design '${name}' (known: ${DESIGNS.map((d) => d.name).join(', ')})`,
  };
}
