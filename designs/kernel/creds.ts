// Credentials as the BPF syscall checks them: a task's user namespace, the
// capabilities it holds there, and an optional BPF token. Only the two
// levels the models use: namespace 0 is init_user_ns, every other is its
// child. What each check is, and where:
// * ns_capable(ns, cap) (security/commoncap.c cap_capable()): true when the
//   task holds `cap` in `ns` or in an ancestor of it (init_user_ns here).
//   Not modelled: its rule that the euid owning a child namespace has every
//   capability there from the parent.
// * bpf_ns_capable() (kernel/bpf/token.c): CAP_SYS_ADMIN stands in for
//   any other capability.
// * bpf_token_capable(token, cap) (kernel/bpf/token.c): bpf_ns_capable()
//   in the token's userns, or in init_user_ns when there is no token. A
//   token that does not delegate the command and the map/prog type is
//   dropped first (kernel/bpf/syscall.c map_create(), bpf_prog_load():
//   bpf_token_allow_cmd/_map_type/_prog_type), so the check falls back to
//   init_user_ns.
// * BPF_TOKEN_CREATE (kernel/bpf/token.c bpf_token_create()): from a bpffs
//   mounted in the caller's own userns (else EPERM), with ns_capable(that
//   userns, CAP_BPF) (else EPERM), never in init_user_ns (EOPNOTSUPP), and
//   with some delegation set up (else ENOENT).

import type { Errno } from './errno.js';

export type Capability = 'CAP_BPF' | 'CAP_PERFMON' | 'CAP_SYS_ADMIN';

/** A BPF token: created from a bpffs mounted with delegate_* options. */
export interface BpfToken {
  /** token->userns: the bpffs owner's namespace (the creator's own). */
  readonly userns: number;
  /**
   * The mount delegates BPF_MAP_CREATE of BPF_MAP_TYPE_STRUCT_OPS and
   * BPF_PROG_LOAD of BPF_PROG_TYPE_STRUCT_OPS (delegate_cmds, _maps,
   * _progs, _attachs).
   */
  readonly structOps: boolean;
}

export interface Creds {
  /** cred->user_ns: 0 is init_user_ns. */
  readonly userns: number;
  /** Effective capabilities, held in `userns`. */
  readonly caps: ReadonlySet<Capability>;
  readonly token: BpfToken | null;
}

/** The privilege choices a scenario gives a process (fuzz/scenario.ts ProcessPlan.privilege). */
export const PRIVILEGES = ['cap-bpf-init', 'token', 'userns-root', 'none'] as const;
export type Privilege = (typeof PRIVILEGES)[number];

/** Everything root has: what CAP_SYS_ADMIN and the BPF capabilities give. */
const ROOT_CAPS: ReadonlySet<Capability> = new Set(['CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_PERFMON']);

/**
 * The credentials of a process of namespace `ns` (its container: the
 * scenario's namespace) with `privilege`. cap-bpf-init: CAP_BPF and
 * CAP_PERFMON in init_user_ns (a privileged container: its user namespace
 * is the initial one whatever its other namespaces); token: root in user
 * namespace `ns` with a token delegating struct_ops (namespace 0 can have
 * no token: root in init_user_ns there); userns-root: root in user
 * namespace `ns`, no token; none: no capability.
 */
export function credsFor(ns: number, privilege: Privilege): Creds {
  const userns = ns;
  switch (privilege) {
    case 'cap-bpf-init':
      return { userns: 0, caps: new Set(['CAP_BPF', 'CAP_PERFMON']), token: null };
    case 'token': {
      const token = bpfTokenCreate(userns, ROOT_CAPS, true);
      return { userns, caps: ROOT_CAPS, token: typeof token === 'string' ? null : token };
    }
    case 'userns-root':
      return { userns, caps: ROOT_CAPS, token: null };
    case 'none':
      return { userns, caps: new Set(), token: null };
  }
}

/** What a process had before credentials were modelled: `capBpf` in namespace `userns`. */
export function legacyCreds(userns: number, capBpf: boolean): Creds {
  if (!capBpf) return credsFor(userns, 'none');
  return credsFor(userns, userns === 0 ? 'cap-bpf-init' : 'token');
}

/** ns_capable(ns, cap) for a task with `creds` (cap_capable(): the task's own ns or an ancestor). */
export function nsCapable(creds: Creds, ns: number, cap: Capability): boolean {
  const ownOrAncestor = creds.userns === ns || creds.userns === 0;
  return ownOrAncestor && creds.caps.has(cap);
}

/** bpf_ns_capable(): CAP_SYS_ADMIN implies every other capability. */
function bpfNsCapable(creds: Creds, ns: number, cap: Capability): boolean {
  return (
    nsCapable(creds, ns, cap) || (cap !== 'CAP_SYS_ADMIN' && nsCapable(creds, ns, 'CAP_SYS_ADMIN'))
  );
}

/** bpf_token_capable(token, cap). */
export function bpfTokenCapable(creds: Creds, token: BpfToken | null, cap: Capability): boolean {
  return bpfNsCapable(creds, token?.userns ?? 0, cap);
}

/** bpf_token_create() from a bpffs mounted in `userns` by a task of `userns` holding `caps` there. */
export function bpfTokenCreate(
  userns: number,
  caps: ReadonlySet<Capability>,
  structOps: boolean,
): BpfToken | Errno {
  const creds: Creds = { userns, caps, token: null };
  if (!nsCapable(creds, userns, 'CAP_BPF')) return 'EPERM';
  if (userns === 0) return 'EOPNOTSUPP';
  if (!structOps) return 'ENOENT';
  return { userns, structOps };
}

/** Why a struct_ops map and its programs could be loaded: what the loader needed, as a report says it. */
export type LoadBasis =
  | { readonly kind: 'init' }
  | { readonly kind: 'token'; readonly userns: number };

/**
 * BPF_MAP_CREATE of a BPF_MAP_TYPE_STRUCT_OPS map, then BPF_PROG_LOAD of its
 * BPF_PROG_TYPE_STRUCT_OPS programs (kernel/bpf/syscall.c): map_create()
 * needs bpf_token_capable(token, CAP_BPF); bpf_prog_load() needs it too, and
 * bpf_token_capable(token, CAP_PERFMON) because struct_ops is a "perfmon"
 * program type (is_perfmon_prog_type(): "has access to struct sock").
 * Returns what let it load, or EPERM.
 */
export function structOpsLoad(creds: Creds): LoadBasis | 'EPERM' {
  // A token that does not delegate struct_ops is ignored: the checks fall back to init_user_ns.
  const token = creds.token?.structOps === true ? creds.token : null;
  const ok =
    bpfTokenCapable(creds, token, 'CAP_BPF') && bpfTokenCapable(creds, token, 'CAP_PERFMON');
  if (!ok) return 'EPERM';
  // With a token the check ran in the token's userns; without one, in init_user_ns.
  return token === null ? { kind: 'init' } : { kind: 'token', userns: token.userns };
}

/** What loading needed, as a verdict says it. */
export function describeBasis(basis: LoadBasis): string {
  return basis.kind === 'init'
    ? 'CAP_BPF and CAP_PERFMON in init_user_ns'
    : `a BPF token in userns ${basis.userns} (CAP_BPF and CAP_PERFMON there)`;
}

/** What a process held, as a verdict says it. */
export function describeCreds(creds: Creds): string {
  const where = creds.userns === 0 ? 'init_user_ns' : `userns ${creds.userns}`;
  const caps = creds.caps.has('CAP_SYS_ADMIN')
    ? `root in ${where}`
    : creds.caps.size === 0
      ? `no capability (userns ${creds.userns})`
      : `${[...creds.caps].sort().join('+')} in ${where}`;
  return creds.token === null ? caps : `${caps} with a BPF token in userns ${creds.token.userns}`;
}

/** What a request that only named a program needed: io_uring_setup() and io_uring_enter() check no capability. */
export const NO_PRIVILEGE = 'no privilege: any process that can create an io_uring';
