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
// * cleanup only runs with REQ_F_NEED_CLEANUP, which v1's prep never sets, so
//   the posted cleanup (which tests fail_fn and calls cleanup_fn) is dead code.

import type { DesignOps, ProgramName, RegisterArgs, Registration } from './design.js';
import { fail, neg, ok, type Result } from './kernel/errno.js';
import { Mutex } from './kernel/mutex.js';
import { Srcu } from './kernel/srcu.js';
import { at, type Op } from './kernel/step.js';
import { attachStructOps, detachStructOps } from './struct-ops.js';
import type { Process, Program, Request, Ring, Sqe, World } from './world.js';

/** The system-wide table: what differs between the global designs. */
export interface GlobalTable {
  /** The program whose callbacks the slot for `id` holds, or null; traces the access. */
  read(id: number): Program | null;
  /** Writes (or clears, with null) the slot for `id`; traces the access. */
  write(id: number, program: Program | null): void;
  /** Ids whose slot holds a registration, as a struct_ops listing (bpftool) shows them. */
  used(): number[];
}

export interface GlobalRegistryConfig {
  readonly table: GlobalTable;
  /** Where the id sits in sqe->bpf_op_flags: shift and width in bits. */
  readonly sqeIdShift: number;
  readonly sqeIdBits: number;
  /** Checks a requested id before any lock is taken (0 or -errno); absent in the posted v1. */
  readonly checkId?: (id: number) => number;
  /** Present for global-alloc: the kernel allocates the id instead of taking one from userspace. */
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
  function* regUnreg(change: () => number): Op<number> {
    yield* ctxLock.lock();
    const locked = [...ctxList];
    for (const ring of locked) yield* ring.uringLock.lock();
    yield* at('bpf_ops: change slot');
    const ret = change();
    yield* srcu.synchronize();
    for (const ring of locked) yield* ring.uringLock.unlock();
    yield* ctxLock.unlock();
    return ret;
  }

  function claim(program: Program, id: number): number {
    if (table.read(id)?.has('issue')) return neg('EBUSY');
    table.write(id, program);
    return 0;
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
        return yield* regUnreg(() => {
          if (config.allocate === undefined) return claim(program, id);
          const allocated = config.allocate(program);
          if (!allocated.ok) return neg(allocated.errno);
          id = allocated.value;
          return 0;
        });
      },
      unreg: function* () {
        yield* regUnreg(() => {
          table.write(id, null);
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
      const slot = table.read(op);
      if (slot === null || !slot.has('prep')) return neg('EOPNOTSUPP');
      yield* at('prep_fn');
      return world.callProgram(req, slot, 'prep', 'prep');
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
      const slot = table.read(opOf(req));
      let ret = neg('ECANCELED');
      if (slot?.has('issue')) {
        yield* at('issue_fn');
        ret = world.callProgram(req, slot, 'issue', 'issue');
      }
      if (guarded) {
        yield* at('srcu_read_unlock');
        srcu.readUnlock(token);
      }
      return ret;
    },

    *fail(req) {
      yield* at('fail: read bpf_ops[op]');
      const slot = table.read(opOf(req));
      if (!slot?.has('fail')) return;
      yield* at('fail_fn');
      world.callProgram(req, slot, 'fail', 'fail');
    },

    *cleanup(req) {
      yield* at('cleanup: read bpf_ops[op]');
      const slot = table.read(opOf(req));
      // As posted: the test is on fail_fn, the call is to cleanup_fn.
      if (!slot?.has('fail')) return;
      yield* at('cleanup_fn');
      world.callProgram(req, slot, 'cleanup', 'cleanup (posted code tests fail_fn)');
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
