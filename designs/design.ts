// The one interface every design implements. The hooks mirror io_uring's
// opdef.c entry for IORING_OP_BPF (prep, issue, fail, cleanup) plus what the
// design adds to ring setup and the userspace registration API. The core in
// io-uring.ts, the fuzzer and the bench know designs only through this.

import type { Result } from './kernel/errno.js';
import type { Op } from './kernel/step.js';
import type { MemoryBreakdown, MemoryParams, StructSizes } from './memory.js';
import type { Process, Request, Ring, Sqe, World } from './world.js';

export type DesignId =
  | 'global-array'
  | 'array-xarray'
  | 'per-ctx'
  | 'per-fd'
  | 'per-fd-fixed'
  | 'global-alloc';

/** How an SQE names its program in a design. */
export type ProgramName =
  | { readonly kind: 'id'; readonly id: number }
  | { readonly kind: 'fd'; readonly fd: number }
  | { readonly kind: 'fixed'; readonly index: number };

export interface RegisterArgs {
  /** The loaded program's fd in the registering process. */
  readonly progFd: number;
  /** per-ctx: the struct_ops value's ring_fd; per-fd-fixed: the ring whose file table gets the program. */
  readonly ringFd?: number;
  /** The id asked for (global-array, array-xarray, per-ctx) or the fixed-file slot (per-fd-fixed). */
  readonly id?: number;
}

/** What a successful registration gives userspace: the SQE name and what undoes it. */
export interface Registration {
  readonly name: ProgramName;
  /** The struct_ops link fd (designs that attach through a bpf_link), else null. */
  readonly linkFd: number | null;
  /** The ring the name is valid on (per-ctx, per-fd-fixed), else null. */
  readonly ringFd: number | null;
}

/** One design instance's hooks, bound to one world. */
export interface DesignOps {
  /** io_ring_ctx_alloc(): the design's part of creating a ring. */
  ringCreated(ring: Ring): Op<Result<void>>;
  /** io_ring_ctx_free(): the design's part of freeing a ring. */
  ringFreed(ring: Ring): Op<void>;
  /** ->prep() under uring_lock: 0 or a negative errno. */
  prep(req: Request): Op<number>;
  /** ->issue(): inline under uring_lock, or on io-wq without it when `unlocked`. */
  issue(req: Request, unlocked: boolean): Op<number>;
  /** ->fail() under uring_lock, for a request failing with an error. */
  fail(req: Request): Op<void>;
  /** ->cleanup() under uring_lock, when the request has REQ_F_NEED_CLEANUP. */
  cleanup(req: Request): Op<void>;
  /** Makes a program nameable from SQEs. */
  register(proc: Process, args: RegisterArgs): Op<Result<Registration>>;
  /** Undoes a registration the way userspace would (link detach, close, slot clear). */
  unregister(proc: Process, reg: Registration): Op<Result<void>>;
  /** Ids free to register as userspace can learn them; null when the design has no discovery. */
  readonly discover: ((proc: Process, ringFd?: number) => Op<Result<number[]>>) | null;
  /** The SQE fields that carry `name`. */
  target(name: ProgramName): Pick<Sqe, 'bpfOpFlags' | 'fd' | 'fixedFile'>;
}

export interface SetupFlag {
  readonly name: string;
  readonly bit: number;
}

export interface DesignDef {
  readonly id: DesignId;
  /** Null for the design as posted; otherwise the fixed variant's name. */
  readonly variant: string | null;
  /** `id` or `id+variant`: the name used everywhere. */
  readonly name: string;
  readonly title: string;
  /** Message-IDs the behaviour is taken from. */
  readonly sources: readonly string[];
  /** Whose namespace the name lives in. */
  readonly scope: 'global' | 'ring' | 'process';
  /** The ring setup flag the design needs, or null. */
  readonly setupFlag: SetupFlag | null;
  /** What kind of name an SQE carries in this design. */
  readonly nameKind: ProgramName['kind'];
  /** Range of names userspace can put in an SQE (ids or slots), or null for fds. */
  readonly idRange: { readonly min: number; readonly max: number } | null;
  /** How the SQE carries the name, and any assumption the model makes about it. */
  readonly sqeEncoding: string;
  /** What the variant changes from the posted code; empty for the posted design. */
  readonly change: string;
  create(world: World): DesignOps;
  /** Bytes the design adds for naming programs, by structure. */
  memory(params: MemoryParams, sizes: StructSizes): MemoryBreakdown;
}
