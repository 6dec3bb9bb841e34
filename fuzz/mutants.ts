// Planted bugs, to show the fuzzer catches what it claims to: each is a
// named switch that one line of kernel-primitive or design code honours
// (grep the name), and each design lists at least three that touch code it
// runs. A mutant is killed when the fuzzer finds a scenario on which a
// property fails with the bug planted and holds on the design as written.
// Each names the property of its real effect, which is tried first; a
// kill by another property is reported as such.

import type { PropertyName } from './properties.js';

export interface Mutant {
  readonly name: string;
  /** The property that names what the bug does; the fuzzer tries it first. */
  readonly effect: PropertyName;
  readonly what: string;
}

export const MUTANTS: Record<string, Mutant> = {
  'mutex-no-exclusion': {
    name: 'mutex-no-exclusion',
    effect: 'null-call',
    what: 'mutex_lock() stops excluding: a check-and-set split across the lock',
  },
  'srcu-no-grace': {
    name: 'srcu-no-grace',
    // Unregister returns while an io-wq reader is between its two loads; the next registration's
    // copy then lands under it, and the reader calls a program its submitter never registered.
    effect: 'hijack',
    what: 'synchronize_srcu() returns without waiting for readers',
  },
  'no-srcu-read-lock': {
    name: 'no-srcu-read-lock',
    effect: 'null-call',
    what: 'the io-wq issue reads the global table outside an SRCU read section',
  },
  'fget-no-ref': {
    name: 'fget-no-ref',
    effect: 'use-after-free',
    what: 'fget() forgets to take its file reference',
  },
  'double-fput': {
    name: 'double-fput',
    effect: 'use-after-free',
    what: 'a freed request drops its file reference twice',
  },
  'skip-cleanup-flag': {
    name: 'skip-cleanup-flag',
    effect: 'pairing',
    what: 'prep does not set REQ_F_NEED_CLEANUP',
  },
  'rsrc-node-no-ref': {
    name: 'rsrc-node-no-ref',
    effect: 'use-after-free',
    what: 'a request uses a fixed-file node without taking a reference',
  },
  'drop-index-check': {
    name: 'drop-index-check',
    effect: 'bounds',
    what: 'io_file_get_fixed() without its bounds check',
  },
  'skip-prep-refcount': {
    name: 'skip-prep-refcount',
    effect: 'use-after-free',
    what: "per-ctx prep does not take the slot's refcount",
  },
  'unreg-no-wait': {
    name: 'unreg-no-wait',
    effect: 'use-after-free',
    what: 'per-ctx unregister clears the slot without waiting for requests',
  },
  'drop-op-bounds-check': {
    name: 'drop-op-bounds-check',
    effect: 'bounds',
    what: 'per-ctx prep uses the op id without checking it against 16',
  },
  'drop-bounds-check': {
    name: 'drop-bounds-check',
    effect: 'bounds',
    what: "the +bounds-fix variant's id check is gone",
  },
  'unreg-keeps-entry': {
    name: 'unreg-keeps-entry',
    effect: 'use-after-free',
    what: '->unreg() leaves the registration in the global table: its pointers outlive the program',
  },
  'xa-entry-reloaded': {
    name: 'xa-entry-reloaded',
    effect: 'null-call',
    what: 'the xarray entry is looked up again for the call: test and call can see different entries',
  },
  'prep-skips-null-test': {
    name: 'prep-skips-null-test',
    effect: 'null-call',
    what: '->prep() calls prep_fn without testing it: a program without one is called through NULL',
  },
  // Exposed by an unlocked caller: ->fail() on a ring without the setup flag takes neither
  // uring_lock nor SRCU, so only the grace period keeps the program alive under it. Planted in
  // global-alloc only: v1's array reloads the member for the call, and unregister has cleared it
  // before the program can go, so a missing grace period shows there as nothing but a NULL call.
  // Lock order between two rings (io_uring/rsrc.c lock_two_rings(), io_uring/msg_ring.c
  // io_lock_external_ctx()): each breaks what keeps two uring_locks from closing a cycle.
  'clone-dst-first': {
    name: 'clone-dst-first',
    effect: 'deadlock',
    what: 'CLONE_BUFFERS locks the destination ring first instead of the lower address',
  },
  'msg-ring-blocking-lock': {
    name: 'msg-ring-blocking-lock',
    effect: 'deadlock',
    what: 'an inline MSG_RING waits for the target ring lock under its own instead of trying it',
  },
  'rcu-no-grace': {
    name: 'rcu-no-grace',
    effect: 'use-after-free',
    what: 'a released program is freed without waiting for callers still inside it',
  },
};

// With the grace period a program's free waits for (designs/kernel/rcu.ts), skipping SRCU no
// longer frees a program under a caller; on v1's array the reader's two loads of a member see
// the slot change instead (null-call). global-alloc loads one pointer and calls through it, so
// the SRCU and mutex bugs have no effect there: it gets bugs of its own table instead.
const GLOBAL = ['srcu-no-grace', 'no-srcu-read-lock', 'mutex-no-exclusion', 'unreg-keeps-entry'];
const PER_CTX = ['skip-prep-refcount', 'unreg-no-wait', 'drop-op-bounds-check'];

/** The mutants planted in each design (by design name, variants included). */
export const DESIGN_MUTANTS: Record<string, readonly string[]> = {
  'global-array': GLOBAL,
  'global-array+bounds-fix': [...GLOBAL, 'drop-bounds-check'],
  'array-xarray': GLOBAL,
  'per-ctx': PER_CTX,
  'per-ctx+unregistering-bit': PER_CTX,
  'per-fd': [
    'fget-no-ref',
    'double-fput',
    'skip-cleanup-flag',
    'clone-dst-first',
    'msg-ring-blocking-lock',
  ],
  'per-fd-fixed': ['rsrc-node-no-ref', 'drop-index-check', 'skip-cleanup-flag'],
  'global-alloc': [
    'unreg-keeps-entry',
    'xa-entry-reloaded',
    'prep-skips-null-test',
    'rcu-no-grace',
  ],
} satisfies Record<string, readonly (keyof typeof MUTANTS)[]>;

/** Mutants for a design name; a design with no entry has none (say so in reports). */
export function mutantsOf(design: string): readonly string[] {
  return DESIGN_MUTANTS[design] ?? [];
}
