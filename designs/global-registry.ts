// v1's registration and request protocol (20251104162123.1086035-4-ming.lei@redhat.com),
// shared by the designs with one system-wide table: global-array (v1 itself),
// array-xarray (the same protocol over a bigger table) and global-alloc (the
// kernel picks the id). Only the table differs between them.
//
// * Rings created with the setup flag join a global list under a global mutex.
// * ->reg()/->unreg(): global mutex, then every listed ring's uring_lock in
//   list order, change the table, synchronize_srcu() with all locks held,
//   unlock. reg fails with -EBUSY only if the slot's issue_fn is set.
// * prep/issue/fail/cleanup each re-read the slot from the id in the request;
//   nothing is cached and no reference is taken. Issue on io-wq reads it
//   inside an SRCU read section. The program's issue return passes through.
// * Each tests a function pointer and calls it (`if (ops->fn) ops->fn()`)
//   with no READ_ONCE: two loads of the member. The array slot is a copy of
//   the struct written member by member, so a reader the writer does not
//   exclude (io-wq issue, inside SRCU only) can load NULL or another
//   registration's pointer the second time.
// * cleanup only runs with REQ_F_NEED_CLEANUP, which v1's prep never sets, so
//   the posted cleanup is dead code.

import type { DesignOps, ProgramName, RegisterArgs, Registration } from './design.js';
import { ioFindBufNode } from './io-uring.js';
import { fail, neg, ok, type Result } from './kernel/errno.js';
import { Mutex } from './kernel/mutex.js';
import { Srcu } from './kernel/srcu.js';
import { at, type Op } from './kernel/step.js';
import type { Callback } from './kernel/trace.js';
import { XArray } from './kernel/xarray.js';
import { attachStructOps, detachStructOps } from './struct-ops.js';
import type { Process, Program, Request, Ring, Sqe, World } from './world.js';

/** A function pointer: the trampoline of one program's callback, or NULL (null). */
export interface FnPtr {
  readonly program: Program;
  readonly callback: Callback;
}

/**
 * struct uring_bpf_ops (uring_bpf.h in 20251104162123.1086035-4): an id and
 * four function pointers, 40 bytes on x86-64.
 */
type UringBpfOps = { id: number } & Record<Callback, FnPtr | null>;

/** Its members in declaration order, the order a struct copy writes them. */
const OPS_MEMBERS = ['id', 'prep', 'issue', 'fail', 'cleanup'] as const;
const CALLBACK_MEMBERS: readonly Callback[] = ['prep', 'issue', 'fail', 'cleanup'];

/** C's name of a member: `prep` is `prep_fn`. */
const memberName = (member: (typeof OPS_MEMBERS)[number]) =>
  member === 'id' ? 'id' : `${member}_fn`;

const EMPTY_OPS: UringBpfOps = { id: 0, prep: null, issue: null, fail: null, cleanup: null };

/** The struct_ops map's kernel value for `program` (kdata): a pointer per callback it has. */
function kdataOf(program: Program, id: number): UringBpfOps {
  const ptr = (cb: Callback): FnPtr | null => (program.has(cb) ? { program, callback: cb } : null);
  return {
    id,
    prep: ptr('prep'),
    issue: ptr('issue'),
    fail: ptr('fail'),
    cleanup: ptr('cleanup'),
  };
}

/** A struct uring_bpf_ops as a reader reaches it. */
export interface OpsRef {
  /** A plain load (no READ_ONCE) of function pointer member `cb`. */
  load(cb: Callback): FnPtr | null;
}

/** The system-wide table: what differs between the global designs. Every access is traced. */
export interface GlobalTable {
  /** The ops for `id` (loading an entry pointer where the table holds pointers), or null for none. */
  lookup(id: number): OpsRef | null;
  /** ->reg()'s write of `program`'s ops at `id`, as atomic steps. */
  store(id: number, program: Program): Op<void>;
  /** ->unreg()'s clearing of `id`, as atomic steps. */
  clear(id: number): Op<void>;
  /** Ids whose slot holds a registration, as a struct_ops listing (bpftool) shows them. */
  used(): number[];
}

/**
 * v1's `static struct uring_bpf_ops bpf_ops[size]`: each slot is a copy of a
 * registration's struct. ->reg() copies it in (`bpf_ops[id] = *ops`) and
 * ->unreg() zeroes it, one member at a time in declaration order, each its
 * own step; a reader loads the members in place. Ids past the end reach the
 * memory after the array, traced as out-of-bounds accesses.
 */
export class OpsArray implements GlobalTable {
  private readonly slots: UringBpfOps[];
  /** Memory after the array, as far as out-of-bounds writes touched it. */
  private readonly beyond = new Map<number, UringBpfOps>();

  constructor(
    private readonly world: World,
    readonly name: string,
    readonly size: number,
  ) {
    this.slots = Array.from({ length: size }, () => ({ ...EMPTY_OPS }));
  }

  lookup(id: number): OpsRef {
    return { load: (cb) => this.load(id, cb) };
  }

  private slotAt(id: number): UringBpfOps {
    const inside = this.slots[id];
    if (inside !== undefined) return inside;
    const past = this.beyond.get(id) ?? { ...EMPTY_OPS };
    this.beyond.set(id, past);
    return past;
  }

  private load(id: number, cb: Callback): FnPtr | null {
    const value = this.slotAt(id)[cb];
    if (id >= this.size) this.world.trace.outOfBounds('read', this.name, id, this.size);
    else this.world.trace.slot('read', this.name, id, value?.program.id ?? null, `${cb}_fn`);
    return value;
  }

  /** `bpf_ops[id] = *ops`. */
  store(id: number, program: Program): Op<void> {
    return this.copy(id, program);
  }

  /** `bpf_ops[id] = (struct uring_bpf_ops) {0}`. */
  clear(id: number): Op<void> {
    return this.copy(id, null);
  }

  /** A struct assignment: one step per member, in declaration order. */
  private *copy(id: number, program: Program | null): Op<void> {
    const source = program === null ? EMPTY_OPS : kdataOf(program, id);
    for (const member of OPS_MEMBERS) {
      const what = program === null ? '0' : `prog#${program.id}'s`;
      yield* at(`bpf_ops[${id}].${memberName(member)} = ${what}`);
      const slot = this.slotAt(id);
      if (member === 'id') slot.id = source.id;
      else slot[member] = source[member];
      if (id >= this.size) this.world.trace.outOfBounds('write', this.name, id, this.size);
      else this.world.trace.slot('write', this.name, id, program?.id ?? null, memberName(member));
    }
  }

  /** Slots holding any function pointer, inside the array first. */
  used(): number[] {
    const holds = (ops: UringBpfOps) => CALLBACK_MEMBERS.some((cb) => ops[cb] !== null);
    const inside = this.slots.flatMap((ops, id) => (holds(ops) ? [id] : []));
    const outside = [...this.beyond].flatMap(([id, ops]) => (holds(ops) ? [id] : []));
    return [...inside, ...outside.sort((a, b) => a - b)];
  }
}

/**
 * An xarray of pointers to registrations' structs (ids 256..65535 in
 * aTeStJ9_Tu0i5_wH@fedora: "stored in xarray"; global-alloc's table):
 * publishing or removing one is a single pointer write (xa_store/xa_erase).
 * A reader loads the pointer once, then the members of the struct it points
 * to, the struct_ops map's own value, which does not change while the map
 * lives.
 */
export class OpsPointerXarray implements GlobalTable {
  private readonly xa = new XArray<Program>();

  constructor(
    private readonly world: World,
    readonly name: string,
  ) {}

  lookup(id: number): OpsRef | null {
    const program = this.loadEntry(id);
    if (program === null) return null;
    const ops = kdataOf(program, id);
    // Planted bug (xa-entry-reloaded): every member load looks the entry up again.
    if (this.world.trace.mutations.has('xa-entry-reloaded')) {
      return {
        load: (cb) => {
          const now = this.loadEntry(id);
          return now === null ? null : kdataOf(now, id)[cb];
        },
      };
    }
    return { load: (cb) => ops[cb] };
  }

  private loadEntry(id: number): Program | null {
    const program = this.xa.load(id) ?? null;
    this.world.trace.slot('read', this.name, id, program?.id ?? null);
    return program;
  }

  *store(id: number, program: Program): Op<void> {
    yield* at(`xa_store(${this.name}, ${id}, prog#${program.id})`);
    this.xa.store(id, program);
    this.world.trace.slot('write', this.name, id, program.id);
  }

  *clear(id: number): Op<void> {
    yield* at(`xa_erase(${this.name}, ${id})`);
    this.xa.erase(id);
    this.world.trace.slot('write', this.name, id, null);
  }

  /** xa_alloc_cyclic() over [min, max]: the pointer is stored at the id it picks (one write). */
  allocate(program: Program, min: number, max: number): Result<number> {
    const id = this.xa.allocCyclic(program, min, max);
    if (id.ok) this.world.trace.slot('write', this.name, id.value, program.id);
    return id;
  }

  used(): number[] {
    return [...this.xa].map(([id]) => id);
  }
}

export interface GlobalRegistryConfig {
  readonly table: GlobalTable;
  /** Where the id sits in sqe->bpf_op_flags: shift and width in bits. */
  readonly sqeIdShift: number;
  readonly sqeIdBits: number;
  /** Checks a requested id before any lock is taken (0 or -errno); absent in the posted v1. */
  readonly checkId?: (id: number) => number;
  /** Present for global-alloc: the kernel allocates the id (and stores the pointer) in one step. */
  readonly allocate?: (program: Program) => Result<number>;
  /** Whether userspace can list used ids (bpftool struct_ops list). */
  readonly discovery: boolean;
}

/** Largest value of the u16 `id` field of struct uring_bpf_ops. */
const U16_MAX = 0xffff;

export function globalRegistry(world: World, config: GlobalRegistryConfig): DesignOps {
  const { table } = config;
  const ctxLock = new Mutex('uring_bpf_ctx_lock', world.trace);
  const srcu = new Srcu('uring_bpf_srcu', world.trace);
  /** uring_bpf_ctx_list: list_add() puts new rings at the head. */
  const ctxList: Ring[] = [];
  const idMask = 2 ** config.sqeIdBits - 1;

  /** The id in data->opf: this request's, or the previous user's when prep failed before writing it. */
  const opOf = (req: Request): number => req.cmd.op;

  /** io_bpf_reg_unreg(): every lock, the table change, a grace period, unlock. */
  function* regUnreg(change: () => Op<number>): Op<number> {
    yield* ctxLock.lock();
    const locked = [...ctxList];
    for (const ring of locked) yield* ring.uringLock.lock();
    const ret = yield* change();
    yield* srcu.synchronize();
    for (const ring of locked) yield* ring.uringLock.unlock();
    yield* ctxLock.unlock();
    return ret;
  }

  /** `if (bpf_ops[id].issue_fn) -EBUSY; else bpf_ops[id] = *ops;` */
  function* claim(program: Program, id: number): Op<number> {
    yield* at('reg: test bpf_ops[id].issue_fn');
    if (table.lookup(id)?.load('issue')) return neg('EBUSY');
    yield* table.store(id, program);
    return 0;
  }

  /**
   * `if (ops->fn) return ops->fn(...)` as posted, for the ops at `id`: with
   * no READ_ONCE the test and the call are two loads of the member, with a
   * preemption point between. From the first load until the call returns the
   * caller is an RCU-tasks reader (World.rcu). Null when the test read NULL
   * (or found no ops at all). `untested` drops the test of the member.
   */
  function* testAndCall(
    req: Request,
    id: number,
    cb: Callback,
    where: string,
    untested = false,
    issueFlagsUnlocked = false,
  ): Op<number | null> {
    const window = world.rcu.readLock();
    const ops = table.lookup(id);
    if (ops === null || (!untested && ops.load(cb) === null)) {
      world.rcu.readUnlock(window);
      return null;
    }
    yield* at(`${cb}_fn: load ops->${cb}_fn again and call it`);
    const program = ops.load(cb)?.program ?? null;
    const ret = world.callProgram(req, program, cb, where);
    // 5/5: the program's io_uring_bpf_req_memcpy() on a fixed buffer imports it with
    // data->issue_flags, which only issue sets (prep, fail and cleanup zero it, under uring_lock).
    if (cb === 'issue' && program?.has('issue') && program.spec.memcpy === true)
      yield* ioFindBufNode(req, issueFlagsUnlocked);
    world.rcu.readUnlock(window);
    return ret;
  }

  function* register(proc: Process, args: RegisterArgs): Op<Result<Registration>> {
    let id = args.id ?? -1;
    if (config.allocate === undefined) {
      // The struct_ops value's id is an unsigned short: other values cannot be expressed.
      if (!Number.isInteger(id) || id < 0 || id > U16_MAX) return fail('EINVAL');
    }
    const linkFd = yield* attachStructOps(world, proc, args.progFd, {
      reg: function* (program) {
        // Planted bug (drop-bounds-check): the variant's check is gone again.
        if (config.checkId !== undefined && !world.trace.mutations.has('drop-bounds-check')) {
          const checked = config.checkId(id);
          if (checked !== 0) return checked;
        }
        return yield* regUnreg(function* () {
          if (config.allocate === undefined) return yield* claim(program, id);
          yield* at('xa_alloc_cyclic');
          const allocated = config.allocate(program);
          if (!allocated.ok) return neg(allocated.errno);
          id = allocated.value;
          return 0;
        });
      },
      unreg: function* () {
        yield* regUnreg(function* () {
          // Planted bug (unreg-keeps-entry): the registration stays in the table after its program goes.
          if (!world.trace.mutations.has('unreg-keeps-entry')) yield* table.clear(id);
          return 0;
        });
      },
    });
    if (!linkFd.ok) return linkFd;
    return ok({ name: { kind: 'id', id }, linkFd: linkFd.value, ringFd: null });
  }

  return {
    *ringCreated(ring) {
      if (!ring.bpf) return ok(undefined);
      yield* ctxLock.lock();
      ctxList.unshift(ring);
      yield* ctxLock.unlock();
      return ok(undefined);
    },

    *ringFreed(ring) {
      if (!ring.bpf) return;
      yield* ctxLock.lock();
      ctxList.splice(ctxList.indexOf(ring), 1);
      yield* ctxLock.unlock();
    },

    *prep(req) {
      if (!req.ring.bpf) return neg('EACCES');
      yield* at('prep: read bpf_ops[op]');
      const op = (req.sqe.bpfOpFlags >>> config.sqeIdShift) & idMask;
      // data->opf is written after the setup-flag check (-EACCES above leaves the old value).
      req.cmd.op = op;
      // Planted bug (prep-skips-null-test): prep_fn is called without testing that it is set.
      const untested = world.trace.mutations.has('prep-skips-null-test');
      return (yield* testAndCall(req, op, 'prep', 'prep', untested)) ?? neg('EOPNOTSUPP');
    },

    *issue(req, unlocked) {
      let token = 0;
      // Planted bug (no-srcu-read-lock): the io-wq issue reads the table outside any read section.
      const guarded = unlocked && !world.trace.mutations.has('no-srcu-read-lock');
      if (guarded) {
        yield* at('srcu_read_lock');
        token = srcu.readLock();
      }
      yield* at('issue: read bpf_ops[op]');
      const ret =
        (yield* testAndCall(req, opOf(req), 'issue', 'issue', false, unlocked)) ?? neg('ECANCELED');
      if (guarded) {
        yield* at('srcu_read_unlock');
        srcu.readUnlock(token);
      }
      return ret;
    },

    *fail(req) {
      yield* at('fail: read bpf_ops[op]');
      yield* testAndCall(req, opOf(req), 'fail', 'fail');
    },

    *cleanup(req) {
      yield* at('cleanup: read bpf_ops[op]');
      yield* testAndCall(req, opOf(req), 'cleanup', 'cleanup');
    },

    register,

    *unregister(proc, reg) {
      return yield* detachStructOps(world, proc, reg.linkFd);
    },

    discover: config.discovery
      ? function* () {
          yield* at('bpftool struct_ops list');
          return ok(table.used());
        }
      : null,

    target(name: ProgramName): Pick<Sqe, 'bpfOpFlags' | 'fd' | 'fixedFile'> {
      if (name.kind !== 'id')
        throw new Error(`BUG: a global design names programs by id, not ${name.kind}`);
      return {
        bpfOpFlags: ((name.id & idMask) * 2 ** config.sqeIdShift) >>> 0,
        fd: -1,
        fixedFile: false,
      };
    },
  };
}
