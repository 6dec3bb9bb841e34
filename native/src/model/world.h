/* SPDX-License-Identifier: MIT */
/*
 * The C world the native designs run in, mirroring designs/world.ts and
 * designs/io-uring.ts: processes with fd tables, loaded programs whose
 * callbacks are small C functions, rings with a real pthread mutex as
 * uring_lock, requests that go prep -> issue -> (fail) -> cleanup, struct_ops
 * links, and the io_uring core that submits a batch under one uring_lock.
 *
 * Differences from the TypeScript model, all deliberate:
 * - IOSQE_ASYNC requests are issued by the submitting thread itself once it
 *   has dropped uring_lock (a synchronous io-wq); their completions then run
 *   in order under one uring_lock, as the submitter's task work would;
 * - freed programs, files and rings are poisoned and kept until the world
 *   is destroyed, so a use after free is counted (world->violations), not
 *   undefined behaviour.
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

#define PROG_LIVE 0x70726f67u	/* "prog" */
#define PROG_POISON 0xdeadbeefu

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
	struct fd_table fds;
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

struct io_ring_ctx {
	int id;
	struct process *owner;
	bool bpf;		/* created with the design's setup flag */
	pthread_mutex_t uring_lock;
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
	/* The CQ ring: posted under uring_lock, reaped lock-free by the ring's one consumer. */
	struct cqe cq[RING_CQ_ENTRIES];
	atomic_uint cq_head, cq_tail;
	unsigned long cq_overflow;
	struct req *free_reqs;	/* the request cache, under uring_lock */
	struct req *parked;	/* SKIP_COMPLETE requests nothing will complete */
	struct kfile file;
	struct world *world;
	struct io_ring_ctx *all_next;		/* the world's list of rings, for teardown */
};

#define REQ_F_NEED_CLEANUP 1u

enum req_state { REQ_PREP, REQ_QUEUED, REQ_ISSUED, REQ_PARKED, REQ_FREED };

struct req {
	struct io_ring_ctx *ring;
	struct process *submitter;
	struct sqe sqe;
	int res;
	unsigned flags;
	enum req_state state;
	struct kfile *file;		/* req->file, put when freed */
	struct rsrc_node *node;		/* req->file_node, put when freed */
	struct program *ops;		/* uring_bpf_data.ops (v2/v3), cached by prep */
	unsigned op;			/* the op id prep decoded */
	int wq_ret;			/* what the io-wq issue returned */
	struct req *next;
};

/* What went wrong inside the world: every counter stays 0 in a correct run. */
struct violations {
	atomic_ulong freed_calls;	/* a callback on a freed (poisoned) program */
	atomic_ulong null_calls;	/* a callback whose pointer is NULL */
	atomic_ulong ref_underflow;	/* a count dropped below zero */
	atomic_ulong oob;		/* an access past the end of a table */
	atomic_ulong lost_requests;	/* a request freed twice or in a bad state */
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

struct world {
	const struct design_def *design;
	void *state;			/* the design's global state */
	struct process procs[2];	/* the processes commands run in */
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

/* The process a command runs as (current); set by the syscall wrappers. */
extern _Thread_local struct process *current_proc;

/* Zeroed memory that lives as long as the world (freed objects stay readable, poisoned). */
void *world_alloc(struct world *w, size_t size);

/* Design hooks and the core call these. */
int call_program(struct world *w, struct req *req, struct program *prog, enum callback cb);
void get_program(struct program *prog);
void put_program(struct world *w, struct program *prog);
bool program_has(const struct program *prog, enum callback cb);
/* The ring behind `fd` in `proc` with a file reference, or NULL with *err set (EBADF, EOPNOTSUPP). */
struct io_ring_ctx *fget_ring(struct process *proc, int fd, struct kfile **file, int *err);
/* Waits, without uring_lock, until done(arg) (wait_event on ctx->bpf_wq). */
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

/* ---- The world's syscalls: each runs as `proc`, then that thread's task work. ---- */

struct world *world_create(const struct design_def *design, int fd_limit);
void world_destroy(struct world *w);

/* bpf(BPF_PROG_LOAD): the program's fd, or -errno. */
int sys_load(struct world *w, struct process *proc, const struct prog_spec *spec);
/* io_uring_setup(): the ring's fd, or -errno. */
int sys_setup(struct world *w, struct process *proc, bool bpf);
/* io_uring_enter() with `n` SQEs: the number submitted, or -errno. */
int sys_submit(struct world *w, struct process *proc, int ring_fd, const struct sqe *sqes, unsigned n);
/* io_submit_sqes() on a ring the caller already holds (a registered ring fd): the core of sys_submit. */
void io_submit_batch(struct world *w, struct process *proc, struct io_ring_ctx *ring, const struct sqe *sqes, unsigned n);
/* Moves up to `max` CQEs of `ring` to `out`; returns how many. */
int io_reap(struct io_ring_ctx *ring, struct cqe *out, int max);
/* Copies up to `max` CQEs of the ring at `ring_fd` out; returns how many, or -errno. */
int sys_reap(struct world *w, struct process *proc, int ring_fd, struct cqe *out, int max);
int sys_close(struct world *w, struct process *proc, int fd);
/* close() inside another syscall: 0 or -EBADF; the release runs with the caller's task work. */
int close_fd(struct process *proc, int fd);
/* SCM_RIGHTS from `from` to `to`: the new fd, or -errno. */
int sys_pass_fd(struct world *w, struct process *from, int fd, struct process *to);

#endif
