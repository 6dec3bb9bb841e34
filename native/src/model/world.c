// SPDX-License-Identifier: MIT
/* The C world and io_uring core: see world.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "world.h"

_Thread_local struct process *current_proc;

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
	bool freed = atomic_load_explicit(&prog->magic, memory_order_acquire) != PROG_LIVE;
	int ret = 0;

	if (!program_has(prog, cb)) {
		/* A NULL callback pointer: an oops in the kernel, whatever the program's state. */
		atomic_fetch_add(&w->violations.null_calls, 1);
		log_event(w, (struct log_event){ .program = prog->id, .callback = cb, .null_call = true });
		return 0;
	}
	if (freed)
		atomic_fetch_add(&w->violations.freed_calls, 1);
	if (cb == CB_PREP)
		ret = prog->spec.prep_ret;
	if (cb == CB_ISSUE) {
		req->res = prog->spec.issue_res;
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

void put_program(struct world *w, struct program *prog)
{
	long old = atomic_fetch_sub_explicit(&prog->refs.count, 1, memory_order_acq_rel);

	if (old <= 0)
		atomic_fetch_add(&w->violations.ref_underflow, 1);
	if (old == 1)
		atomic_store_explicit(&prog->magic, PROG_POISON, memory_order_release);
}

static void prog_file_release(struct kfile *file)
{
	struct program *prog = file->payload;

	put_program(prog->world, prog);
}

int sys_load(struct world *w, struct process *proc, const struct prog_spec *spec)
{
	current_proc = proc;
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
	int fd = fd_install(&proc->fds, file);

	task_work_run();
	return fd;
}

/* ---- rings ---- */

struct io_ring_ctx *fget_ring(struct process *proc, int fd, struct kfile **file, int *err)
{
	struct kfile *f = fget(&proc->fds, fd);

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

void ring_wait(struct io_ring_ctx *ring, bool (*done)(void *), void *arg)
{
	pthread_mutex_lock(&ring->wq_lock);
	if (!done(arg))
		ring_waits_blocked++;
	while (!done(arg))
		pthread_cond_wait(&ring->wq, &ring->wq_lock);
	pthread_mutex_unlock(&ring->wq_lock);
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

/* io_ring_exit_work() once every request is freed: the design's part, then the fixed files. */
static void ring_free(void *arg)
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

static void ring_file_release(struct kfile *file)
{
	struct io_ring_ctx *ring = file->payload;

	/* Deferred fput: task work runs outside every uring_lock, so taking this one is safe. */
	pthread_mutex_lock(&ring->uring_lock);
	ring->dying = true;
	bool idle = ring->inflight == 0;

	pthread_mutex_unlock(&ring->uring_lock);
	if (idle)
		ring_free(ring);
}

int sys_setup(struct world *w, struct process *proc, bool bpf)
{
	current_proc = proc;
	struct io_ring_ctx *ring = world_alloc(w, sizeof(*ring));

	ring->owner = proc;
	ring->bpf = bpf;
	ring->world = w;
	pthread_mutex_init(&ring->uring_lock, NULL);
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
	ret = fd_install(&proc->fds, &ring->file);
	task_work_run();
	return ret;
}

/* ---- requests ---- */

static struct req *req_alloc(struct io_ring_ctx *ring)
{
	struct req *req = ring->free_reqs;

	if (req)
		ring->free_reqs = req->next;
	else
		req = must(malloc(sizeof(*req)));
	ring->inflight++;	/* uring_lock held */
	return req;
}

static void post_cqe(struct io_ring_ctx *ring, struct req *req, int res)
{
	unsigned tail = atomic_load_explicit(&ring->cq_tail, memory_order_relaxed);

	if (tail - atomic_load_explicit(&ring->cq_head, memory_order_acquire) >= RING_CQ_ENTRIES) {
		ring->cq_overflow++;
		return;
	}
	ring->cq[tail % RING_CQ_ENTRIES] = (struct cqe){ .user_data = req->sqe.user_data, .res = res };
	atomic_store_explicit(&ring->cq_tail, tail + 1, memory_order_release);
}

/* io_free_batch_list(), uring_lock held: ->cleanup() if flagged, then the file and node. */
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
	req->next = ring->free_reqs;
	ring->free_reqs = req;
	if (--ring->inflight == 0 && ring->dying)
		task_work_add(ring_free, ring);	/* not under uring_lock: ring_free takes other locks */
}

/* io_req_defer_failed(): ->fail(), then a CQE with the error, then free. */
static void fail_request(struct world *w, struct req *req, int ret)
{
	w->design->fail(w, req);
	post_cqe(req->ring, req, ret);
	free_request(w, req);
}

static void park(struct req *req)
{
	req->state = REQ_PARKED;
	req->next = req->ring->parked;
	req->ring->parked = req;
}

struct punted {
	struct req *head, **tail;
};

static void punt(struct punted *list, struct req *req)
{
	req->state = REQ_QUEUED;
	req->next = NULL;
	*list->tail = req;
	list->tail = &req->next;
}

/*
 * io-wq: each punted request is issued without uring_lock (io_wq_submit_work);
 * the completions then run as the submitter's task work, in order, under one
 * uring_lock, as task work batches them.
 */
static void io_wq_run(struct world *w, struct io_ring_ctx *ring, struct req *punted)
{
	for (struct req *req = punted; req; req = req->next) {
		req->state = REQ_ISSUED;
		req->wq_ret = w->design->issue(w, req, true);
	}
	pthread_mutex_lock(&ring->uring_lock);
	for (struct req *req = punted, *next; req; req = next) {
		next = req->next;	/* parking or freeing reuses the link */
		if (req->wq_ret == IOU_ISSUE_SKIP_COMPLETE)
			park(req);
		else if (req->wq_ret == IOU_COMPLETE) {
			post_cqe(ring, req, req->res);
			free_request(w, req);
		} else {
			fail_request(w, req, req->wq_ret);	/* -EAGAIN is final on io-wq */
		}
	}
	pthread_mutex_unlock(&ring->uring_lock);
}

void io_submit_batch(struct world *w, struct process *proc, struct io_ring_ctx *ring, const struct sqe *sqes, unsigned n)
{
	struct punted punted = { .head = NULL, .tail = &punted.head };

	pthread_mutex_lock(&ring->uring_lock);
	for (unsigned i = 0; i < n; i++) {
		struct req *req = req_alloc(ring);

		*req = (struct req){ .ring = ring, .submitter = proc, .sqe = sqes[i], .state = REQ_PREP };
		int ret = w->design->prep(w, req);

		if (ret) {
			fail_request(w, req, ret);
		} else if (req->sqe.async) {
			punt(&punted, req);
		} else {
			req->state = REQ_ISSUED;
			ret = w->design->issue(w, req, false);
			if (ret == IOU_COMPLETE) {
				post_cqe(ring, req, req->res);
				free_request(w, req);
			} else if (ret == IOU_ISSUE_SKIP_COMPLETE) {
				park(req);
			} else if (ret == -EAGAIN) {
				punt(&punted, req);
			} else {
				fail_request(w, req, ret);
			}
		}
	}
	pthread_mutex_unlock(&ring->uring_lock);
	if (punted.head)
		io_wq_run(w, ring, punted.head);
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

int sys_submit(struct world *w, struct process *proc, int ring_fd, const struct sqe *sqes, unsigned n)
{
	struct kfile *file;
	int err = 0;

	current_proc = proc;
	struct io_ring_ctx *ring = fget_ring(proc, ring_fd, &file, &err);

	if (!ring)
		return err;
	io_submit_batch(w, proc, ring, sqes, n);
	fput(file);
	task_work_run();
	return (int)n;
}

int sys_reap(struct world *w, struct process *proc, int ring_fd, struct cqe *out, int max)
{
	struct kfile *file;
	int err = 0;

	(void)w;
	current_proc = proc;
	struct io_ring_ctx *ring = fget_ring(proc, ring_fd, &file, &err);

	if (!ring)
		return err;
	int n = io_reap(ring, out, max);

	fput(file);
	task_work_run();
	return n;
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

int sys_close(struct world *w, struct process *proc, int fd)
{
	(void)w;
	current_proc = proc;
	int ret = close_fd(proc, fd);

	task_work_run();
	return ret;
}

int sys_pass_fd(struct world *w, struct process *from, int fd, struct process *to)
{
	(void)w;
	current_proc = from;
	struct kfile *file = fget(&from->fds, fd);
	int ret = file ? fd_install(&to->fds, file) : -EBADF;

	task_work_run();
	return ret;
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
	struct kfile *file = fget(&proc->fds, prog_fd);

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
	struct kfile *file = fget(&proc->fds, link_fd);

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

int sys_register(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	current_proc = proc;
	int ret = w->design->reg(w, proc, args, out);

	task_work_run();
	return ret;
}

int sys_unregister(struct world *w, struct process *proc, const struct registration *reg)
{
	current_proc = proc;
	int ret = w->design->unreg(w, proc, reg);

	task_work_run();
	return ret;
}

int sys_discover(struct world *w, struct process *proc, long *ids, int max)
{
	current_proc = proc;
	if (!w->design->discover)
		return -EOPNOTSUPP;
	return w->design->discover(w, ids, max);
}

/* ---- the world ---- */

struct world *world_create(const struct design_def *design, int fd_limit)
{
	struct world *w = must(calloc(1, sizeof(*w)));

	w->design = design;
	pthread_mutex_init(&w->objects_lock, NULL);
	for (int i = 0; i < 2; i++) {
		w->procs[i].pid = 100 + i;
		w->procs[i].cap_bpf = true;
		if (fd_table_init(&w->procs[i].fds, fd_limit) < 0)
			must(NULL);
	}
	w->state = design->create(w);
	return w;
}

static void free_reqs(struct req *req)
{
	while (req) {
		struct req *next = req->next;

		free(req);
		req = next;
	}
}

void world_destroy(struct world *w)
{
	w->design->destroy(w, w->state);
	for (struct io_ring_ctx *ring = w->rings; ring; ring = ring->all_next) {
		free_reqs(ring->free_reqs);
		free_reqs(ring->parked);
		for (int i = 0; ring->fixed && i < ring->nfixed; i++)
			free(ring->fixed[i]);
		free(ring->fixed);
		pthread_mutex_destroy(&ring->uring_lock);
		pthread_mutex_destroy(&ring->wq_lock);
		pthread_cond_destroy(&ring->wq);
	}
	for (int i = 0; i < 2; i++)
		fd_table_destroy(&w->procs[i].fds);
	while (w->objects) {
		struct world_obj *obj = w->objects;

		w->objects = obj->next;
		free(obj);
	}
	free(w->programs);
	pthread_mutex_destroy(&w->objects_lock);
	free(w);
}
