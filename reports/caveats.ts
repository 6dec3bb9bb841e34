// What a whole run cannot support (../shared/DESIGN.md §5: runs that cannot
// support a claim say so at the top). Every report prints these before
// anything else. Reads results only.

import type { Results } from '../bench/results.js';

export const TCG_CAVEAT = 'functional run under QEMU TCG (software emulation): timings not valid';

/** The suite VM's accelerator; null outside its VM and for results written before the field. */
export function virtualizationOf(r: Results): 'kvm' | 'tcg' | null {
  const e = r.environment as { virtualization?: unknown } | null;
  const v = e?.virtualization;
  return v === 'kvm' || v === 'tcg' ? v : null;
}

/** The run-level caveats of `r`, one sentence each, in the order reports print them; empty when none. */
export function runCaveats(r: Results): string[] {
  const caveats: string[] = [];
  if (virtualizationOf(r) === 'tcg') caveats.push(TCG_CAVEAT);
  return caveats;
}
