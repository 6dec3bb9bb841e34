// D3 per-ctx: the design the series adopted, v2/v3 as posted
// (20260106101126.4064990-6/-7-ming.lei@redhat.com, 20260324163753.1900977-*).
// Each ring created with the setup flag has bpf_ext_ops[16] of
// {ops pointer, int refcount}. ->reg() resolves the struct_ops value's
// ring_fd with fget in the ATTACHING task; ->unreg() resolves it AGAIN in
// whichever task drops the link: a failed lookup is silently ignored
// (->unreg() returns void), and in an exiting task, whose files table is
// already gone, the lookup oopses (see World.exit). Unregister drops the
// registration's reference and waits, outside uring_lock and
// uninterruptibly, for requests to drop theirs; prep admits requests while
// refcount != 0.
// The +unregistering-bit variant marks the slot when unregister starts and
// prep refuses marked slots, so new requests cannot keep it alive forever.

import { CachedOps } from './cached-ops.js';
import type { DesignDef, DesignOps, ProgramName } from './design.js';
import { fail, neg, ok } from './kernel/errno.js';
import { Refcount } from './kernel/refcount.js';
import { at, type Op, waitUntil } from './kernel/step.js';
import { breakdown, registrations } from './memory.js';
import { attachStructOps, detachStructOps } from './struct-ops.js';
import type { Process, Program, Ring, World } from './world.js';

/** IO_RING_MAX_BPF_OPS: "Arbitrary limit, can be raised if need be". */
export const MAX_BPF_OPS = 16;

/** struct uring_bpf_ops_kern, plus the variant's flag. */
interface OpsSlot {
  ops: Program | null;
  readonly refcount: Refcount;
  unregistering: boolean;
}

type Variant = 'unregistering-bit' | null;

function create(world: World, variant: Variant): DesignOps {
  const tables = new WeakMap<Ring, OpsSlot[]>();
  const cached = new CachedOps(world);

  const tableName = (ring: Ring) => `ring#${ring.id}.bpf_ext_ops`;
  const slotOf = (ring: Ring, op: number): OpsSlot => {
    const slot = tables.get(ring)?.[op];
    if (slot === undefined) throw new Error(`BUG: ring#${ring.id} has no bpf_ext_ops[${op}]`);
    return slot;
  };
  const readSlot = (ring: Ring, op: number): OpsSlot => {
    if (op >= MAX_BPF_OPS) {
      // Only reachable with drop-op-bounds-check: memory past the table, read as an empty slot.
      world.trace.outOfBounds('read', tableName(ring), op, MAX_BPF_OPS);
      return {
        ops: null,
        refcount: new Refcount('past bpf_ext_ops', 0, false, world.trace),
        unregistering: false,
      };
    }
    const slot = slotOf(ring, op);
    world.trace.slot('read', tableName(ring), op, slot.ops?.id ?? null);
    return slot;
  };
  const writeSlot = (ring: Ring, op: number, ops: Program | null): void => {
    slotOf(ring, op).ops = ops;
    world.trace.slot('write', tableName(ring), op, ops?.id ?? null);
  };

  /**
   * io_bpf_reg_unreg(): the struct_ops value's id and ring_fd, resolved in
   * `proc` (the task running ->reg() or ->unreg()). Returns 0 or -errno.
   */
  function* regUnreg(
    proc: Process | null,
    program: Program,
    id: number,
    ringFd: number,
    reg: boolean,
  ): Op<number> {
    if (id >= MAX_BPF_OPS) return neg('EINVAL');
    yield* at(`io_uring_register_get_file(${ringFd})`);
    const file = proc?.fds.fget(ringFd);
    if (file === undefined) return neg('EBADF');
    if (file.payload.kind !== 'io_uring') {
      world.fput(file);
      return neg('EOPNOTSUPP');
    }
    const ring = file.payload.ring;
    let ret = neg('EINVAL');
    if (ring.bpf) {
      ret = reg ? yield* install(ring, id, program) : yield* remove(ring, id);
    }
    yield* at(`fput(ring#${ring.id})`);
    world.fput(file);
    return ret;
  }

  function* install(ring: Ring, id: number, program: Program): Op<number> {
    yield* ring.uringLock.lock();
    yield* at('reg: check slot');
    let ret = neg('EBUSY');
    if (readSlot(ring, id).ops === null) {
      writeSlot(ring, id, program);
      slotOf(ring, id).refcount.set(1);
      ret = 0;
    }
    yield* ring.uringLock.unlock();
    return ret;
  }

  function* remove(ring: Ring, id: number): Op<number> {
    yield* ring.uringLock.lock();
    yield* at('unreg: check slot');
    const slot = readSlot(ring, id);
    let ret = neg('EINVAL');
    if (slot.ops !== null) {
      if (variant === 'unregistering-bit') slot.unregistering = true;
      slot.refcount.put();
      for (;;) {
        yield* at('unreg: refcount == 0?');
        // Planted bug (unreg-no-wait): the slot is cleared without waiting for requests.
        if (slot.refcount.count === 0 || world.trace.mutations.has('unreg-no-wait')) {
          writeSlot(ring, id, null);
          slot.unregistering = false;
          ret = 0;
          break;
        }
        yield* ring.uringLock.unlock();
        // A wait for a count to drop is a lock in disguise: what this task holds (update_mutex
        // on BPF_LINK_DETACH) orders before every holder of a reference.
        const count = `wait_event(${slot.refcount.object} == 0)`;
        world.trace.lockdep.wait(slot.refcount.object, count);
        yield* waitUntil(
          'wait_event(bpf_wq, refcount == 0)',
          () => slot.refcount.count === 0,
          () =>
            world.requestWaitBlockers(
              count,
              // The references requests hold: taken by a successful prep, dropped by cleanup.
              world.requests.filter((r) => r.ring === ring && r.needCleanup && r.cmd.op === id),
              '',
            ),
        );
        yield* ring.uringLock.lock();
      }
    }
    yield* ring.uringLock.unlock();
    return ret;
  }

  return {
    *ringCreated(ring) {
      if (ring.bpf) {
        // io_bpf_alloc(): kcalloc(IO_RING_MAX_BPF_OPS, ...)
        const slots = Array.from({ length: MAX_BPF_OPS }, (_, op) => ({
          ops: null,
          refcount: new Refcount(`${tableName(ring)}[${op}].refcount`, 0, false, world.trace),
          unregistering: false,
        }));
        tables.set(ring, slots);
      }
      return ok(undefined);
    },

    *ringFreed(ring) {
      // v3 io_ring_ctx_free() skips io_unregister_bpf_ops() on BPF_EXT rings; io_bpf_free() kfrees the table.
      tables.delete(ring);
    },

    *prep(req) {
      if (!req.ring.bpf) return neg('EOPNOTSUPP');
      const op = (req.sqe.bpfOpFlags >>> 24) & 0xff;
      // Planted bug (drop-op-bounds-check): the op is used unchecked.
      if (op >= MAX_BPF_OPS && !world.trace.mutations.has('drop-op-bounds-check'))
        return neg('EINVAL');
      yield* at('prep: read bpf_ext_ops[op]');
      const slot = readSlot(req.ring, op);
      if (
        slot.ops === null ||
        !slot.ops.has('prep') ||
        slot.refcount.count === 0 ||
        slot.unregistering
      ) {
        return neg('EOPNOTSUPP');
      }
      // data->opf, then data->ops: written only once the slot admitted the request, so an
      // earlier failure leaves the previous user's values for ->fail() (v2/v3 -7, io_uring_bpf_prep).
      req.cmd.op = op;
      const ret = yield* cached.prepWith(req, slot.ops);
      if (ret === 0) {
        yield* at('prep: refcount++');
        req.needCleanup = true;
        // Planted bug (skip-prep-refcount): the request holds no slot reference.
        if (!world.trace.mutations.has('skip-prep-refcount')) slot.refcount.get();
      }
      return ret;
    },

    issue: (req, unlocked) => cached.issue(req, unlocked),
    fail: (req) => cached.fail(req),

    *cleanup(req) {
      yield* cached.cleanup(req);
      yield* at('cleanup: refcount--');
      // uring_bpf_get_op(data->opf): the slot this request's successful prep counted itself in.
      const slot = readSlot(req.ring, req.cmd.op);
      // wake_up(&ctx->bpf_wq) at zero: the waiter's ready predicate sees it.
      slot.refcount.put();
    },

    *register(proc, args) {
      const id = args.id ?? -1;
      const ringFd = args.ringFd ?? -1;
      // The struct_ops value holds `unsigned short id` and `int ring_fd`.
      if (!Number.isInteger(id) || id < 0 || id > 0xffff || !Number.isInteger(ringFd))
        return fail('EINVAL');
      const linkFd = yield* attachStructOps(world, proc, args.progFd, {
        reg: (program) => regUnreg(proc, program, id, ringFd, true),
        unreg: function* (program) {
          const ret = yield* regUnreg(world.current, program, id, ringFd, false);
          world.trace.emit({
            kind: 'unregistered',
            design: 'per-ctx',
            program: program.id,
            name: `${ringFd}:${id}`,
            ret,
          });
        },
      });
      if (!linkFd.ok) return linkFd;
      return ok({ name: { kind: 'id', id }, linkFd: linkFd.value, ringFd });
    },

    *unregister(proc, reg) {
      return yield* detachStructOps(world, proc, reg.linkFd);
    },

    discover: null,

    target(name: ProgramName) {
      if (name.kind !== 'id')
        throw new Error(`BUG: per-ctx names programs by op id, not ${name.kind}`);
      return { bpfOpFlags: ((name.id & 0xff) * 2 ** 24) >>> 0, fd: -1, fixedFile: false };
    },
  };
}

const SOURCES = [
  '20260106101126.4064990-6-ming.lei@redhat.com',
  '20260106101126.4064990-7-ming.lei@redhat.com',
  '20260324163753.1900977-7-ming.lei@redhat.com',
];

function define(variant: Variant): DesignDef {
  return {
    id: 'per-ctx',
    variant,
    name: variant === null ? 'per-ctx' : `per-ctx+${variant}`,
    title: 'A table of 16 ops per ring (v2/v3)',
    sources: SOURCES,
    scope: 'ring',
    setupFlag: { name: 'IORING_SETUP_BPF_EXT (v3; v2 IORING_SETUP_BPF_OP, bit 20)', bit: 21 },
    nameKind: 'id',
    idRange: { min: 0, max: MAX_BPF_OPS - 1 },
    sqeEncoding: 'op id in bits 31..24 of bpf_op_flags; ids >= 16 fail prep with -EINVAL',
    change: variant === null ? '' : 'unregister marks the slot first; prep refuses marked slots',
    create: (world) => create(world, variant),
    memory: (p, sizes) => {
      // One struct_ops map per (ring, op), even when every ring runs the same programs.
      const maps = p.rings * p.programs;
      return breakdown(
        sizes,
        [
          ['uring_bpf_ops_kern', p.rings * MAX_BPF_OPS, 'ctx->bpf_ext_ops[16]'],
          ['wait_queue_head', p.rings, 'ctx->bpf_wq'],
          ['bpf_struct_ops_map', maps - registrations(p), 'extra map per ring'],
          ['trampoline_page', maps - registrations(p), 'extra map per ring'],
          ['bpf_struct_ops_link', maps],
          ['file', maps, 'link fd'],
        ],
        p.programs > MAX_BPF_OPS
          ? `${p.programs} programs per ring exceed the ${MAX_BPF_OPS} slots`
          : null,
      );
    },
  };
}

export const perCtx = define(null);
export const perCtxUnregisteringBit = define('unregistering-bit');
