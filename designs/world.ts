// The world a model runs in: processes with fd tables, rings, loaded
// programs, in-flight requests, posted CQEs, and the trace. Everything here
// is shared by all designs; a design adds only its own tables.

import { type Creds, type LoadBasis, legacyCreds, structOpsLoad } from './kernel/creds.js';
import { fail, ok, type Result } from './kernel/errno.js';
import { FdTable, KFile } from './kernel/fd-table.js';
import type { FixedFileTable, RsrcNode } from './kernel/fixed-files.js';
import { Mutex } from './kernel/mutex.js';
import { RcuTasks } from './kernel/rcu.js';
import { Refcount } from './kernel/refcount.js';
import { at, type Blockers, type Op, waitUntil } from './kernel/step.js';
import { TaskWork, type Work } from './kernel/task-work.js';
import { type Callback, Trace } from './kernel/trace.js';

/** What a program's issue callback does: the result it sets, then the value it returns. */
export interface IssueBehaviour {
  /** Passed to uring_bpf_set_result(): becomes the CQE's res. */
  readonly res: number;
  /** The callback's return value: 0 is IOU_COMPLETE, -EIOCBQUEUED is IOU_ISSUE_SKIP_COMPLETE. */
  readonly ret: number;
}

/** A program's callbacks: null means the callback pointer is NULL. */
export interface ProgramSpec {
  readonly label: string;
  /** prep_fn's return value, or null for no prep_fn. */
  readonly prep: number | null;
  readonly issue: IssueBehaviour | null;
  readonly fail: boolean;
  readonly cleanup: boolean;
  /**
   * The issue callback calls the memcpy kfunc on a fixed buffer (v1 5/5
   * io_uring_bpf_req_memcpy(), 20251104162123.1086035-6-ming.lei@redhat.com;
   * V2 08/13 uring_bpf_memcpy(), 20260106101126.4064990-9-ming.lei@redhat.com).
   * Absent: false.
   */
  readonly memcpy?: boolean;
}

/** A program with every callback present that completes with res 0. */
export function programSpec(
  label: string,
  over: Partial<Omit<ProgramSpec, 'label'>> = {},
): ProgramSpec {
  return { label, prep: 0, issue: { res: 0, ret: 0 }, fail: true, cleanup: true, ...over };
}

/** A loaded BPF object (a struct_ops map with its programs, or a single program). */
export class Program {
  /** The last reference is gone; the memory is still there until the grace period ends. */
  released = false;
  /** The map, its trampolines and programs are freed: calling into it is a use after free. */
  freed = false;
  readonly refs: Refcount;
  /** What let its owner load it (set by World.loadProgram; init_user_ns for one made directly). */
  loadedWith: LoadBasis = { kind: 'init' };

  constructor(
    readonly id: number,
    readonly ownerPid: number,
    readonly spec: ProgramSpec,
    trace: Trace,
  ) {
    this.refs = new Refcount(`prog#${id}`, 1, true, trace);
  }

  /** True when the callback pointer is set. */
  has(cb: Callback): boolean {
    const value = this.spec[cb];
    return value !== null && value !== false;
  }
}

/** A struct_ops link (bpf_link): holds a program reference while attached. */
export interface BpfLink {
  readonly id: number;
  readonly program: Program;
  detached: boolean;
  /** link->refcnt: the link file's reference, plus one per bpffs pin. */
  refs: number;
  /** The struct_ops ->unreg() this link calls once, on detach or on last close. */
  readonly unreg: () => Op<void>;
}

export type FilePayload =
  | { readonly kind: 'bpf-prog'; readonly program: Program }
  | { readonly kind: 'bpf-link'; readonly link: BpfLink }
  | { readonly kind: 'io_uring'; readonly ring: Ring }
  | { readonly kind: 'regular' };

export type File = KFile<FilePayload>;

export interface ProcessOptions {
  readonly name?: string;
  /** Namespace id (the container; isolation is judged by it); 0 is the initial one. The user namespace is creds.userns. */
  readonly ns?: number;
  /**
   * Whether the process may load BPF objects, as before credentials were
   * modelled: in namespace 0 CAP_BPF in init_user_ns, elsewhere a BPF token
   * in its own userns (kernel/creds.ts legacyCreds). True unless given;
   * ignored when `creds` is given.
   */
  readonly capBpf?: boolean;
  /** The process's credentials (user namespace, capabilities, BPF token). */
  readonly creds?: Creds;
  /** RLIMIT_NOFILE; 1024 unless raised. */
  readonly fdLimit?: number;
}

export class Process {
  alive = true;
  /** User threads of this process inside a syscall now (userSyscall); exit waits for the others. */
  inSyscall = 0;
  readonly fds: FdTable<FilePayload>;

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly ns: number,
    readonly creds: Creds,
    trace: Trace,
    fdLimit?: number,
  ) {
    this.fds = new FdTable<FilePayload>(pid, trace, fdLimit);
  }
}

/**
 * The part of an io_kiocb's command area the designs use: the op's per-request
 * data (io_kiocb_to_cmd(req, struct uring_bpf_data)). io_uring.c io_init_req()
 * sets the request's SQE-derived fields but not this area (io_init_fail_req()
 * clears it only for a failure before ->prep()), so it keeps whatever the
 * io_kiocb's previous user wrote until prep writes it.
 */
export interface CommandArea {
  /** The op id prep decoded from sqe->bpf_op_flags (v1's data->opf, v2/v3's data->opf). */
  op: number;
  /** data->ops (v2/v3 and the fd designs): the program prep looked up. */
  ops: Program | null;
}

/**
 * What the command area and cqe.res of an io_kiocb fresh from the slab hold.
 * io_uring.c __io_alloc_req_refill() allocates with __GFP_ZERO since
 * "io_uring: remove io_preinit_req()" (9c2ff3f9b5e0, 6.16;
 * ba5485dc913f1e275862ce88f5169d4ac4a33836.1746533807.git.asml.silence@gmail.com),
 * so all zero is what the kernels the series applies to do. Anything else
 * models an older kernel, whose kmem_cache_alloc_bulk() handed out an object
 * still holding what its previous user, on any ring, left there.
 */
export interface RequestResidue {
  readonly op: number;
  readonly ops: Program | null;
  readonly res: number;
}

export const ZERO_RESIDUE: RequestResidue = { op: 0, ops: null, res: 0 };

/** How a ring was created, beyond the design's setup flag. */
export interface RingSetup {
  /** IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER. */
  readonly deferTaskrun?: boolean;
  /** What requests fresh from the slab hold (ZERO_RESIDUE unless given). */
  readonly residue?: RequestResidue;
  /**
   * Where the kmalloc'd io_ring_ctx lands: only its order against other
   * rings matters (lock_two_rings() locks the lower address first).
   * Creation order unless given.
   */
  readonly address?: number;
  /** Buffers registered on the ring (IORING_REGISTER_BUFFERS, as if done at setup); 0 unless given. */
  readonly buffers?: number;
  /** IORING_SETUP_SQPOLL: a kernel thread of the creator submits the SQEs. */
  readonly sqpoll?: boolean;
}

/** An SQE in an SQPOLL ring's SQ, and the request the SQ thread made of it (null until then). */
export interface SqEntry {
  readonly sqe: Sqe;
  request: Result<number> | null;
}

export class Ring {
  freed = false;
  /** Requests allocated and not yet freed (what io_ring_exit_work waits for). */
  inflight = 0;
  readonly uringLock: Mutex;
  fixedFiles: FixedFileTable<File> | null = null;
  readonly cq: Cqe[] = [];
  /**
   * ctx->submit_state.free_list: freed requests, reused last in, first out
   * (io_uring.c io_req_add_to_cache() pushes, io_uring.h io_extract_req() pops).
   */
  readonly requestCache: Request[] = [];
  /** Created with IORING_SETUP_DEFER_TASKRUN | SINGLE_ISSUER: completions wait for the submitter task. */
  readonly deferTaskrun: boolean;
  readonly residue: RequestResidue;
  /** ctx->submitter_task: the one task allowed to submit on a DEFER_TASKRUN ring, and its process. */
  submitterTask: { readonly task: string; readonly proc: Process } | null = null;
  /** ctx->work_llist: DEFER_TASKRUN completions, run only by the submitter task (FIFO). */
  readonly localWork: Work[] = [];
  /** IORING_SETUP_SQPOLL: SQEs are submitted by the ring's SQ thread (io_uring/sqpoll.c). */
  readonly sqpoll: boolean;
  /** The SQ ring: SQEs written by any task that maps the ring, not yet taken by the SQ thread. */
  readonly sq: SqEntry[] = [];
  /** The SQ thread is running (sqd->thread != NULL). */
  sqThreadAlive = false;
  /** The io_ring_ctx's address, as an order key (RingSetup.address). */
  readonly address: number;
  /** ctx->buf_table.nr: registered buffers (only their presence matters to the models). */
  buffers: number;

  constructor(
    readonly id: number,
    readonly owner: Process,
    /** Created with the design's setup flag (IORING_SETUP_BPF, _BPF_OP or _BPF_EXT). */
    readonly bpf: boolean,
    trace: Trace,
    setup: RingSetup = {},
  ) {
    this.uringLock = new Mutex(`ring#${id}.uring_lock`, trace);
    this.deferTaskrun = setup.deferTaskrun ?? false;
    this.residue = setup.residue ?? ZERO_RESIDUE;
    this.sqpoll = setup.sqpoll ?? false;
    this.address = setup.address ?? id;
    this.buffers = setup.buffers ?? 0;
  }
}

/** IORING_OP_MSG_RING with IORING_MSG_SEND_FD: the fields io_msg_ring_prep() reads. */
export interface MsgRingSqe {
  /** sqe->fd: the target ring. */
  readonly targetFd: number;
  /** sqe->addr3 (src_fd): a slot of the sending ring's fixed-file table. */
  readonly srcSlot: number;
}

/** The fields of an IORING_OP_BPF SQE the designs read. */
export interface Sqe {
  /** Present for an IORING_OP_MSG_RING SQE instead of IORING_OP_BPF (the bpf fields are then unused). */
  readonly msgRing?: MsgRingSqe;
  /** sqe->bpf_op_flags (u32): op id in the top bits, program flags below. */
  readonly bpfOpFlags: number;
  readonly fd: number;
  /** IOSQE_FIXED_FILE */
  readonly fixedFile: boolean;
  /** IOSQE_ASYNC: issue on an io-wq worker, without uring_lock. */
  readonly async: boolean;
  readonly userData: number;
}

export interface Cqe {
  readonly request: number;
  readonly userData: number;
  readonly res: number;
}

/** struct io_kiocb: one request from SQE to free. */
export class Request {
  /** REQ_F_NEED_CLEANUP */
  needCleanup = false;
  /** req->file: a normal file reference, put when the request is freed. */
  file: File | null = null;
  /** req->file_node: a fixed-file resource node reference, put when the request is freed. */
  rsrcNode: RsrcNode<File> | null = null;
  state: 'prep' | 'queued' | 'issued' | 'parked' | 'freed' = 'prep';
  /** The task (thread) that submitted it: its task work completes an io-wq issue (req->tctx). */
  task = '';

  constructor(
    readonly id: number,
    readonly ring: Ring,
    readonly submitter: Process,
    readonly sqe: Sqe,
    /** The op's data in the command area: the previous user's values until prep writes them. */
    readonly cmd: CommandArea,
    /**
     * req->cqe.res, set by io_req_set_res() (the program's uring_bpf_set_result(),
     * or a failure). io_init_req() does not reset it: an op that completes
     * without setting it posts what the previous user left.
     */
    public res: number,
    /** The request whose io_kiocb this one reuses, or null for one fresh from the slab. */
    readonly recycledFrom: number | null,
  ) {}
}

/**
 * The ring behind `ringFd` in `proc` with a reference on its file for the
 * caller to drop (fdget in io_uring_enter()/register()): EBADF, or
 * EOPNOTSUPP for a file that is not a ring.
 */
export function fgetRing(
  world: World,
  proc: Process,
  ringFd: number,
): Result<{ ring: Ring; file: File }> {
  const file = proc.fds.fget(ringFd);
  if (file === undefined) return fail('EBADF');
  if (file.payload.kind !== 'io_uring') {
    world.fput(file);
    return fail('EOPNOTSUPP');
  }
  return ok({ ring: file.payload.ring, file });
}

export class World {
  readonly trace = new Trace();
  /** RCU and RCU-tasks: what a program's free waits for (callers inside it). */
  readonly rcu = new RcuTasks(this.trace);
  readonly processes: Process[] = [];
  readonly rings: Ring[] = [];
  readonly programs: Program[] = [];
  /** Every request so far, unless retainRequests is off (the model lane's timed loops). */
  readonly requests: Request[] = [];
  retainRequests = true;
  private nextRequestId = 1;
  private nextFileId = 1;
  private nextLinkId = 1;
  /** Task work (deferred __fput(), io_uring completions), per task: run by that task itself. */
  readonly taskWork = new TaskWork();
  /** Each task's io_uring completions (tctx->task_list), FIFO, run as one task work item. */
  private readonly tctxWork = new Map<string, Work[]>();
  /** Tasks inside do_exit(): their process is dead, but they still take and run task work. */
  private readonly exitingTasks = new Set<string>();
  private nextHelper = 1;
  /**
   * kernel/bpf/bpf_struct_ops.c `static DEFINE_MUTEX(update_mutex)`: held by
   * bpf_struct_ops_map_link_detach() across ->unreg() (and by link update);
   * the last-close path, bpf_struct_ops_map_link_dealloc(), calls ->unreg()
   * without it.
   */
  readonly updateMutex = new Mutex('update_mutex', this.trace);
  /** The actor that will run each request's queued completion (task work, local work, fallback). */
  private readonly completionRunners = new Map<number, string>();
  /** The actor that runs the task's io_uring list now queued (the task, or the helper interrupting it). */
  private readonly tctxRunners = new Map<string, string>();
  /**
   * tctx->registered_rings (IORING_REGISTER_RING_FDS, io_uring/tctx.c), by
   * task: ring files the task can name by index with
   * IORING_ENTER_REGISTERED_RING; each holds a file reference.
   */
  readonly registeredRings = new Map<string, (File | null)[]>();
  /** Links pinned in bpffs, by path: each pin holds a link reference, so the link outlives its fd. */
  readonly pinned = new Map<string, BpfLink>();
  /** The process of the running actor (current->files); null outside any actor. */
  current: Process | null = null;
  /** Starts a new actor in `proc`'s context; the scheduler installs this. */
  spawn: (name: string, op: Op<unknown>, proc: Process | null) => void = () => {
    throw new Error('BUG: World.spawn used before a scheduler was attached');
  };
  /** True when `task` is not inside the kernel now (done, or never an actor); the scheduler installs this. */
  taskIdle: (task: string) => boolean = () => true;

  /**
   * io_alloc_req(): the io_kiocb freed last on `ring` when its cache has one,
   * with the command area and result its previous user left; otherwise one
   * fresh from the slab, holding the ring's residue. Every request gets a new
   * id; the request is remembered unless told not to.
   */
  newRequest(ring: Ring, submitter: Process, sqe: Sqe): Request {
    const id = this.nextRequestId++;
    const previous = ring.requestCache.pop();
    const req =
      previous === undefined
        ? new Request(
            id,
            ring,
            submitter,
            sqe,
            { op: ring.residue.op, ops: ring.residue.ops },
            ring.residue.res,
            null,
          )
        : new Request(id, ring, submitter, sqe, { ...previous.cmd }, previous.res, previous.id);
    if (this.retainRequests) this.requests.push(req);
    return req;
  }

  /** Creates a process (fork + setup, not itself a modelled step). */
  createProcess(opts: ProcessOptions = {}): Process {
    const pid = 100 + this.processes.length;
    // The scenario's namespace (the container); the user namespace is in creds.
    const ns = opts.ns ?? opts.creds?.userns ?? 0;
    const proc = new Process(
      pid,
      opts.name ?? `p${pid}`,
      ns,
      opts.creds ?? legacyCreds(ns, opts.capBpf ?? true),
      this.trace,
      opts.fdLimit,
    );
    this.processes.push(proc);
    return proc;
  }

  /**
   * fork() (kernel/fork.c copy_process()): a child with the parent's
   * credentials and namespace and a copy of its fd table (copy_files ->
   * dup_fd: every file one more reference). Only the calling thread is
   * copied; the child's registered ring table starts empty (a new task).
   */
  *fork(proc: Process): Op<Result<Process>> {
    yield* at(`fork(${proc.pid})`);
    if (!proc.alive) return fail('ESRCH');
    const child = this.createProcess({
      name: `${proc.name}.${100 + this.processes.length}`,
      ns: proc.ns,
      creds: proc.creds,
      fdLimit: proc.fds.limit,
    });
    child.fds.copyFrom(proc.fds);
    return ok(child);
  }

  /** Makes a new struct file holding one reference. */
  newFile(label: string, payload: FilePayload, release: () => Op<void>): File {
    return new KFile(this.nextFileId++, label, payload, this.trace, release);
  }

  /** Installs `file` in `proc`'s table, or drops it and fails with EMFILE. */
  *installFd(proc: Process, file: File): Op<Result<number>> {
    const fd = proc.fds.install(file);
    if (fd === null) {
      this.fput(file);
      return fail('EMFILE');
    }
    return ok(fd);
  }

  /** fput(): drops a file reference; the last one queues the release on the running actor. */
  fput(file: File): void {
    if (!file.refs.put()) return;
    if (file.released) {
      // Only a broken refcount (a planted bug) drops a released file to zero again: a use after free.
      this.trace.emit({
        kind: 'ref-underflow',
        object: `file:${file.label}`,
        value: file.refs.count,
      });
      return;
    }
    // The count reached zero: the file is dead from here on (file_ref_put()), even before its
    // __fput() runs, so a broken refcount that reaches zero again is an underflow, not a second release.
    file.released = true;
    // fput() of a task's last reference: __fput() as that task's task work (fs/file_table.c).
    this.taskWork.add(this.trace.actor, () => this.releaseFile(file));
  }

  private *releaseFile(file: File): Op<void> {
    yield* at(`__fput(${file.label})`);
    this.trace.emit({ kind: 'file-release', file: file.label });
    yield* file.release();
  }

  /** task_work_run(): the running task's task work, batch by batch (newest first), until none is left. */
  *runTaskWork(task = this.trace.actor): Op<void> {
    for (;;) {
      const batch = this.taskWork.takeBatch(task);
      if (batch.length === 0) return;
      for (const work of batch) yield* work();
    }
  }

  /**
   * task_work_add() with a notification (TWA_SIGNAL): the task runs it on
   * its way out of the kernel; a task idle in user space is interrupted to
   * run it now (a helper actor in its process stands for that).
   */
  private addTaskWork(task: string, proc: Process, work: Work): string {
    this.taskWork.add(task, work);
    if (this.taskIdle(task)) {
      const helper = `tw:${task}#${this.nextHelper++}`;
      this.spawn(helper, this.runTaskWork(task), proc);
      return helper;
    }
    return task;
  }

  /** A kworker running `work` (ctx->fallback_work, io_fallback_req_func): no user fds. Returns its name. */
  private fallback(ring: Ring, work: Work): string {
    const name = `fallback:ring${ring.id}#${this.nextHelper++}`;
    this.spawn(name, work(), null);
    return name;
  }

  /**
   * Who must act for `req` to be freed (for deadlock reports): its io-wq
   * worker while it is queued or issuing there, else whoever runs its
   * queued completion, else its submitter (inline under uring_lock). Null
   * for a request nobody will complete (parked) or already freed.
   */
  completionRunner(req: Request): string | null {
    if (req.state === 'freed' || req.state === 'parked') return null;
    const worker = `iowq:req${req.id}`;
    if (!this.taskIdle(worker)) return worker;
    return this.completionRunners.get(req.id) ?? req.task;
  }

  /**
   * io_req_task_work_add() (io_uring/io_uring.c): `work` completes `req` in
   * its submitter task. On a DEFER_TASKRUN ring it goes to the ring's local
   * list, which only the submitter task runs; otherwise to the task's
   * io_uring list, which rides as one task work item. A thread of a dead
   * process (task_work_add() fails once exit_task_work() has run) cannot
   * take it: it goes to a kworker (io_fallback_tw). The thread running
   * do_exit() still takes it, and runs it itself.
   */
  ioUringTaskWork(req: Request, what: string, work: Work): void {
    const ring = req.ring;
    const exiting = !req.submitter.alive && !this.exitingTasks.has(req.task);
    this.trace.emit({
      kind: 'task-work',
      task: exiting ? 'fallback' : req.task,
      request: req.id,
      what,
    });
    const runners = this.completionRunners;
    if (ring.deferTaskrun) {
      if (ring.submitterTask !== null && !ring.submitterTask.proc.alive)
        runners.set(req.id, this.fallback(ring, work));
      else {
        ring.localWork.push(work);
        runners.set(req.id, ring.submitterTask?.task ?? req.task);
      }
      return;
    }
    if (exiting) {
      runners.set(req.id, this.fallback(ring, work));
      return;
    }
    const tctx = this.tctxWork.get(req.task);
    if (tctx !== undefined) {
      tctx.push(work);
      runners.set(req.id, this.tctxRunners.get(req.task) ?? req.task);
      return;
    }
    this.tctxWork.set(req.task, [work]);
    const runner = this.addTaskWork(req.task, req.submitter, () => this.tctxTaskWork(req.task));
    this.tctxRunners.set(req.task, runner);
    runners.set(req.id, runner);
  }

  /**
   * tctx_task_work(): the task's io_uring completions in the order queued.
   * An exiting task runs them itself, marked canceled ("io_uring: unify
   * task_work cancelation checks", 41351b1a-6177-4840-8639-aedb01b2b842@kernel.dk);
   * for a request's free or failure that changes nothing here.
   */
  private *tctxTaskWork(task: string): Op<void> {
    const items = this.tctxWork.get(task) ?? [];
    this.tctxWork.delete(task);
    this.tctxRunners.delete(task);
    for (const work of items) yield* work();
  }

  /** io_run_local_work(): the DEFER_TASKRUN ring's completions, run by its submitter task. */
  *runLocalWork(ring: Ring): Op<void> {
    for (;;) {
      const work = ring.localWork.shift();
      if (work === undefined) return;
      yield* work();
    }
  }

  /** io_move_task_work_from_local(): the ring's local completions go to kworkers. */
  moveLocalWork(ring: Ring): void {
    for (const work of ring.localWork.splice(0)) this.fallback(ring, work);
  }

  /** Task work items queued on `task` now, io_uring completions counted one by one (for deadlock reports). */
  pendingWork(task: string): number {
    const tctx = this.tctxWork.get(task)?.length ?? 0;
    // The io_uring list rides as one generic item: count its completions instead.
    return Math.max(0, this.taskWork.pending(task) - (tctx > 0 ? 1 : 0)) + tctx;
  }

  /**
   * A wait for `requests` to be freed: the actors that must run their
   * completions (`self` excluded: it runs its own task work while it
   * waits), for deadlock reports.
   */
  requestWaitBlockers(what: string, requests: readonly Request[], self: string): Blockers {
    const pending = requests.filter((r) => r.state !== 'freed');
    const actors = [...new Set(pending.flatMap((r) => this.completionRunner(r) ?? []))].filter(
      (a) => a !== self,
    );
    const reqs = pending.map((r) => `req${r.id}`).join(', ');
    return { actors, what: `${what} for ${reqs} (completed by ${actors.join(', ') || 'nobody'})` };
  }

  /** Runs `op` as a syscall: its result, after the deferred work it queued has run. */
  *syscall<T>(op: Op<T>): Op<T> {
    const result = yield* op;
    yield* this.runTaskWork();
    return result;
  }

  /**
   * Runs `op` as a syscall of a user thread of `proc`, counted so that exit
   * can wait for it to leave. Task work queued while the thread was in user
   * space runs first: TWA_SIGNAL interrupts it, and the interrupt's return
   * to user mode runs the work before the thread gets on to this syscall.
   */
  *userSyscall<T>(proc: Process, op: Op<T>): Op<T> {
    yield* this.runTaskWork();
    proc.inSyscall += 1;
    try {
      return yield* this.syscall(op);
    } finally {
      proc.inSyscall -= 1;
    }
  }

  /**
   * bpf_map_put(): drops a program reference. The last one queues the free
   * on a workqueue (kernel/bpf/syscall.c bpf_map_free_in_work() ->
   * bpf_map_free_deferred()), which waits for a grace period before the
   * memory goes (kernel/bpf/bpf_struct_ops.c bpf_struct_ops_map_free()).
   */
  putProgram(program: Program): void {
    if (!program.refs.put()) return;
    // Only a broken refcount (a planted bug) reaches zero twice; the underflow is traced already.
    if (program.released) return;
    program.released = true;
    this.trace.emit({ kind: 'program-released', program: program.id });
    this.spawn(`kworker:free-prog${program.id}`, this.freeProgram(program), null);
  }

  /** bpf_struct_ops_map_free() on a kworker: the grace period, then the free. */
  private *freeProgram(program: Program): Op<void> {
    yield* this.rcu.synchronize();
    yield* at(`__bpf_struct_ops_map_free(prog#${program.id})`);
    program.freed = true;
    this.trace.emit({ kind: 'program-freed', program: program.id });
  }

  /**
   * bpf(BPF_MAP_CREATE / BPF_PROG_LOAD) of a struct_ops map and its
   * programs: returns its fd; EPERM unless the process's credentials pass
   * the kernel's checks (kernel/creds.ts structOpsLoad).
   */
  *loadProgram(proc: Process, spec: ProgramSpec): Op<Result<number>> {
    yield* at(`bpf_load(${spec.label})`);
    if (!proc.alive) return fail('ESRCH');
    const basis = structOpsLoad(proc.creds);
    if (basis === 'EPERM') return fail('EPERM');
    const program = new Program(this.programs.length + 1, proc.pid, spec, this.trace);
    program.loadedWith = basis;
    this.programs.push(program);
    this.trace.emit({ kind: 'program-loaded', program: program.id, pid: proc.pid });
    const file = this.newFile(
      `prog#${program.id}`,
      { kind: 'bpf-prog', program },
      function* (this: World) {
        this.putProgram(program);
      }.bind(this),
    );
    return yield* this.installFd(proc, file);
  }

  /**
   * Makes a link file holding `program` (the caller's reference moves in).
   * Its release is bpf_link_release() -> bpf_link_put_direct()
   * (kernel/bpf/syscall.c): the last link reference going with the file
   * frees the link synchronously, in the task that drops the file.
   */
  newLink(program: Program, unreg: () => Op<void>): File {
    const link: BpfLink = { id: this.nextLinkId++, program, detached: false, refs: 1, unreg };
    return this.newFile(`link#${link.id}`, { kind: 'bpf-link', link }, () =>
      this.linkPutDirect(link),
    );
  }

  /** bpf_link_put_direct(): the last reference frees the link here (bpf_link_free -> ->dealloc -> ->unreg()). */
  private *linkPutDirect(link: BpfLink): Op<void> {
    link.refs -= 1;
    if (link.refs === 0) yield* this.detachLink(link);
  }

  /**
   * bpf_link_put() (kernel/bpf/syscall.c): the last reference frees the
   * link from a workqueue (INIT_WORK(bpf_link_put_deferred) +
   * schedule_work()): ->unreg() runs on a kworker, whose files are
   * init_files (no user fds: an fget there is EBADF).
   */
  private linkPut(link: BpfLink): void {
    link.refs -= 1;
    if (link.refs === 0)
      this.spawn(`kworker:link-put${link.id}#${this.nextHelper++}`, this.detachLink(link), null);
  }

  /** Detaches a link once: runs ->unreg() and drops the program reference it held. */
  *detachLink(link: BpfLink): Op<void> {
    if (link.detached) return;
    link.detached = true;
    yield* link.unreg();
    yield* at(`bpf_map_put(prog#${link.program.id})`);
    this.putProgram(link.program);
  }

  /** close(fd). EBADF when the fd is not open. */
  *close(proc: Process, fd: number): Op<Result<void>> {
    yield* at(`close(${fd})`);
    const file = proc.fds.remove(fd);
    if (file === undefined) return fail('EBADF');
    this.fput(file);
    return ok(undefined);
  }

  /** dup(fd): a second fd for the same file. */
  *dup(proc: Process, fd: number): Op<Result<number>> {
    yield* at(`dup(${fd})`);
    const file = proc.fds.fget(fd);
    if (file === undefined) return fail('EBADF');
    return yield* this.installFd(proc, file);
  }

  /** sendmsg(SCM_RIGHTS) from `from` and recvmsg in `to`: the file gets an fd in `to`. */
  *passFd(from: Process, fd: number, to: Process): Op<Result<number>> {
    yield* at(`scm_rights(${from.pid}:${fd} -> ${to.pid})`);
    const file = from.fds.fget(fd);
    if (file === undefined) return fail('EBADF');
    if (!to.alive) {
      this.fput(file);
      return fail('ECONNREFUSED');
    }
    return yield* this.installFd(to, file);
  }

  /**
   * bpf_obj_pin(fd, path) for a link (kernel/bpf/inode.c bpf_obj_pin_user):
   * the bpffs inode takes a link reference (bpf_link_inc), so the link
   * outlives its fd and its creator. EEXIST for a path in use.
   */
  *pinLink(proc: Process, fd: number, path = `link${fd}`): Op<Result<void>> {
    yield* at(`bpf_obj_pin(${fd}, ${path})`);
    const file = proc.fds.fget(fd);
    if (file === undefined) return fail('EBADF');
    const payload = file.payload;
    this.fput(file);
    if (payload.kind !== 'bpf-link') return fail('EINVAL');
    if (this.pinned.has(path)) return fail('EEXIST');
    payload.link.refs += 1;
    this.pinned.set(path, payload.link);
    return ok(undefined);
  }

  /**
   * unlink(path) in bpffs: the inode goes after an RCU grace period
   * (bpf_free_inode() is its ->free_inode, run from an RCU callback), and
   * drops its link reference with bpf_any_put() -> bpf_link_put()
   * (kernel/bpf/inode.c): when that is the last one, the link is freed,
   * ->unreg() included, on a kworker. The unlink returns before any of it.
   */
  *unpinLink(path: string): Op<Result<void>> {
    yield* at(`unlink(bpffs/${path})`);
    const link = this.pinned.get(path);
    if (link === undefined) return fail('ENOENT');
    this.pinned.delete(path);
    this.spawn(
      `rcu:free-inode(${path})#${this.nextHelper++}`,
      function* (this: World) {
        yield* this.rcu.synchronize();
        yield* at(`bpf_free_inode(${path}): bpf_link_put(link#${link.id})`);
        this.linkPut(link);
      }.bind(this)(),
      null,
    );
    return ok(undefined);
  }

  /**
   * exit() as do_exit() (kernel/exit.c) orders it: the other threads leave
   * the kernel and die (exit_group); io_uring_files_cancel() waits for the
   * process's requests in flight, running this task's task work meanwhile
   * (one that never completes hangs the exit, as in the kernel);
   * exit_files() drops the fd table, so current->files is NULL, and puts
   * every file, which queues each last put's __fput() as this task's task
   * work; exit_task_work() then runs it, newest first, with no files
   * table: an fget() there oopses. After that the task takes no task work.
   */
  *exit(proc: Process): Op<Result<void>> {
    yield* at(`exit(${proc.pid})`);
    if (!proc.alive) return fail('ESRCH');
    const task = this.trace.actor;
    this.exitingTasks.add(task);
    proc.alive = false;
    this.trace.emit({ kind: 'process-exit', pid: proc.pid });
    // exit_group: the other threads leave the kernel and die; the shared fd table stays until they have.
    yield* waitUntil(
      `exit(${proc.pid}): other threads leave the kernel`,
      () => proc.inSyscall <= 1,
    );
    // io_uring_files_cancel() -> io_uring_unreg_ringfd(): the task's registered rings are put.
    for (const file of this.registeredRings.get(task) ?? []) if (file !== null) this.fput(file);
    this.registeredRings.delete(task);
    // A DEFER_TASKRUN ring this process submits on: its completions can only run elsewhere now.
    for (const ring of this.rings) if (ring.submitterTask?.proc === proc) this.moveLocalWork(ring);
    // io_uring_cancel_generic() runs the task's own task work while it waits (io_run_task_work()).
    const drained = () => this.requests.every((r) => r.submitter !== proc || r.state === 'freed');
    for (;;) {
      yield* this.runTaskWork(task);
      if (drained()) break;
      yield* waitUntil(
        `io_uring_files_cancel(${proc.pid}): wait for its requests`,
        () => drained() || this.pendingWork(task) > 0,
        () =>
          this.requestWaitBlockers(
            `io_uring_files_cancel(${proc.pid})`,
            this.requests.filter((r) => r.submitter === proc),
            task,
          ),
      );
    }
    for (const file of proc.fds.detachAll()) {
      yield* at(`exit_files(${proc.pid}): fput(${file.label})`);
      this.fput(file);
    }
    try {
      yield* this.runTaskWork(task); // exit_task_work()
    } finally {
      // Done, or dead of an oops in it: either way the task takes no more task work.
      this.exitingTasks.delete(task);
    }
    return ok(undefined);
  }

  /**
   * Calls callback `cb` of `program` for `req`; `program` is null when the
   * pointer loaded was NULL. Calling a NULL pointer (or a callback the program
   * does not have) is traced as a null call (an oops in the kernel) and
   * returns 0; a call on a freed program is traced with freed=true (a use
   * after free).
   */
  callProgram(req: Request, program: Program | null, cb: Callback, where: string): number {
    if (program === null || !program.has(cb)) {
      this.trace.emit({ kind: 'null-call', request: req.id, callback: cb, where });
      return 0;
    }
    let ret = 0;
    if (cb === 'prep') ret = program.spec.prep ?? 0;
    if (cb === 'issue' && program.spec.issue !== null) {
      req.res = program.spec.issue.res;
      ret = program.spec.issue.ret;
    }
    this.trace.emit({
      kind: 'callback',
      request: req.id,
      program: program.id,
      callback: cb,
      freed: program.freed,
      ret,
    });
    return ret;
  }
}
