/* SPDX-License-Identifier: MIT */
/*
 * The C world the native designs run in, mirroring designs/world.ts and
 * designs/io-uring.ts: processes with fd tables and tasks, loaded programs
 * whose callbacks are small C functions, rings with a real pthread mutex as
 * uring_lock, requests that go prep -> issue -> (fail) -> cleanup, struct_ops
 * links, and the io_uring core that submits a batch under one uring_lock.
 *
 * - Task work belongs to the submitting task (io_uring/io_uring.c): io-wq
 *   workers (real threads, a pool per world) issue punted requests without
 *   uring_lock, post the CQE themselves, and hand the request's final put to
 *   the submitter's task work (io_free_req() -> io_req_task_work_add()); an
 *   error hands it the whole failure. The requests' items ride as one generic
 *   task-work item and run first in first out; a task past exit_task_work()
 *   gets them run by the kworker instead (io_fallback_tw()).
 * - Requests are recycled through a per-ring cache, last in first out, and
 *   nothing clears their command area (the op id, the cached ops pointer)
 *   or their result: a fresh one holds the ring's residue (io_preinit_req()
 *   leaves the command area as the slab had it).
 * - A program's last put releases it; the kworker frees it after an
 *   RCU-tasks grace period (kernel/bpf/bpf_struct_ops.c frees the map after
 *   synchronize_rcu_mult(call_rcu, call_rcu_tasks)). A caller still inside
 *   the kernel since it loaded the pointer keeps it alive; one that slept
 *   or returned to user space in between does not.
 * - Freed programs, files and rings are poisoned and kept until the world
 *   is destroyed, so a use after free is counted (world->violations), not
 *   undefined behaviour.
 * - Sequential worlds (the addon) are driven by one thread: io-wq and the
 *   kworker run only when the world settles (world_settle()) or a task
 *   waits, so every run is reproducible.
 */
#ifndef IOU_WORLD_H
#define IOU_WORLD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernel/file.h"
#include "../kernel/kref.h"
#include "../kernel/llist.h"
#include "../kernel/spinlock.h"
#include "../kernel/task.h"
#include "../kernel/workqueue.h"

#define PROG_LIVE 0x70726f67u		/* "prog" */
#define PROG_RELEASED 0x72656c73u	/* "rels": the last reference is gone, the grace period is not */
#define PROG_POISON 0xdeadbeefu		/* freed */

/* io_uring.h: IOU_ISSUE_SKIP_COMPLETE is -EIOCBQUEUED. */
#define EIOCBQUEUED 529
#define IOU_COMPLETE 0
#define IOU_ISSUE_SKIP_COMPLETE (-EIOCBQUEUED)

enum callback { CB_PREP, CB_ISSUE, CB_FAIL, CB_CLEANUP, CB_COUNT };

/* What a program's callbacks do; has_* false means the callback pointer is NULL. */
struct prog_spec {
	bool has_prep;
	int prep_ret;
	bool has_issue;
	int issue_res;		/* passed to uring_bpf_set_result(): the CQE's res */
	int issue_ret;		/* 0 is IOU_COMPLETE, -EIOCBQUEUED is IOU_ISSUE_SKIP_COMPLETE */
	bool has_fail;
	bool has_cleanup;
};

struct world;

struct program {
	atomic_uint magic;
	int id;			/* 1, 2, ... in load order */
	int owner_pid;
	struct prog_spec spec;
	struct kref refs;
	atomic_ulong calls[CB_COUNT];
	struct world *world;
	struct program *rcu_next;	/* the world's programs waiting for their grace period */
};

enum file_kind { FILE_PROG, FILE_LINK, FILE_RING };

/* A struct_ops link: holds a program reference while attached; ->unreg() runs once. */
struct link {
	struct world *world;
	struct program *prog;
	atomic_bool detached;
	long id;		/* the registration's id (the design's meaning) */
	int ring_fd;		/* the struct_ops value's ring_fd, or -1 */
	/* ->unreg(), run once by the detach or the last close, as whoever drops it. */
	void (*unreg)(struct world *w, struct link *link);
	struct kfile file;
};

struct process {
	int pid;
	bool cap_bpf;
	bool alive;		/* until exit() */
	struct fd_table fds;
	/* The thread the addon drives the process with; other threads (the stress's) bring their own task. */
	struct task main_task;
};

struct sqe {
	uint32_t bpf_op_flags;
	int fd;
	bool fixed_file;	/* IOSQE_FIXED_FILE */
	bool async;		/* IOSQE_ASYNC */
	uint64_t user_data;
};

struct cqe {
	uint64_t user_data;
	int res;
};

/* A fixed-file resource node: refs is a plain int under uring_lock. */
struct rsrc_node {
	struct lref refs;
	struct kfile *file;
};

#define RING_CQ_ENTRIES 512	/* at least STANDIN_MAX_BATCH: the lane reaps after each batch */

struct req;

/* What a fresh request's command area and result hold: whatever its slab object held last. */
struct req_residue {
	unsigned op;
	struct program *ops;
	int res;
};

/* io_uring_setup()'s choices the models care about. */
struct ring_options {
	bool bpf;			/* the design's setup flag */
	struct req_residue residue;	/* all zero unless a test says otherwise */
};

struct io_ring_ctx {
	int id;
	struct process *owner;
	bool bpf;		/* created with the design's setup flag */
	struct req_residue residue;
	pthread_mutex_t uring_lock;
	struct spinlock completion_lock;	/* CQ posting, and the parked list */
	pthread_mutex_t wq_lock;	/* the wait queue (ctx->bpf_wq) */
	pthread_cond_t wq;
	/*
	 * Requests allocated and not yet freed, and whether the ring's file was
	 * released (then the last request frees the ring): both under uring_lock,
	 * plain ints as the kernel's per-CPU ctx->refs cost about nothing.
	 */
	int inflight;
	bool dying;
	atomic_bool freed;
	struct rsrc_node **fixed;	/* the fixed-file table, or NULL; under uring_lock */
	int nfixed;
	void *design;		/* the design's per-ring state */
	/* The CQ ring: posted under completion_lock, reaped lock-free by the ring's one consumer. */
	struct cqe cq[RING_CQ_ENTRIES];
	atomic_uint cq_head, cq_tail;
	unsigned long cq_overflow;
	_Atomic(struct task *) cq_waiter;	/* a task in io_cqring_wait() on this ring */
	struct req *free_reqs;	/* the request cache (submit_state.free_list), under uring_lock */
	struct req *parked;	/* SKIP_COMPLETE requests nothing will complete, under completion_lock */
	struct llist_head fallback;	/* ctx->fallback_llist: task work the kworker runs for exited tasks */
	struct kfile file;
	struct world *world;
	struct io_ring_ctx *all_next;		/* the world's list of rings, for teardown */
};

#define REQ_F_NEED_CLEANUP 1u

enum req_state { REQ_PREP, REQ_QUEUED, REQ_ISSUED, REQ_PARKED, REQ_FREED };

struct req {
	struct io_ring_ctx *ring;
	struct task *task;		/* req->tctx->task: the submitter */
	struct sqe sqe;
	/*
	 * The command area (uring_bpf_data) and req->cqe.res: nothing clears
	 * them between two uses of the request, so a prep that fails before
	 * writing them leaves the previous user's values.
	 */
	unsigned op;			/* the op id prep decoded (v1 data->opf, v2/v3's op) */
	struct program *ops;		/* uring_bpf_data.ops (v2/v3), cached by prep */
	int res;
	bool ops_from_prep;		/* bookkeeping only: this request's prep wrote `ops` */
	unsigned flags;
	enum req_state state;
	struct kfile *file;		/* req->file, put when freed */
	struct rsrc_node *node;		/* req->file_node, put when freed */
	void (*tw_func)(struct req *req);	/* io_task_work.func */
	struct req *next;		/* the ring's cache, or its parked list */
	struct llist_node tw_node;	/* io_task_work.node: on the submitter's task list or a ring's fallback list */
};

/*
 * current->io_uring (struct io_uring_task): what io_uring keeps per task.
 * Its requests in flight are counted as the kernel's cached task refs are:
 * the task's own submits and frees touch counters only it writes; a free
 * elsewhere (the kworker's fallback) is an atomic add.
 */
struct io_uring_task {
	struct llist_head task_list;	/* tctx->task_list, newest first */
	atomic_ulong submitted;		/* written by the task only */
	atomic_ulong freed_here;	/* written by the task only */
	atomic_ulong freed_elsewhere;
	atomic_ulong parked;		/* of those in flight, the ones parked for good */
};

/* What went wrong inside the world: every counter stays 0 in a correct run. */
struct violations {
	atomic_ulong freed_calls;	/* a callback on a freed (poisoned) program */
	atomic_ulong null_calls;	/* a callback whose pointer is NULL */
	atomic_ulong ref_underflow;	/* a count dropped below zero */
	atomic_ulong oob;		/* an access past the end of a table */
	atomic_ulong lost_requests;	/* a request freed twice or in a bad state */
	/*
	 * Of freed_calls, those through the ops pointer a recycled request's
	 * previous user left (->fail() after a prep that failed before setting
	 * it): the posted request path's own use after free, which no caller can
	 * avoid, so the stress reports it apart.
	 */
	atomic_ulong stale_freed_calls;
	/* NULL dereferences (an oops): the world's task domain counts them (task_oops()). */
};

/* One event for the sequential log the differential tests compare. */
struct log_event {
	int program;
	int callback;		/* enum callback */
	bool null_call;
	bool freed;
};

#define WORLD_LOG_MAX 256

struct design_def;
struct world_obj;

struct world_options {
	int fd_limit;			/* RLIMIT_NOFILE of both processes */
	bool sequential;		/* one driving thread: io-wq and the kworker run when the world settles */
	int iowq_workers;		/* 0: the submitter issues its punted requests itself (the timed lane) */
	bool iowq_gated;		/* io-wq runs only when flushed, as in a sequential world (a test's control) */
};

struct world {
	const struct design_def *design;
	void *state;			/* the design's global state */
	struct process procs[2];	/* the processes commands run in */
	struct task_domain tasks;
	struct fd_table init_files;	/* kernel threads' files: empty */
	struct workqueue iowq;		/* io-wq: one pool for the world */
	struct workqueue kworker;	/* system_wq */
	pthread_mutex_t rcu_lock;
	struct program *rcu_pending;	/* released programs the next grace period frees (call_rcu_tasks batching) */
	atomic_int next_program_id, next_ring_id;
	pthread_mutex_t objects_lock;	/* the lists below and the log */
	struct world_obj *objects;	/* every allocation, freed with the world */
	struct io_ring_ctx *rings;
	int nprograms;
	struct program **programs;	/* by id - 1, for snapshots */
	struct violations violations;
	void *stress;			/* stress.c's shared programs */
	bool count_calls;		/* per-program call counters: tests only (a shared counter would bounce) */
	bool log_enabled;		/* sequential runs only */
	struct log_event log[WORLD_LOG_MAX];
	int nlog;
};

/* Zeroed memory that lives as long as the world (freed objects stay readable, poisoned). */
void *world_alloc(struct world *w, size_t size);

/* Design hooks and the core call these. */
/*
 * Calls callback `cb` through a function pointer whose value is `prog`'s
 * trampoline for it, or NULL (an oops in the kernel: counted and logged,
 * returns 0). A call into a freed program is a use after free (counted).
 */
int call_program(struct world *w, struct req *req, struct program *prog, enum callback cb);
void get_program(struct program *prog);
void put_program(struct world *w, struct program *prog);
bool program_has(const struct program *prog, enum callback cb);
/* The ring behind `fd` in current->files with a file reference, or NULL with *err set (EBADF, EOPNOTSUPP). */
struct io_ring_ctx *fget_ring(int fd, struct kfile **file, int *err);
/* Waits, without uring_lock, until done(arg): wait_event() on ctx->bpf_wq, uninterruptible. */
void ring_wait(struct io_ring_ctx *ring, bool (*done)(void *arg), void *arg);
/* How often this thread's ring_wait() found done(arg) false and slept: the stress's coverage. */
extern _Thread_local unsigned long ring_waits_blocked;
/* wake_up(&ctx->bpf_wq) */
void ring_wake(struct io_ring_ctx *ring);
/* The fixed-file table: a new node for `file` in `index` (dropping the old one); NULL clears. */
void ring_fixed_set(struct io_ring_ctx *ring, int index, struct kfile *file);
void rsrc_node_put(struct world *w, struct rsrc_node *node);
/* Counts a bad access past a table's end. */
void world_oob(struct world *w);

/*
 * struct_ops BPF_LINK_CREATE for the program at `prog_fd`: the link carries
 * `id`, `ring_fd` and `unreg`; reg(w, link) runs ->reg() in the attaching
 * process and may change link->id (a kernel-chosen id). Returns the link fd
 * (and the link in *linkp) or -errno.
 */
int attach_struct_ops(struct world *w, struct process *proc, int prog_fd, long id, int ring_fd,
		      int (*reg)(struct world *w, struct link *link),
		      void (*unreg)(struct world *w, struct link *link), struct link **linkp);
/* BPF_LINK_DETACH: ->unreg() now unless already detached. 0 or -errno. */
int detach_struct_ops(struct world *w, struct process *proc, int link_fd);

/* ---- The world's syscalls: each runs as a task of `proc`, then that task's task work. ---- */
/*
 * The task is the calling thread's own (current) when it belongs to `proc`,
 * else the process's main task. A process that exited makes no syscalls
 * (-ESRCH); a task that hung for good (a wait nothing can end, in a
 * sequential world) returns -EDEADLK, now and from then on.
 */

struct world *world_create(const struct design_def *design, const struct world_options *opts);
void world_destroy(struct world *w);
/* A new task of `proc` for a thread other than the main one (the stress's, the lane's); lives with the world. */
struct task *world_task_new(struct world *w, struct process *proc);
/* Requests `t` submitted that are not freed yet. */
unsigned long world_task_requests(struct task *t);
/* The thread is done with its task: runs its task work until its requests are freed, then exit_task_work(). */
void world_task_exit(struct world *w, struct task *t);
/*
 * Sequential worlds, between syscalls: lets io-wq finish, runs the task work
 * of every task that is not inside a syscall (an idle thread interrupted by
 * TWA_SIGNAL), lets the kworker finish, and repeats until nothing is left.
 */
void world_settle(struct world *w);
/* NULL dereferences so far. */
unsigned long world_oopses(struct world *w);
/*
 * Not a syscall: the stress's oracle for "every request this thread
 * submitted is freed", running the thread's task work until it is so (or
 * only parked ones are left). Userspace sees a request's CQE, not its free,
 * which comes later as the submitter's task work; a careful caller that
 * must not sleep in the kernel with a request of its own pending (per-ctx
 * ->unreg() does) has no such oracle. 0, or -errno as a syscall.
 */
int world_drain_requests(struct world *w, struct process *proc);

/* bpf(BPF_PROG_LOAD): the program's fd, or -errno. */
int sys_load(struct world *w, struct process *proc, const struct prog_spec *spec);
/* io_uring_setup(): the ring's fd, or -errno. */
int sys_setup(struct world *w, struct process *proc, const struct ring_options *opts);
/* io_uring_enter() with `n` SQEs: the number submitted, or -errno. Task work runs first and last. */
int sys_submit(struct world *w, struct process *proc, int ring_fd, const struct sqe *sqes, unsigned n);
/*
 * io_submit_sqes() as current on a ring the caller already holds (a
 * registered ring fd): the core of sys_submit. With an inline io-wq the
 * punted requests are issued here too, after uring_lock is dropped.
 */
void io_submit_batch(struct world *w, struct io_ring_ctx *ring, const struct sqe *sqes, unsigned n);
/* Moves up to `max` CQEs of `ring` to `out`; returns how many. */
int io_reap(struct io_ring_ctx *ring, struct cqe *out, int max);
/* io_uring_enter(0, 0): task work, then copies up to `max` CQEs of the ring at `ring_fd` out; how many, or -errno. */
int sys_reap(struct world *w, struct process *proc, int ring_fd, struct cqe *out, int max);
/* io_uring_enter(0, min, GETEVENTS): sleeps (interruptibly) until `min` CQEs are there, then copies up to `max`. */
int sys_wait_cqes(struct world *w, struct process *proc, int ring_fd, int min, struct cqe *out, int max);
int sys_close(struct world *w, struct process *proc, int fd);
/* close() inside another syscall: 0 or -EBADF; the release runs with the caller's task work. */
int close_fd(struct process *proc, int fd);
/* SCM_RIGHTS from `from` to `to`: the new fd, or -errno (-ECONNREFUSED when `to` has exited). */
int sys_pass_fd(struct world *w, struct process *from, int fd, struct process *to);
/*
 * exit() of a process with one thread (kernel/exit.c do_exit()):
 * io_uring_files_cancel() waits for the requests its task submitted to be
 * freed, running its task work meanwhile; exit_files() detaches the fd
 * table (current->files = NULL) and drops every file, lowest fd first,
 * which queues their __fput as task work; exit_task_work() then runs it,
 * newest first. 0; -EDEADLK when a parked request would make the exit wait
 * forever (the task then stays stuck in exit, files and all); an oops on
 * the way (an fget() after exit_files()) ends the task there and still
 * returns 0.
 */
int sys_exit(struct world *w, struct process *proc);

#endif
