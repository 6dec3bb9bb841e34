// SPDX-License-Identifier: MIT
/* The C world and io_uring core: see world.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "world.h"

/* Objects start on their own cache line, as slab objects of this size do: no false sharing between threads' files. */
#define CACHE_LINE 64

struct world_obj {
	struct world_obj *next;
	char pad[CACHE_LINE - sizeof(struct world_obj *)];
	max_align_t data[];
};

static void *must(void *p)
{
	if (!p) {
		fprintf(stderr, "iou-dispatch: out of memory in the native world\n");
		abort();
	}
	return p;
}

void *world_alloc(struct world *w, size_t size)
{
	size_t bytes = (sizeof(struct world_obj) + size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	struct world_obj *obj = must(aligned_alloc(CACHE_LINE, bytes));

	memset(obj, 0, bytes);

	pthread_mutex_lock(&w->objects_lock);
	obj->next = w->objects;
	w->objects = obj;
	pthread_mutex_unlock(&w->objects_lock);
	return obj->data;
}

void world_oob(struct world *w)
{
	atomic_fetch_add(&w->violations.oob, 1);
}

unsigned long world_oopses(struct world *w)
{
	return atomic_load(&w->tasks.oopses);
}

/* ---- programs ---- */

bool program_has(const struct program *prog, enum callback cb)
{
	switch (cb) {
	case CB_PREP:
		return prog->spec.has_prep;
	case CB_ISSUE:
		return prog->spec.has_issue;
	case CB_FAIL:
		return prog->spec.has_fail;
	default:
		return prog->spec.has_cleanup;
	}
}

static void log_event(struct world *w, struct log_event ev)
{
	if (!w->log_enabled)
		return;
	pthread_mutex_lock(&w->objects_lock);
	if (w->nlog < WORLD_LOG_MAX)
		w->log[w->nlog++] = ev;
	pthread_mutex_unlock(&w->objects_lock);
}

int call_program(struct world *w, struct req *req, struct program *prog, enum callback cb)
{
	int ret = 0;

	if (!prog) {
		/* A NULL function pointer called: an oops in the kernel. */
		atomic_fetch_add(&w->violations.null_calls, 1);
		log_event(w, (struct log_event){ .program = 0, .callback = cb, .null_call = true });
		return 0;
	}
	bool freed = atomic_load_explicit(&prog->magic, memory_order_acquire) == PROG_POISON;

	if (freed)
		atomic_fetch_add(&w->violations.freed_calls, 1);
	if (cb == CB_PREP)
		ret = prog->spec.prep_ret;
	if (cb == CB_ISSUE) {
		req->res = prog->spec.issue_res;	/* uring_bpf_set_result() */
		ret = prog->spec.issue_ret;
	}
	if (w->count_calls)
		atomic_fetch_add_explicit(&prog->calls[cb], 1, memory_order_relaxed);
	log_event(w, (struct log_event){ .program = prog->id, .callback = cb, .freed = freed });
	return ret;
}

void get_program(struct program *prog)
{
	kref_get(&prog->refs);
}

/*
 * The maps' free after their grace periods (bpf_struct_ops_map_free():
 * synchronize_rcu_mult(call_rcu, call_rcu_tasks), then the trampolines and
 * the map go), on the kworker: one grace period frees every program
 * released before it started, as RCU batches its callbacks.
 */
static void programs_free_rcu(void *arg)
{
	struct world *w = arg;

	pthread_mutex_lock(&w->rcu_lock);
	struct program *prog = w->rcu_pending;

	w->rcu_pending = NULL;
	pthread_mutex_unlock(&w->rcu_lock);
	synchronize_rcu_tasks(&w->tasks);
	for (; prog; prog = prog->rcu_next)
		atomic_store_explicit(&prog->magic, PROG_POISON, memory_order_release);
}

void put_program(struct world *w, struct program *prog)
{
	long old = atomic_fetch_sub_explicit(&prog->refs.count, 1, memory_order_acq_rel);

	if (old <= 0)
		atomic_fetch_add(&w->violations.ref_underflow, 1);
	if (old != 1)
		return;
	atomic_store_explicit(&prog->magic, PROG_RELEASED, memory_order_release);
	pthread_mutex_lock(&w->rcu_lock);
	bool first = !w->rcu_pending;

	prog->rcu_next = w->rcu_pending;
	w->rcu_pending = prog;
	pthread_mutex_unlock(&w->rcu_lock);
	if (first)
		wq_queue(&w->kworker, programs_free_rcu, w);
}

static void prog_file_release(struct kfile *file)
{
	struct program *prog = file->payload;

	put_program(prog->world, prog);
}

/* ---- syscalls ---- */

struct syscall {
	struct world *w;
	struct process *proc;
	int (*body)(struct world *w, struct process *proc, void *args);
	void *args;
	int ret;
};

static void syscall_body(void *arg)
{
	struct syscall *s = arg;

	s->ret = s->body(s->w, s->proc, s->args);
	task_work_run();	/* exit_to_user_mode(): the task work the syscall left */
}

/* Runs `body` as a syscall of `proc`: see world.h. */
static int syscall_run(struct world *w, struct process *proc, int (*body)(struct world *, struct process *, void *),
		       void *args)
{
	struct task *t = current && current->owner == proc ? current : &proc->main_task;
	struct syscall s = { .w = w, .proc = proc, .body = body, .args = args };

	if (atomic_load(&t->dead))
		return proc->alive ? -EDEADLK : -ESRCH;
	if (!proc->alive)
		return -ESRCH;
	switch (task_run_guarded(t, syscall_body, &s)) {
	case TASK_RETURNED:
		return s.ret;
	case TASK_HUNG:
		return -EDEADLK;
	default:
		return 0;	/* only exit() can oops: its task is gone either way */
	}
}

struct load_args {
	const struct prog_spec *spec;
};

static int do_load(struct world *w, struct process *proc, void *a)
{
	const struct prog_spec *spec = ((struct load_args *)a)->spec;

	if (!proc->cap_bpf)
		return -EPERM;
	struct program *prog = world_alloc(w, sizeof(*prog));
	struct kfile *file = world_alloc(w, sizeof(*file));

	atomic_init(&prog->magic, PROG_LIVE);
	prog->owner_pid = proc->pid;
	prog->spec = *spec;
	prog->world = w;
	kref_init(&prog->refs, 1);
	pthread_mutex_lock(&w->objects_lock);
	prog->id = w->nprograms + 1;
	w->programs = must(realloc(w->programs, (size_t)(w->nprograms + 1) * sizeof(*w->programs)));
	w->programs[w->nprograms++] = prog;
	pthread_mutex_unlock(&w->objects_lock);
	file_init(file, FILE_PROG, prog, prog_file_release);
	return fd_install(&proc->fds, file);
}

int sys_load(struct world *w, struct process *proc, const struct prog_spec *spec)
{
	struct load_args a = { spec };

	return syscall_run(w, proc, do_load, &a);
}

/* ---- rings ---- */

struct io_ring_ctx *fget_ring(int fd, struct kfile **file, int *err)
{
	struct kfile *f = fget(fd);

	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (f->kind != FILE_RING) {
		fput(f);
		*err = -EOPNOTSUPP;
		return NULL;
	}
	*file = f;
	return f->payload;
}

_Thread_local unsigned long ring_waits_blocked;

struct ring_wait_args {
	bool (*done)(void *arg);
	void *arg;
	bool slept;
};

static bool ring_wait_done(void *p)
{
	struct ring_wait_args *a = p;
	bool done = a->done(a->arg);

	if (!done && !a->slept) {
		a->slept = true;
		ring_waits_blocked++;
	}
	return done;
}

void ring_wait(struct io_ring_ctx *ring, bool (*done)(void *), void *arg)
{
	struct ring_wait_args a = { .done = done, .arg = arg };

	task_wait_event(ring_wait_done, &a, &ring->wq_lock, &ring->wq, false);
}

void ring_wake(struct io_ring_ctx *ring)
{
	pthread_mutex_lock(&ring->wq_lock);
	pthread_cond_broadcast(&ring->wq);
	pthread_mutex_unlock(&ring->wq_lock);
}

void rsrc_node_put(struct world *w, struct rsrc_node *node)
{
	int left = lref_dec(&node->refs);

	if (left < 0)
		atomic_fetch_add(&w->violations.ref_underflow, 1);
	if (left == 0) {
		fput(node->file);
		free(node);
	}
}

void ring_fixed_set(struct io_ring_ctx *ring, int index, struct kfile *file)
{
	struct rsrc_node *old = ring->fixed[index], *node = NULL;

	if (file) {
		node = must(malloc(sizeof(*node)));
		lref_set(&node->refs, 1);
		node->file = file;
	}
	ring->fixed[index] = node;
	if (old)
		rsrc_node_put(ring->world, old);
}

/* io_ring_exit_work() on the kworker, once every request is freed: the fixed files, then the design's part. */
static void ring_exit_work(void *arg)
{
	struct io_ring_ctx *ring = arg;
	struct world *w = ring->world;

	if (atomic_exchange(&ring->freed, true))
		return;
	if (ring->fixed) {
		pthread_mutex_lock(&ring->uring_lock);
		for (int i = 0; i < ring->nfixed; i++)
			if (ring->fixed[i])
				ring_fixed_set(ring, i, NULL);
		pthread_mutex_unlock(&ring->uring_lock);
	}
	w->design->ring_freed(w, ring);
}

/* io_uring_release() -> io_ring_ctx_wait_and_kill(): the exit work waits for the requests in flight. */
static void ring_file_release(struct kfile *file)
{
	struct io_ring_ctx *ring = file->payload;

	pthread_mutex_lock(&ring->uring_lock);
	ring->dying = true;
	bool idle = ring->inflight == 0;

	pthread_mutex_unlock(&ring->uring_lock);
	if (idle)
		wq_queue(&ring->world->kworker, ring_exit_work, ring);
}

struct setup_args {
	const struct ring_options *opts;
};

static int do_setup(struct world *w, struct process *proc, void *a)
{
	const struct ring_options *opts = ((struct setup_args *)a)->opts;
	struct io_ring_ctx *ring = world_alloc(w, sizeof(*ring));

	ring->owner = proc;
	ring->bpf = opts->bpf;
	ring->residue = opts->residue;
	ring->world = w;
	pthread_mutex_init(&ring->uring_lock, NULL);
	spin_lock_init(&ring->completion_lock);
	pthread_mutex_init(&ring->wq_lock, NULL);
	pthread_cond_init(&ring->wq, NULL);
	file_init(&ring->file, FILE_RING, ring, ring_file_release);
	pthread_mutex_lock(&w->objects_lock);
	ring->all_next = w->rings;
	w->rings = ring;
	pthread_mutex_unlock(&w->objects_lock);
	int ret = w->design->ring_created(w, ring);

	if (ret < 0) {
		atomic_store(&ring->freed, true);	/* never visible: nothing to tear down */
		return ret;
	}
	/* Ids count the rings that were created: a refused setup does not use one up. */
	ring->id = atomic_fetch_add(&w->next_ring_id, 1) + 1;
	return fd_install(&proc->fds, &ring->file);
}

int sys_setup(struct world *w, struct process *proc, const struct ring_options *opts)
{
	struct setup_args a = { opts };

	return syscall_run(w, proc, do_setup, &a);
}

/* ---- requests ---- */

static struct io_uring_task *tctx_of(struct world *w, struct task *t)
{
	/* io_uring_alloc_task_context() on first use; only the task itself gets here first. */
	if (!t->io_uring)
		t->io_uring = world_alloc(w, sizeof(*t->io_uring));
	return t->io_uring;
}

/* One more on a counter only its task writes: a plain increment, as the kernel's cached_refs. */
static void count_own(atomic_ulong *counter)
{
	atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Requests the task submitted and nobody has freed (parked ones included). */
static unsigned long tctx_inflight(const struct io_uring_task *tctx)
{
	return atomic_load_explicit(&tctx->submitted, memory_order_relaxed) -
	       atomic_load_explicit(&tctx->freed_here, memory_order_relaxed) -
	       atomic_load_explicit(&tctx->freed_elsewhere, memory_order_acquire);
}

/*
 * io_alloc_req(): the ring's cache first, newest first; a fresh object
 * otherwise, whose command area and result hold what the slab left there
 * (the ring's residue). uring_lock held.
 */
static struct req *req_alloc(struct world *w, struct io_ring_ctx *ring)
{
	struct req *req = ring->free_reqs;

	if (req) {
		ring->free_reqs = req->next;
	} else {
		req = world_alloc(w, sizeof(*req));
		req->op = ring->residue.op;
		req->ops = ring->residue.ops;
		req->res = ring->residue.res;
	}
	ring->inflight++;
	return req;
}

/* io_init_req(): only the fields it sets; the command area and the result keep what they held. */
static void req_init(struct req *req, struct io_ring_ctx *ring, const struct sqe *sqe)
{
	req->ring = ring;
	req->task = current;
	req->sqe = *sqe;
	req->flags = 0;
	req->ops_from_prep = false;
	req->state = REQ_PREP;
	req->file = NULL;
	req->node = NULL;
	req->tw_func = NULL;
	req->next = NULL;
	req->tw_node.next = NULL;
}

/* io_fill_cqe_req() under the CQ lock; wakes a task waiting for CQEs on the ring. */
static void post_cqe(struct io_ring_ctx *ring, struct req *req, int res)
{
	spin_lock(&ring->completion_lock);
	unsigned tail = atomic_load_explicit(&ring->cq_tail, memory_order_relaxed);

	if (tail - atomic_load_explicit(&ring->cq_head, memory_order_acquire) >= RING_CQ_ENTRIES) {
		ring->cq_overflow++;
	} else {
		ring->cq[tail % RING_CQ_ENTRIES] = (struct cqe){ .user_data = req->sqe.user_data, .res = res };
		atomic_store_explicit(&ring->cq_tail, tail + 1, memory_order_release);
	}
	spin_unlock(&ring->completion_lock);
	struct task *waiter = atomic_load(&ring->cq_waiter);

	if (waiter)
		task_wake(waiter);
}

/* io_free_batch_list(), uring_lock held: ->cleanup() if flagged, then the file and node; back to the cache. */
static void free_request(struct world *w, struct req *req)
{
	struct io_ring_ctx *ring = req->ring;

	if (req->state == REQ_FREED) {
		atomic_fetch_add(&w->violations.lost_requests, 1);
		return;
	}
	if (req->flags & REQ_F_NEED_CLEANUP) {
		req->flags &= ~REQ_F_NEED_CLEANUP;
		w->design->cleanup(w, req);
	}
	if (req->file) {
		fput(req->file);
		req->file = NULL;
	}
	if (req->node) {
		rsrc_node_put(w, req->node);
		req->node = NULL;
	}
	req->state = REQ_FREED;
	if (current == req->task)
		count_own(&req->task->io_uring->freed_here);
	else
		atomic_fetch_add_explicit(&req->task->io_uring->freed_elsewhere, 1, memory_order_release);
	req->next = ring->free_reqs;
	ring->free_reqs = req;
	if (--ring->inflight == 0 && ring->dying)
		wq_queue(&w->kworker, ring_exit_work, ring);
}

/* io_req_defer_failed(): the result is the error; ->fail(), then a CQE with it, then free. */
static void fail_request(struct world *w, struct req *req, int ret)
{
	req->res = ret;
	w->design->fail(w, req);
	post_cqe(req->ring, req, ret);
	free_request(w, req);
}

/* IOU_ISSUE_SKIP_COMPLETE with nothing to complete it: the request stays, and so does its task's exit. */
static void park(struct req *req)
{
	struct io_ring_ctx *ring = req->ring;

	spin_lock(&ring->completion_lock);
	req->state = REQ_PARKED;
	req->next = ring->parked;
	ring->parked = req;
	spin_unlock(&ring->completion_lock);
	atomic_fetch_add(&req->task->io_uring->parked, 1);
	task_wake(req->task);
}

/* io_req_task_complete() for a request io-wq completed: the CQE is posted, only the free is left. */
static void req_task_complete(struct req *req)
{
	free_request(req->ring->world, req);
}

/* io_req_task_cancel(): the whole failure, with the error io-wq got. */
static void req_task_cancel(struct req *req)
{
	fail_request(req->ring->world, req, req->res);
}

/* io_fallback_req_func(): the kworker runs the ring's orphaned task work under uring_lock. */
static void fallback_req_func(void *arg)
{
	struct io_ring_ctx *ring = arg;
	struct llist_node *node = llist_del_all(&ring->fallback);

	pthread_mutex_lock(&ring->uring_lock);
	while (node) {
		struct llist_node *next = node->next;
		struct req *req = llist_entry(node, struct req, tw_node);

		req->tw_func(req);
		node = next;
	}
	pthread_mutex_unlock(&ring->uring_lock);
}

/*
 * io_fallback_tw(): a task that can take no more task work (or is
 * exiting) hands its requests to each ring's fallback work on the kworker;
 * `sync` waits for it (flush_delayed_work()). Pushing the task's list,
 * newest first, onto each ring's list leaves that list oldest first.
 */
static void io_fallback_tw(struct task *t, bool sync)
{
	struct llist_node *node = llist_del_all(&t->io_uring->task_list);
	struct world *w = NULL;

	while (node) {
		struct llist_node *next = node->next;
		struct req *req = llist_entry(node, struct req, tw_node);

		w = req->ring->world;
		if (llist_add(&req->tw_node, &req->ring->fallback))
			wq_queue(&w->kworker, fallback_req_func, req->ring);
		node = next;
	}
	if (sync && w)
		wq_flush(&w->kworker);
}

/*
 * tctx_task_work(): the one generic task-work item io_uring's requests
 * ride. Takes the task's list, runs it oldest first (llist_reverse_order()),
 * each request under its ring's uring_lock, kept across requests of one
 * ring. An exiting task hands them to the kworker instead.
 */
static void tctx_task_work(void *arg)
{
	struct task *t = arg;

	if (t->exiting) {
		io_fallback_tw(t, true);
		return;
	}
	struct llist_node *node = llist_reverse_order(llist_del_all(&t->io_uring->task_list));
	struct io_ring_ctx *locked = NULL;

	while (node) {
		struct llist_node *next = node->next;
		struct req *req = llist_entry(node, struct req, tw_node);

		if (req->ring != locked) {
			if (locked)
				pthread_mutex_unlock(&locked->uring_lock);
			locked = req->ring;
			pthread_mutex_lock(&locked->uring_lock);
		}
		req->tw_func(req);
		node = next;
	}
	if (locked)
		pthread_mutex_unlock(&locked->uring_lock);
}

/* io_req_task_work_add() -> io_req_normal_work_add(): to the submitter, or the kworker if it can take no more. */
static void io_req_task_work_add(struct req *req, void (*func)(struct req *))
{
	struct task *t = req->task;

	req->tw_func = func;
	if (!llist_add(&req->tw_node, &t->io_uring->task_list))
		return;	/* tctx_task_work is already queued */
	if (task_work_add(t, tctx_task_work, t) == 0)
		return;
	io_fallback_tw(t, false);
}

/*
 * io_wq_submit_work(), on an io-wq worker: issue without uring_lock. On
 * IOU_COMPLETE the worker posts the CQE itself (io_req_complete_post())
 * and the final put (io_wq_free_work() -> io_free_req()) is the
 * submitter's task work; an error hands the submitter the whole failure
 * (io_req_task_queue_fail()); -EAGAIN is final here.
 */
static void io_wq_submit_work(void *arg)
{
	struct req *req = arg;
	struct world *w = req->ring->world;
	struct task *worker = current;

	if (worker->kind == TASK_IO_WORKER) {
		/* The worker is a thread of the submitter's process: its files. */
		worker->owner = req->task->owner;
		atomic_store(&worker->files, atomic_load(&req->task->files));
	}
	req->state = REQ_ISSUED;
	int ret = w->design->issue(w, req, true);

	if (ret == IOU_COMPLETE) {
		post_cqe(req->ring, req, req->res);
		io_req_task_work_add(req, req_task_complete);
	} else if (ret == IOU_ISSUE_SKIP_COMPLETE) {
		park(req);
	} else {
		req->res = ret;
		io_req_task_work_add(req, req_task_cancel);
	}
}

struct punted {
	struct req *head, **tail;
};

/* io_queue_iowq(): to a worker now, or, with an inline io-wq, after the batch drops uring_lock. */
static void punt(struct world *w, struct punted *inline_list, struct req *req)
{
	req->state = REQ_QUEUED;
	if (w->iowq.nthreads > 0) {
		wq_queue(&w->iowq, io_wq_submit_work, req);
		return;
	}
	req->next = NULL;
	*inline_list->tail = req;
	inline_list->tail = &req->next;
}

void io_submit_batch(struct world *w, struct io_ring_ctx *ring, const struct sqe *sqes, unsigned n)
{
	struct punted punted = { .head = NULL, .tail = &punted.head };
	struct io_uring_task *tctx = tctx_of(w, current);

	pthread_mutex_lock(&ring->uring_lock);
	for (unsigned i = 0; i < n; i++) {
		struct req *req = req_alloc(w, ring);

		req_init(req, ring, &sqes[i]);
		count_own(&tctx->submitted);
		int ret = w->design->prep(w, req);

		if (ret) {
			fail_request(w, req, ret);	/* io_submit_fail_init(): ->fail() even when prep failed */
		} else if (req->sqe.async) {
			punt(w, &punted, req);
		} else {
			req->state = REQ_ISSUED;
			ret = w->design->issue(w, req, false);
			if (ret == IOU_COMPLETE) {
				post_cqe(ring, req, req->res);
				free_request(w, req);
			} else if (ret == IOU_ISSUE_SKIP_COMPLETE) {
				park(req);
			} else if (ret == -EAGAIN) {
				punt(w, &punted, req);
			} else {
				fail_request(w, req, ret);
			}
		}
	}
	pthread_mutex_unlock(&ring->uring_lock);
	for (struct req *req = punted.head, *next; req; req = next) {
		next = req->next;
		io_wq_submit_work(req);
	}
}

int io_reap(struct io_ring_ctx *ring, struct cqe *out, int max)
{
	unsigned head = atomic_load_explicit(&ring->cq_head, memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&ring->cq_tail, memory_order_acquire);
	int n = 0;

	while (n < max && head != tail)
		out[n++] = ring->cq[head++ % RING_CQ_ENTRIES];
	atomic_store_explicit(&ring->cq_head, head, memory_order_release);
	return n;
}

struct submit_args {
	int ring_fd;
	const struct sqe *sqes;
	unsigned n;
};

static int do_submit(struct world *w, struct process *proc, void *a)
{
	struct submit_args *s = a;
	struct kfile *file;
	int err = 0;

	(void)proc;
	task_work_run();	/* io_uring_enter() runs pending task work first */
	struct io_ring_ctx *ring = fget_ring(s->ring_fd, &file, &err);

	if (!ring)
		return err;
	io_submit_batch(w, ring, s->sqes, s->n);
	fput(file);
	return (int)s->n;
}

int sys_submit(struct world *w, struct process *proc, int ring_fd, const struct sqe *sqes, unsigned n)
{
	struct submit_args a = { .ring_fd = ring_fd, .sqes = sqes, .n = n };

	return syscall_run(w, proc, do_submit, &a);
}

struct reap_args {
	int ring_fd, min, max;
	struct cqe *out;
};

struct cq_ready {
	struct io_ring_ctx *ring;
	int min;
};

static bool cq_ready(void *p)
{
	struct cq_ready *c = p;
	unsigned head = atomic_load_explicit(&c->ring->cq_head, memory_order_relaxed);

	return atomic_load_explicit(&c->ring->cq_tail, memory_order_acquire) - head >= (unsigned)c->min;
}

static int do_reap(struct world *w, struct process *proc, void *a)
{
	struct reap_args *r = a;
	struct kfile *file;
	int err = 0;

	(void)w;
	(void)proc;
	task_work_run();
	struct io_ring_ctx *ring = fget_ring(r->ring_fd, &file, &err);

	if (!ring)
		return err;
	if (r->min > 0) {
		/* io_cqring_wait(): interruptible, running task work as it arrives. */
		struct cq_ready ready = { .ring = ring, .min = r->min };

		atomic_store(&ring->cq_waiter, current);
		task_wait_event(cq_ready, &ready, NULL, NULL, true);
		atomic_store(&ring->cq_waiter, NULL);
	}
	int n = io_reap(ring, r->out, r->max);

	fput(file);
	return n;
}

int sys_reap(struct world *w, struct process *proc, int ring_fd, struct cqe *out, int max)
{
	struct reap_args a = { .ring_fd = ring_fd, .min = 0, .max = max, .out = out };

	return syscall_run(w, proc, do_reap, &a);
}

int sys_wait_cqes(struct world *w, struct process *proc, int ring_fd, int min, struct cqe *out, int max)
{
	struct reap_args a = { .ring_fd = ring_fd, .min = min < max ? min : max, .max = max, .out = out };

	return syscall_run(w, proc, do_reap, &a);
}

/* ---- files ---- */

int close_fd(struct process *proc, int fd)
{
	struct kfile *file = fd_remove(&proc->fds, fd);

	if (!file)
		return -EBADF;
	fput(file);
	return 0;
}

struct fd_args {
	int fd;
	struct process *to;
};

static int do_close(struct world *w, struct process *proc, void *a)
{
	(void)w;
	return close_fd(proc, ((struct fd_args *)a)->fd);
}

int sys_close(struct world *w, struct process *proc, int fd)
{
	struct fd_args a = { .fd = fd };

	return syscall_run(w, proc, do_close, &a);
}

static int do_pass_fd(struct world *w, struct process *from, void *a)
{
	struct fd_args *p = a;
	struct kfile *file = fget(p->fd);

	(void)w;
	(void)from;
	if (!file)
		return -EBADF;
	if (!p->to->alive) {
		fput(file);
		return -ECONNREFUSED;
	}
	return fd_install(&p->to->fds, file);
}

int sys_pass_fd(struct world *w, struct process *from, int fd, struct process *to)
{
	struct fd_args a = { .fd = fd, .to = to };

	return syscall_run(w, from, do_pass_fd, &a);
}

/* ---- exit ---- */

static bool requests_settled(void *arg)
{
	struct io_uring_task *tctx = arg;

	return tctx_inflight(tctx) == atomic_load(&tctx->parked);
}

static int do_exit(struct world *w, struct process *proc, void *a)
{
	struct task *t = current;
	struct io_uring_task *tctx = tctx_of(w, t);

	(void)a;
	proc->alive = false;
	/*
	 * io_uring_files_cancel(): wait for this task's requests to be freed,
	 * running its task work meanwhile (PF_EXITING is not set yet). A parked
	 * request is never freed: the kernel waits forever; here the task stays
	 * stuck in exit, holding its files, and exit() says so.
	 */
	task_wait_event(requests_settled, tctx, NULL, NULL, true);
	if (atomic_load(&tctx->parked) > 0) {
		atomic_store(&t->dead, true);
		return -EDEADLK;
	}
	/* exit_files(): current->files = NULL, then every file goes, lowest fd first. */
	struct kfile **files = must(calloc((size_t)proc->fds.limit, sizeof(*files)));

	atomic_store(&t->files, NULL);
	int n = fd_detach_all(&proc->fds, files, proc->fds.limit);

	for (int i = 0; i < n; i++)
		fput(files[i]);
	free(files);
	/* exit_task_work(): the __fputs just queued run newest first; an fget() among them oopses. */
	exit_task_work();
	return 0;
}

int sys_exit(struct world *w, struct process *proc)
{
	return syscall_run(w, proc, do_exit, NULL);
}

/* ---- struct_ops links ---- */

static void link_detach(struct world *w, struct link *link)
{
	if (atomic_exchange(&link->detached, true))
		return;
	link->unreg(w, link);
	put_program(w, link->prog);
}

static void link_file_release(struct kfile *file)
{
	struct link *link = file->payload;

	link_detach(link->world, link);
}

int attach_struct_ops(struct world *w, struct process *proc, int prog_fd, long id, int ring_fd,
		      int (*reg)(struct world *, struct link *), void (*unreg)(struct world *, struct link *),
		      struct link **linkp)
{
	struct kfile *file = fget(prog_fd);

	if (!file)
		return -EBADF;
	if (file->kind != FILE_PROG) {
		fput(file);
		return -EINVAL;
	}
	struct link *link = world_alloc(w, sizeof(*link));

	link->world = w;
	link->prog = file->payload;
	link->id = id;
	link->ring_fd = ring_fd;
	link->unreg = unreg;
	atomic_init(&link->detached, false);
	int ret = reg(w, link);

	if (ret < 0) {
		fput(file);
		return ret;
	}
	get_program(link->prog);	/* the link's map reference (bpf_map_inc) */
	fput(file);
	file_init(&link->file, FILE_LINK, link, link_file_release);
	*linkp = link;
	return fd_install(&proc->fds, &link->file);
}

int detach_struct_ops(struct world *w, struct process *proc, int link_fd)
{
	struct kfile *file = fget(link_fd);

	(void)proc;
	if (!file)
		return -EBADF;
	if (file->kind != FILE_LINK) {
		fput(file);
		return -EINVAL;
	}
	link_detach(w, file->payload);
	fput(file);
	return 0;
}

/* ---- registration syscalls ---- */

struct reg_call {
	const struct reg_args *args;
	struct registration *out;
	const struct registration *reg;
};

static int do_register(struct world *w, struct process *proc, void *a)
{
	struct reg_call *c = a;

	return w->design->reg(w, proc, c->args, c->out);
}

int sys_register(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	struct reg_call c = { .args = args, .out = out };

	return syscall_run(w, proc, do_register, &c);
}

static int do_unregister(struct world *w, struct process *proc, void *a)
{
	return w->design->unreg(w, proc, ((struct reg_call *)a)->reg);
}

int sys_unregister(struct world *w, struct process *proc, const struct registration *reg)
{
	struct reg_call c = { .reg = reg };

	return syscall_run(w, proc, do_unregister, &c);
}

int sys_discover(struct world *w, struct process *proc, long *ids, int max)
{
	(void)proc;
	if (!w->design->discover)
		return -EOPNOTSUPP;
	return w->design->discover(w, ids, max);
}

/* ---- tasks and settling ---- */

static int do_drain(struct world *w, struct process *proc, void *a)
{
	(void)proc;
	(void)a;
	task_wait_event(requests_settled, tctx_of(w, current), NULL, NULL, true);
	return 0;
}

int world_drain_requests(struct world *w, struct process *proc)
{
	return syscall_run(w, proc, do_drain, NULL);
}

unsigned long world_task_requests(struct task *t)
{
	return t->io_uring ? tctx_inflight(t->io_uring) : 0;
}

struct task *world_task_new(struct world *w, struct process *proc)
{
	struct task *t = world_alloc(w, sizeof(*t));

	task_init(t, &w->tasks, TASK_USER, proc, &proc->fds);
	return t;
}

void world_task_exit(struct world *w, struct task *t)
{
	struct task *prev = current;

	current = t;
	task_enter_kernel(t);
	/* A thread that ends with requests in flight waits for them as exit would; then no more task work. */
	task_wait_event(requests_settled, tctx_of(w, t), NULL, NULL, true);
	exit_task_work();
	task_leave_kernel(t);
	current = prev;
}

/* What other threads would do while the driving thread waits: see world_settle(). */
static bool run_others(void *arg)
{
	struct world *w = arg;
	bool ran = wq_flush(&w->iowq);

	for (int i = 0; i < 2; i++) {
		struct task *t = &w->procs[i].main_task;

		if (atomic_load(&t->in_syscall) || atomic_load(&t->dead) || !task_work_pending(t))
			continue;
		task_run_work_as(t);
		ran = true;
	}
	return wq_flush(&w->kworker) || ran;
}

void world_settle(struct world *w)
{
	while (run_others(w))
		;
}

/* ---- the world ---- */

struct world *world_create(const struct design_def *design, const struct world_options *opts)
{
	struct world *w = must(calloc(1, sizeof(*w)));

	w->design = design;
	pthread_mutex_init(&w->objects_lock, NULL);
	pthread_mutex_init(&w->rcu_lock, NULL);
	if (fd_table_init(&w->init_files, 1) < 0)
		must(NULL);
	task_domain_init(&w->tasks, &w->init_files, opts->sequential);
	w->tasks.run_others = run_others;
	w->tasks.run_others_arg = w;
	w->tasks.kworker = &w->kworker;
	wq_init(&w->kworker, "kworker", &w->tasks, TASK_KWORKER, 1, opts->sequential);
	wq_init(&w->iowq, "io-wq", &w->tasks, TASK_IO_WORKER, opts->iowq_workers, opts->sequential || opts->iowq_gated);
	for (int i = 0; i < 2; i++) {
		struct process *p = &w->procs[i];

		p->pid = 100 + i;
		p->cap_bpf = true;
		p->alive = true;
		if (fd_table_init(&p->fds, opts->fd_limit) < 0)
			must(NULL);
		task_init(&p->main_task, &w->tasks, TASK_USER, p, &p->fds);
	}
	w->state = design->create(w);
	return w;
}

void world_destroy(struct world *w)
{
	/* What is still queued runs first: a program's grace period, a ring's exit work. */
	world_settle(w);
	wq_destroy(&w->iowq);
	wq_destroy(&w->kworker);
	w->design->destroy(w, w->state);
	for (struct io_ring_ctx *ring = w->rings; ring; ring = ring->all_next) {
		for (int i = 0; ring->fixed && i < ring->nfixed; i++)
			free(ring->fixed[i]);
		free(ring->fixed);
		pthread_mutex_destroy(&ring->uring_lock);
		pthread_mutex_destroy(&ring->wq_lock);
		pthread_cond_destroy(&ring->wq);
	}
	task_domain_destroy(&w->tasks);
	for (int i = 0; i < 2; i++)
		fd_table_destroy(&w->procs[i].fds);
	fd_table_destroy(&w->init_files);
	while (w->objects) {
		struct world_obj *obj = w->objects;

		w->objects = obj->next;
		free(obj);
	}
	free(w->programs);
	pthread_mutex_destroy(&w->rcu_lock);
	pthread_mutex_destroy(&w->objects_lock);
	free(w);
}
