// The io_uring core the designs plug into (io_uring/io_uring.c, reduced):
// ring setup and teardown, submission with prep and inline issue under
// uring_lock, the io-wq path (issue without uring_lock; the CQE from the
// worker, the request's free or failure as the submitter's task work),
// completion, failure and request freeing. The design supplies only the
// IORING_OP_BPF hooks, as opdef.c does for every opcode.

import type { DesignOps } from './design.js';
import { ERRNO, fail, ok, type Result } from './kernel/errno.js';
import { FixedFileTable, RsrcNode } from './kernel/fixed-files.js';
import { at, idleUntil, type Op, waitUntil } from './kernel/step.js';
import {
  type File,
  fgetRing,
  type Process,
  type Request,
  type RequestResidue,
  Ring,
  type SqEntry,
  type Sqe,
  type World,
} from './world.js';

/** io_uring.h: the op completed; post its result. */
export const IOU_COMPLETE = 0;
/** io_uring.h: the op will complete the request itself later (-EIOCBQUEUED). */
export const IOU_ISSUE_SKIP_COMPLETE = -ERRNO.EIOCBQUEUED;
/** io_uring.h: try again (-EAGAIN): inline, this punts to io-wq. */
export const IOU_RETRY = -ERRNO.EAGAIN;

/** io_uring/tctx.h IO_RINGFD_REG_MAX: registered ring fds per task. */
export const IO_RINGFD_REG_MAX = 16;

/** A ring named by its index in the calling task's registered ring table (IORING_ENTER_REGISTERED_RING). */
export interface RegisteredRing {
  readonly registered: number;
}

/** The SQ thread's own way to its ring: it holds the ctx, no fd. */
export interface SqThreadRing {
  readonly sqThreadOf: Ring;
}

/** How io_uring_enter() names its ring: an fd, or a registered index (or the SQ thread's ctx). */
export type RingRef = number | RegisteredRing | SqThreadRing;

export interface RingOptions {
  /** Create the ring with the design's setup flag. */
  readonly bpf: boolean;
  /** IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER (false unless given). */
  readonly deferTaskrun?: boolean;
  /** What requests fresh from the slab hold; all zero unless given (see RequestResidue). */
  readonly residue?: RequestResidue;
  /** IORING_SETUP_SQPOLL (false unless given). */
  readonly sqpoll?: boolean;
  /** The io_ring_ctx's address as an order key (creation order unless given). */
  readonly address?: number;
  /** Buffers registered at setup (0 unless given). */
  readonly buffers?: number;
}

/** Slots of the fixed-file table IORING_REGISTER_FILES gives a ring here (nr_args). */
export const REGISTERED_FILE_SLOTS = 4;

/**
 * io_import_reg_buf() -> io_find_buf_node() (io_uring/rsrc.c) for buffer
 * index 0: io_ring_submit_lock(ctx, issue_flags) takes the ring's
 * uring_lock when the caller runs without it (IO_URING_F_UNLOCKED: io-wq),
 * looks the node up, unlocks. 0, or -EFAULT with no buffer registered.
 */
export function* ioFindBufNode(req: Request, unlocked: boolean): Op<number> {
  yield* ioRingSubmitLock(req.ring, unlocked);
  yield* at(`io_rsrc_node_lookup(ring#${req.ring.id}.buf_table, 0)`);
  const found = req.ring.buffers > 0;
  yield* ioRingSubmitUnlock(req.ring, unlocked);
  return found ? 0 : -ERRNO.EFAULT;
}

/**
 * io_ring_submit_lock() (io_uring/io_uring.h): an op that may run inline
 * (uring_lock held) or on io-wq (IO_URING_F_UNLOCKED) takes the lock only
 * in the second case.
 */
function* ioRingSubmitLock(ring: Ring, unlocked: boolean): Op<void> {
  if (unlocked) yield* ring.uringLock.lock();
}

/** io_ring_submit_unlock(): undoes ioRingSubmitLock(). */
function* ioRingSubmitUnlock(ring: Ring, unlocked: boolean): Op<void> {
  if (unlocked) yield* ring.uringLock.unlock();
}

/**
 * lock_two_rings() (io_uring/rsrc.c): the lower io_ring_ctx address first.
 * The rings must differ. `ignoreAddress` (a planted bug) locks `a` first.
 */
export function* lockTwoRings(a: Ring, b: Ring, ignoreAddress = false): Op<void> {
  const [first, second] = ignoreAddress || a.address < b.address ? [a, b] : [b, a];
  yield* first.uringLock.lock();
  yield* second.uringLock.lock();
}

export class IoUring {
  /** msg->src_file of each MSG_RING request that grabbed one (REQ_F_NEED_CLEANUP until installed). */
  private readonly msgSrcFiles = new WeakMap<Request, File>();

  constructor(
    readonly world: World,
    readonly design: DesignOps,
  ) {}

  /** io_uring_setup(): a ring owned by `proc`, with its fd installed last. */
  *setup(proc: Process, opts: RingOptions): Op<Result<number>> {
    yield* at('io_uring_setup');
    if (!proc.alive) return fail('ESRCH');
    // io_uring_create(): "IPI related flags don't make sense with SQPOLL" (DEFER_TASKRUN among them).
    if (opts.sqpoll === true && opts.deferTaskrun === true) return fail('EINVAL');
    const w = this.world;
    const ring = new Ring(w.rings.length + 1, proc, opts.bpf, w.trace, opts);
    w.rings.push(ring);
    const created = yield* this.design.ringCreated(ring);
    if (!created.ok) {
      w.rings.splice(w.rings.indexOf(ring), 1);
      return created;
    }
    w.trace.emit({ kind: 'ring-created', ring: ring.id, pid: proc.pid, bpf: opts.bpf });
    const file = w.newFile(
      `ring#${ring.id}`,
      { kind: 'io_uring', ring },
      function* (this: IoUring) {
        // io_ring_ctx_wait_and_kill() hands the teardown to io_ring_exit_work on a workqueue.
        this.world.spawn(`ring-exit:ring${ring.id}`, this.free(ring), null);
      }.bind(this),
    );
    if (ring.sqpoll) {
      // io_sq_offload_create() -> create_io_thread(io_sq_thread): a thread of the creator sharing its files.
      ring.sqThreadAlive = true;
      w.spawn(`sqpoll:ring${ring.id}`, this.sqThread(ring), proc);
    }
    return yield* w.installFd(proc, file);
  }

  /**
   * io_ring_exit_work(): waits for every request to be freed (moving
   * DEFER_TASKRUN completions nobody will run to kworkers meanwhile), then
   * io_ring_ctx_free().
   */
  private *free(ring: Ring): Op<void> {
    for (;;) {
      this.world.moveLocalWork(ring);
      if (ring.inflight === 0) break;
      yield* waitUntil(
        `io_ring_exit_work(ring#${ring.id}): wait for requests`,
        () => ring.inflight === 0 || ring.localWork.length > 0,
        () =>
          this.world.requestWaitBlockers(
            `io_ring_exit_work(ring#${ring.id})`,
            this.world.requests.filter((r) => r.ring === ring),
            '',
          ),
      );
    }
    ring.fixedFiles?.clearAll();
    ring.fixedFiles = null;
    yield* this.design.ringFreed(ring);
    ring.freed = true;
    this.world.trace.emit({ kind: 'ring-freed', ring: ring.id });
  }

  /**
   * io_uring_enter() with one SQE: prep and inline issue under uring_lock, or
   * a punt to io-wq. Returns the request id; the CQE, if any, lands in the ring.
   */
  *submit(proc: Process, ringFd: RingRef, sqe: Sqe): Op<Result<number>> {
    const entered = yield* this.enter(proc, ringFd, 'io_uring_enter');
    if (!entered.ok) return entered;
    const { ring, file, task } = entered.value;
    if (ring.sqpoll && !(typeof ringFd === 'object' && 'sqThreadOf' in ringFd))
      return yield* this.sqSubmit(ring, file, sqe);
    const w = this.world;
    // SINGLE_ISSUER: the ring belongs to one task; taken here by its first submitter, as
    // IORING_REGISTER_ENABLE_RINGS does for a ring created disabled.
    if (ring.deferTaskrun) ring.submitterTask ??= { task, proc };
    yield* ring.uringLock.lock();
    // io_submit_sqes() -> io_alloc_req(): from the ring's cache, under uring_lock.
    const req = w.newRequest(ring, proc, sqe);
    req.task = task;
    ring.inflight += 1;
    w.trace.emit({
      kind: 'sqe',
      request: req.id,
      ring: ring.id,
      pid: proc.pid,
      userData: sqe.userData,
      async: sqe.async,
    });
    const prepRet = sqe.msgRing === undefined ? yield* this.design.prep(req) : this.msgPrep(req);
    if (prepRet !== 0) {
      // io_submit_fail_init() -> io_req_defer_failed(): ->fail() runs even when prep failed.
      yield* this.failRequest(req, prepRet);
    } else if (sqe.async) {
      this.punt(req);
    } else {
      req.state = 'issued';
      const ret = yield* this.issueOp(req, false);
      yield* this.afterIssue(req, ret, true);
    }
    yield* ring.uringLock.unlock();
    // IORING_ENTER_GETEVENTS on a DEFER_TASKRUN ring: the submitter runs the ring's completions.
    if (ring.deferTaskrun) yield* w.runLocalWork(ring);
    if (file !== null) this.world.fput(file);
    return ok(req.id);
  }

  /**
   * io_uring_enter(IORING_ENTER_GETEVENTS): waits until `done()` holds,
   * running the ring's local completions (DEFER_TASKRUN, submitter task
   * only) and the caller's own task work meanwhile (io_cqring_wait()).
   */
  *getEvents(proc: Process, ringFd: RingRef, done: (ring: Ring) => boolean): Op<Result<void>> {
    const entered = yield* this.enter(proc, ringFd, 'io_uring_enter(GETEVENTS)');
    if (!entered.ok) return entered;
    const { ring, file, task } = entered.value;
    const w = this.world;
    const mine = ring.deferTaskrun && ring.submitterTask?.task === task;
    for (;;) {
      if (mine) yield* w.runLocalWork(ring);
      yield* w.runTaskWork(task);
      if (done(ring)) break;
      yield* waitUntil(
        `io_cqring_wait(ring#${ring.id})`,
        () => done(ring) || (mine && ring.localWork.length > 0) || w.pendingWork(task) > 0,
      );
    }
    if (file !== null) w.fput(file);
    return ok(undefined);
  }

  /**
   * io_uring_enter()'s start: the ring behind `ringFd` with a file reference
   * (none for a registered ring: the task's table holds one), and the
   * entering task; EEXIST for a task other than the owner of a
   * SINGLE_ISSUER (DEFER_TASKRUN) ring.
   */
  private *enter(
    proc: Process,
    ringFd: RingRef,
    label: string,
  ): Op<Result<{ ring: Ring; file: File | null; task: string }>> {
    yield* at(label);
    const task = this.world.trace.actor;
    let ring: Ring;
    let file: File | null = null;
    if (typeof ringFd === 'number') {
      const found = fgetRing(this.world, proc, ringFd);
      if (!found.ok) return found;
      ({ ring, file } = found.value);
    } else if ('sqThreadOf' in ringFd) {
      ring = ringFd.sqThreadOf;
    } else {
      // IORING_ENTER_REGISTERED_RING: tctx->registered_rings[fd], EINVAL past the table, EBADF if empty.
      if (ringFd.registered < 0 || ringFd.registered >= IO_RINGFD_REG_MAX) return fail('EINVAL');
      const registered = this.world.registeredRings.get(task)?.[ringFd.registered] ?? null;
      if (registered === null || registered.payload.kind !== 'io_uring') return fail('EBADF');
      ring = registered.payload.ring;
    }
    if (ring.deferTaskrun && ring.submitterTask !== null && ring.submitterTask.task !== task) {
      if (file !== null) this.world.fput(file);
      return fail('EEXIST');
    }
    return ok({ ring, file, task });
  }

  /**
   * io_uring_enter() on an SQPOLL ring: the SQE is in the shared SQ ring and
   * the call only wakes the SQ thread (EOWNERDEAD once that thread is gone:
   * its process exited). The SQ thread preps and issues it with its own
   * files -- the creator's -- whoever wrote it. The model's caller waits
   * until the SQ thread has made a request of the SQE, for its bookkeeping
   * only (the request id); a real caller would carry on, which the model
   * covers as a caller that happens to be slow.
   */
  private *sqSubmit(ring: Ring, file: File | null, sqe: Sqe): Op<Result<number>> {
    if (file !== null) this.world.fput(file);
    if (!ring.sqThreadAlive) return fail('EOWNERDEAD');
    const entry: SqEntry = { sqe, request: null };
    ring.sq.push(entry);
    yield* waitUntil(
      `sqpoll(ring#${ring.id}): SQE taken`,
      () => entry.request !== null || !ring.sqThreadAlive,
    );
    return entry.request ?? fail('EOWNERDEAD');
  }

  /**
   * io_sq_thread() (io_uring/sqpoll.c): takes SQEs from the SQ ring and
   * submits them as itself, in the creator's process (its files), and runs
   * its own task work: completions of the requests it submitted are its.
   * It stops when the ring is gone or its process exits, running the task
   * work it still has (io_uring_cancel_generic() on its way out).
   */
  private *sqThread(ring: Ring): Op<void> {
    const w = this.world;
    const task = w.trace.actor;
    const proc = ring.owner;
    for (;;) {
      yield* w.runTaskWork(task);
      // Killed with its process (exit_group), or done with the ring: SQEs left are never taken.
      if (ring.freed || !proc.alive) break;
      const entry = ring.sq.shift();
      if (entry !== undefined) {
        // A thread sharing the process's files table: exit waits for it to leave the kernel
        // before exit_files() (World.exit), as for the process's other threads.
        proc.inSyscall += 1;
        try {
          entry.request = yield* this.submit(proc, { sqThreadOf: ring }, entry.sqe);
        } finally {
          proc.inSyscall -= 1;
        }
        continue;
      }
      yield* idleUntil(
        `io_sq_thread(ring#${ring.id}): idle`,
        () => ring.sq.length > 0 || w.pendingWork(task) > 0 || ring.freed || !proc.alive,
      );
    }
    ring.sqThreadAlive = false;
    yield* w.runTaskWork(task);
  }

  /**
   * IORING_REGISTER_RING_FDS with offset -1 (io_uring/tctx.c
   * io_ring_add_registered_fd): fget(ringFd) in the caller (EBADF; EOPNOTSUPP
   * for a file that is not a ring), kept in the first free slot of the
   * calling task's table (EBUSY when full). Returns the index.
   */
  *registerRingFd(proc: Process, ringFd: number): Op<Result<number>> {
    yield* at(`io_uring_register(RING_FDS, ${ringFd})`);
    const task = this.world.trace.actor;
    const table = this.world.registeredRings.get(task) ?? [];
    const free = Array.from({ length: IO_RINGFD_REG_MAX }, (_, i) => i).find(
      (i) => (table[i] ?? null) === null,
    );
    if (free === undefined) return fail('EBUSY');
    const found = fgetRing(this.world, proc, ringFd);
    if (!found.ok) return found;
    table[free] = found.value.file;
    this.world.registeredRings.set(task, table);
    return ok(free);
  }

  /** IORING_UNREGISTER_RING_FDS for `index`: the slot's file reference is put. EINVAL out of range. */
  *unregisterRingFd(index: number): Op<Result<void>> {
    yield* at(`io_uring_register(UNREGISTER_RING_FDS, ${index})`);
    if (index < 0 || index >= IO_RINGFD_REG_MAX) return fail('EINVAL');
    const table = this.world.registeredRings.get(this.world.trace.actor);
    const file = table?.[index] ?? null;
    if (table !== undefined && file !== null) {
      table[index] = null;
      this.world.fput(file);
    }
    return ok(undefined);
  }

  /** ->issue() of the request's opcode: the design's IORING_OP_BPF, or MSG_RING. */
  private issueOp(req: Request, unlocked: boolean): Op<number> {
    return req.sqe.msgRing === undefined
      ? this.design.issue(req, unlocked)
      : this.msgSendFd(req, unlocked);
  }

  /** io_msg_ring_prep() plus io_assign_file(): the target ring's file, held until the request is freed. */
  private msgPrep(req: Request): number {
    const msg = req.sqe.msgRing;
    if (msg === undefined) throw new Error('BUG: msgPrep on a request that is not MSG_RING');
    const file = req.submitter.fds.fget(msg.targetFd);
    if (file === undefined) return -ERRNO.EBADF;
    req.file = file;
    return 0;
  }

  /**
   * io_msg_send_fd() (io_uring/msg_ring.c): grab the file in the sender's
   * fixed slot (io_msg_grab_file(), under io_ring_submit_lock(): taken on
   * io-wq, already held inline), then install it in the target's table
   * under the target's uring_lock (io_msg_install_complete()). The target
   * lock comes from io_lock_external_ctx(): inline, with the sender's lock
   * held, only mutex_trylock(), and -EAGAIN (a punt to io-wq) when it is
   * busy; on io-wq, holding nothing, mutex_lock(). So the two uring_locks
   * are never waited for in a nested order.
   */
  private *msgSendFd(req: Request, unlocked: boolean): Op<number> {
    const msg = req.sqe.msgRing;
    const targetFile = req.file;
    if (msg === undefined || targetFile === null) throw new Error('BUG: MSG_RING without a target');
    yield* at(`msg_ring(req${req.id})`);
    // io_msg_ring(): io_is_uring_fops(req->file)
    if (targetFile.payload.kind !== 'io_uring') return -ERRNO.EBADFD;
    const target = targetFile.payload.ring;
    if (target === req.ring) return -ERRNO.EINVAL;
    if (target.deferTaskrun) {
      // io_msg_fd_remote(): task work on the target's submitter task; not modelled.
      throw new Error('BUG: MSG_RING to a DEFER_TASKRUN ring is not modelled');
    }
    let src = this.msgSrcFiles.get(req);
    if (src === undefined) {
      yield* ioRingSubmitLock(req.ring, unlocked);
      const node = req.ring.fixedFiles?.get(msg.srcSlot) ?? null;
      if (node !== null) node.file.refs.get(); // get_file()
      yield* ioRingSubmitUnlock(req.ring, unlocked);
      if (node === null) return -ERRNO.EBADF;
      src = node.file;
      this.msgSrcFiles.set(req, src);
      req.needCleanup = true;
    }
    yield* at(`io_lock_external_ctx(ring#${target.id})`);
    // Planted bug (msg-ring-blocking-lock): inline, mutex_lock() on the target under our own lock.
    if (!unlocked && !this.world.trace.mutations.has('msg-ring-blocking-lock')) {
      if (!target.uringLock.tryLock()) return IOU_RETRY;
    } else {
      yield* target.uringLock.lock();
    }
    // __io_fixed_fd_install(target, src, IORING_FILE_INDEX_ALLOC)
    const table = target.fixedFiles;
    const slot = table?.freeSlots()[0];
    let ret = -ERRNO.ENXIO;
    if (table !== null && slot === undefined) ret = -ERRNO.ENFILE;
    if (table !== null && slot !== undefined) {
      const file = src;
      table.set(
        slot,
        new RsrcNode(file, `ring#${target.id}.node[${slot}]`, null, this.world.trace, () =>
          this.world.fput(file),
        ),
      );
      this.msgSrcFiles.delete(req);
      req.needCleanup = false;
      // io_post_aux_cqe(): the target sees a CQE naming no request of its own.
      target.cq.push({ request: 0, userData: req.sqe.userData, res: slot });
      ret = slot;
    }
    yield* target.uringLock.unlock();
    req.res = ret;
    return ret < 0 ? ret : IOU_COMPLETE;
  }

  /** io_msg_ring_cleanup(): puts the grabbed file that was never installed. */
  private msgCleanup(req: Request): void {
    const src = this.msgSrcFiles.get(req);
    if (src === undefined) return;
    this.msgSrcFiles.delete(req);
    this.world.fput(src);
  }

  /**
   * IORING_REGISTER_FILES (io_uring_register() holds uring_lock): a table of
   * REGISTERED_FILE_SLOTS slots, `fds` in the first ones (-1 leaves a slot
   * empty). EBUSY when the ring has a table already.
   */
  *registerFiles(proc: Process, ringFd: number, fds: readonly number[]): Op<Result<void>> {
    const entered = yield* this.enter(proc, ringFd, 'io_uring_register(FILES)');
    if (!entered.ok) return entered;
    const { ring, file } = entered.value;
    const w = this.world;
    yield* ring.uringLock.lock();
    let result: Result<void> = ok(undefined);
    if (ring.fixedFiles !== null) result = fail('EBUSY');
    else {
      const table = new FixedFileTable<File>(ring.id, REGISTERED_FILE_SLOTS, w.trace);
      fds.slice(0, REGISTERED_FILE_SLOTS).forEach((fd, slot) => {
        const f = fd < 0 ? undefined : proc.fds.fget(fd);
        if (f === undefined) return;
        table.set(
          slot,
          new RsrcNode(f, `ring#${ring.id}.node[${slot}]`, null, w.trace, () => w.fput(f)),
        );
      });
      ring.fixedFiles = table;
    }
    yield* ring.uringLock.unlock();
    if (file !== null) w.fput(file);
    return result;
  }

  /**
   * IORING_REGISTER_CLONE_BUFFERS on `ringFd` from `srcFd`
   * (io_register_clone_buffers(), io_uring/rsrc.c): io_uring_register()
   * holds the destination's uring_lock; EBUSY if it has buffers; for a
   * different source ring it drops that lock and takes both with
   * lock_two_rings() (lower address first), then fails with EEXIST if the
   * source is a SINGLE_ISSUER ring of another task; ENXIO when the source
   * has no buffers. Unlocks the source, then the syscall the destination.
   * `replace` is IORING_REGISTER_DST_REPLACE: the destination's buffers
   * are replaced instead of failing with EBUSY.
   */
  *cloneBuffers(proc: Process, ringFd: number, srcFd: number, replace = false): Op<Result<void>> {
    const entered = yield* this.enter(proc, ringFd, 'io_uring_register(CLONE_BUFFERS)');
    if (!entered.ok) return entered;
    const { ring: dst, file, task } = entered.value;
    const w = this.world;
    yield* dst.uringLock.lock();
    let ret: Result<void> = fail('EBUSY');
    if (dst.buffers === 0 || replace) {
      yield* at(`io_uring_register_get_file(${srcFd})`);
      const found = fgetRing(w, proc, srcFd);
      if (!found.ok) ret = found;
      else {
        const src = found.value.ring;
        if (src !== dst) {
          yield* dst.uringLock.unlock();
          // Planted bug (clone-dst-first): the destination first, whatever the addresses.
          yield* lockTwoRings(dst, src, w.trace.mutations.has('clone-dst-first'));
        }
        if (src !== dst && src.submitterTask !== null && src.submitterTask.task !== task)
          ret = fail('EEXIST');
        else {
          // io_clone_buffers(): both locks held.
          yield* at(`io_clone_buffers(ring#${dst.id} <- ring#${src.id})`);
          if (src.buffers === 0) ret = fail('ENXIO');
          else {
            dst.buffers = src.buffers;
            ret = ok(undefined);
          }
        }
        if (src !== dst) yield* src.uringLock.unlock();
        w.fput(found.value.file);
      }
    }
    yield* dst.uringLock.unlock();
    if (file !== null) w.fput(file);
    return ret;
  }

  /** io_queue_iowq(): the request is issued later by an io-wq worker actor. */
  private punt(req: Request): void {
    req.state = 'queued';
    this.world.trace.emit({ kind: 'punt', request: req.id });
    this.world.spawn(`iowq:req${req.id}`, this.ioWqWork(req), req.submitter);
  }

  /**
   * io_wq_submit_work(): issue without uring_lock. On IOU_COMPLETE the
   * worker posts the CQE (io_req_complete_post(), under the completion
   * lock; a DEFER_TASKRUN ring's lockless CQ defers it to task work too),
   * and the request's last put (io_wq_free_work() -> io_free_req()) frees it
   * in the submitter's task work. Any other return (-EAGAIN is final on
   * io-wq for a non-IOPOLL ring) fails the request in the submitter's task
   * work (io_req_task_queue_fail()).
   */
  private *ioWqWork(req: Request): Op<void> {
    yield* at(`io-wq issue req${req.id}`);
    req.state = 'issued';
    const ret = yield* this.issueOp(req, true);
    if (ret === IOU_ISSUE_SKIP_COMPLETE) {
      this.park(req);
      return;
    }
    if (ret !== IOU_COMPLETE) {
      this.world.ioUringTaskWork(req, 'fail', () =>
        this.underLock(req, this.failRequest(req, ret)),
      );
      return;
    }
    if (req.ring.deferTaskrun) {
      this.world.ioUringTaskWork(req, 'complete', () =>
        this.underLock(req, this.completeRequest(req)),
      );
      return;
    }
    this.postCqe(req, req.res);
    yield* at(`io_wq_free_work(req${req.id})`);
    this.world.ioUringTaskWork(req, 'free', () => this.underLock(req, this.freeRequest(req)));
  }

  /** A task work item: `op` under the request's ring's uring_lock (ctx_flush_and_put). */
  private *underLock(req: Request, op: Op<void>): Op<void> {
    yield* req.ring.uringLock.lock();
    yield* op;
    yield* req.ring.uringLock.unlock();
  }

  /** Post the request's result and free it. */
  private *completeRequest(req: Request): Op<void> {
    this.postCqe(req, req.res);
    yield* this.freeRequest(req);
  }

  /** What io_issue_sqe()/io_queue_sqe() do with an inline ->issue() return. */
  private *afterIssue(req: Request, ret: number, inline: boolean): Op<void> {
    if (ret === IOU_COMPLETE) {
      yield* this.completeRequest(req);
    } else if (ret === IOU_ISSUE_SKIP_COMPLETE) {
      this.park(req);
    } else if (ret === IOU_RETRY && inline) {
      this.punt(req);
    } else {
      yield* this.failRequest(req, ret);
    }
  }

  /** IOU_ISSUE_SKIP_COMPLETE: io_uring posts nothing; the op was meant to complete it later. */
  private park(req: Request): void {
    req.state = 'parked';
    this.world.trace.emit({ kind: 'skip-complete', request: req.id });
  }

  /** io_req_defer_failed(): ->fail(), then a CQE with the error, then free. */
  private *failRequest(req: Request, ret: number): Op<void> {
    // io_req_set_res() before def->fail(): the error is what the io_kiocb's next user inherits.
    req.res = ret;
    if (req.sqe.msgRing === undefined) yield* this.design.fail(req);
    this.postCqe(req, ret);
    yield* this.freeRequest(req);
  }

  private postCqe(req: Request, res: number): void {
    const cqe = { request: req.id, userData: req.sqe.userData, res };
    req.ring.cq.push(cqe);
    this.world.trace.emit({
      kind: 'cqe',
      request: req.id,
      ring: req.ring.id,
      userData: req.sqe.userData,
      res,
    });
  }

  /** io_free_batch_list() under uring_lock: ->cleanup() if flagged, then put the file and node. */
  private *freeRequest(req: Request): Op<void> {
    if (req.needCleanup) {
      req.needCleanup = false;
      if (req.sqe.msgRing === undefined) yield* this.design.cleanup(req);
      else this.msgCleanup(req);
    }
    if (req.file !== null) {
      yield* at(`io_put_file(req${req.id})`);
      this.world.fput(req.file);
      // Planted bug (double-fput): the request's file reference is dropped twice.
      if (this.world.trace.mutations.has('double-fput')) this.world.fput(req.file);
      req.file = null;
    }
    if (req.rsrcNode !== null) {
      yield* at(`io_put_rsrc_node(req${req.id})`);
      req.rsrcNode.put();
      req.rsrcNode = null;
    }
    req.state = 'freed';
    req.ring.inflight -= 1;
    // io_free_batch_list() -> io_req_add_to_cache(): the io_kiocb goes back to the ring's cache as it is.
    req.ring.requestCache.push(req);
    this.world.trace.emit({ kind: 'request-freed', request: req.id });
  }
}
