// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "../standins.h"
#include "design.h"
#include "lane.h"

/* The io_uring core with no program lookup at all: what every design adds to. */
static int core_prep(struct world *w, struct req *req)
{
	(void)w;
	(void)req;
	return 0;
}

static int core_issue(struct world *w, struct req *req, bool unlocked)
{
	(void)w;
	(void)unlocked;
	req->res = 0;
	return 0;
}

static void core_nothing(struct world *w, struct req *req)
{
	(void)w;
	(void)req;
}

static int core_ring_created(struct world *w, struct io_ring_ctx *ring)
{
	(void)w;
	(void)ring;
	return 0;
}

static int core_reg(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	(void)w;
	(void)proc;
	*out = (struct registration){ .name = { NAME_ID, args->id }, .link_fd = -1, .ring_fd = -1 };
	return 0;
}

static void core_target(const struct prog_name *name, struct sqe *sqe)
{
	(void)name;
	*sqe = (struct sqe){ .fd = -1 };
}

static const struct design_def core_def = {
	.name = NW_CORE_DESIGN,
	.name_kind = NAME_ID,
	.scope = SCOPE_PROCESS,
	.id_min = 0,
	.id_max = 0x7fffffff,
	.create = design_no_state,
	.destroy = design_free_no_state,
	.ring_created = core_ring_created,
	.ring_freed = design_ring_freed_noop,
	.prep = core_prep,
	.issue = core_issue,
	.fail = core_nothing,
	.cleanup = core_nothing,
	.reg = core_reg,
	.target = core_target,
};

/* One workload's world and the programs every ring shares. */
struct variant {
	const struct nw_workload *wl;
	const struct design_def *design;
	struct world *w;
	pthread_mutex_t lock;
	int shared_ready;
	int *shared_fds;			/* [programs]: loaded in process 0 */
	struct registration shared_last;	/* global designs: the last shared registration */
};

struct lane {
	struct variant *variants;
	int nvariants;
	int max_threads;
};

/* One worker's view of a variant. */
struct worker_ctx {
	struct variant *v;
	struct standin_ctx *real;	/* the real ring of the ring loops */
	struct io_ring_ctx *ring;		/* the model ring, held like a registered ring fd */
	struct process *proc;
	/*
	 * This thread as a task of the variant's process. The timed loop calls
	 * the io_uring core directly, not through a syscall, so RCU-tasks never
	 * sees it in the kernel: nothing is freed while the lane times.
	 */
	struct task *task;
	struct sqe sqes[STANDIN_MAX_BATCH];
	struct cqe cqes[STANDIN_MAX_BATCH];
};

static long capacity(const struct design_def *d)
{
	return d->id_max < 0 ? 0x7fffffff : d->id_max - d->id_min + 1;
}

static const struct prog_spec plain_program = {
	.has_prep = true, .has_issue = true, .has_fail = true, .has_cleanup = true,
};

/* Loads `n` programs into `proc`; their fds go to `fds`. 0 or -errno. */
static int load_programs(struct world *w, struct process *proc, int n, int *fds)
{
	for (int i = 0; i < n; i++) {
		fds[i] = sys_load(w, proc, &plain_program);
		if (fds[i] < 0)
			return fds[i];
	}
	return 0;
}

/* Registers fds[0..n) at ids first.. (ring designs: on ring_fd); the last name goes to *last. */
static int register_programs(struct world *w, struct process *proc, const int *fds, int n, long first,
			     int ring_fd, struct registration *last)
{
	for (int i = 0; i < n; i++) {
		struct reg_args args = { .prog_fd = fds[i], .ring_fd = ring_fd, .id = w->design->kernel_ids ? -1 : first + i };
		int ret = sys_register(w, proc, &args, last);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The shared programs: loaded once per variant, registered once when the namespace is global. */
static int prepare_shared(struct variant *v)
{
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	if (!v->shared_ready) {
		struct process *proc = &v->w->procs[0];

		ret = load_programs(v->w, proc, v->wl->programs, v->shared_fds);
		if (ret == 0 && v->design->scope == SCOPE_GLOBAL)
			ret = register_programs(v->w, proc, v->shared_fds, v->wl->programs, v->design->id_min, -1,
						&v->shared_last);
		v->shared_ready = ret == 0 ? 1 : ret;
	}
	ret = v->shared_ready == 1 ? 0 : v->shared_ready;
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* Registers what `worker` names and returns that name: the last (deepest) program. */
static int name_programs(struct worker_ctx *c, int worker, int ring_fd, struct registration *name)
{
	struct variant *v = c->v;
	const struct design_def *d = v->design;
	int n = v->wl->programs;
	int ret;

	if (!v->wl->own) {
		ret = prepare_shared(v);
		if (ret < 0)
			return ret;
		if (d->scope == SCOPE_GLOBAL) {
			*name = v->shared_last;
			return 0;
		}
		return register_programs(v->w, c->proc, v->shared_fds, n, d->id_min, ring_fd, name);
	}
	/* Each ring its own programs: in a global namespace, each worker takes its own id range. */
	long first = d->scope == SCOPE_GLOBAL ? d->id_min + (long)worker * n : d->id_min;

	if (d->scope == SCOPE_GLOBAL && first - d->id_min + n > capacity(d))
		return -ENOSPC;
	int *fds = malloc((size_t)n * sizeof(*fds));

	if (!fds)
		return -ENOMEM;
	ret = load_programs(v->w, c->proc, n, fds);
	if (ret == 0)
		ret = register_programs(v->w, c->proc, fds, n, first, ring_fd, name);
	free(fds);
	return ret;
}

static int setup(void *arg, int worker, int index, void **ctxp)
{
	struct lane *lane = arg;
	struct variant *v = &lane->variants[index];
	struct worker_ctx *c = calloc(1, sizeof(*c));
	int ret = 0;

	if (!c)
		return -ENOMEM;
	c->v = v;
	if (v->wl->loop == NW_LOOP_RING || v->wl->loop == NW_LOOP_RING_ONLY) {
		c->real = calloc(1, sizeof(*c->real));
		if (!c->real) {
			free(c);
			return -ENOMEM;
		}
		standin_setup(c->real, &standin_defs[standin_find("nop")], -1);
		ret = c->real->error;
	}
	if (ret == 0 && v->wl->loop != NW_LOOP_RING_ONLY) {
		struct registration name;
		struct kfile *file;
		struct ring_options opts = { .bpf = v->design->setup_flag };

		c->proc = &v->w->procs[0];
		c->task = world_task_new(v->w, c->proc);
		current = c->task;
		int ring_fd = sys_setup(v->w, c->proc, &opts);

		ret = ring_fd;
		if (ring_fd >= 0) {
			/* Like a registered ring fd: a reference kept for the whole run (the fget is this task's). */
			task_enter_kernel(c->task);
			c->ring = fget_ring(ring_fd, &file, &ret);
			task_leave_kernel(c->task);
		}
		if (c->ring)
			ret = name_programs(c, worker, ring_fd, &name);
		for (int i = 0; ret == 0 && i < STANDIN_MAX_BATCH; i++) {
			v->design->target(&name.name, &c->sqes[i]);
			c->sqes[i].user_data = (uint64_t)i;
			c->sqes[i].async = v->wl->loop == NW_LOOP_IOWQ;
		}
	}
	if (ret < 0) {
		if (c->real)
			standin_teardown(c->real);
		free(c->real);
		free(c);
		return ret;
	}
	*ctxp = c;
	return 0;
}

static long long run(void *ctxp, unsigned batch, unsigned long iters)
{
	struct worker_ctx *c = ctxp;
	struct world *w = c->v->w;

	current = c->task;
	long long start = clock_now_ns();

	for (unsigned long it = 0; it < iters; it++) {
		if (c->real) {
			int ret = standin_batch(c->real, batch);

			if (ret < 0)
				return ret;
		}
		if (!c->ring)
			continue;
		io_submit_batch(w, c->ring, c->sqes, batch);
		task_work_run();
		int n = io_reap(c->ring, c->cqes, STANDIN_MAX_BATCH);

		if (n != (int)batch)
			return -EIO;
		for (int i = 0; i < n; i++)
			if (c->cqes[i].res != 0)
				return c->cqes[i].res < 0 ? c->cqes[i].res : -EIO;
	}
	return clock_now_ns() - start;
}

static void teardown(void *arg, void *ctxp)
{
	struct worker_ctx *c = ctxp;

	(void)arg;
	if (c->real) {
		standin_teardown(c->real);
		free(c->real);
	}
	free(c);
}

static void free_variants(struct lane *lane)
{
	for (int i = 0; i < lane->nvariants; i++) {
		struct variant *v = &lane->variants[i];

		if (v->w)
			world_destroy(v->w);
		free(v->shared_fds);
		pthread_mutex_destroy(&v->lock);
	}
	free(lane->variants);
}

int nw_lane_run(const struct nw_workload *workloads, int nworkloads, struct pool_plan *plan, char *err,
		size_t errlen)
{
	struct lane lane = { .nvariants = nworkloads, .max_threads = 1 };
	struct pool_variants pv = { .count = nworkloads, .arg = &lane, .setup = setup, .run = run, .teardown = teardown };

	for (int i = 0; i < plan->ncells; i++)
		if (plan->cells[i].threads > lane.max_threads)
			lane.max_threads = plan->cells[i].threads;
	lane.variants = calloc((size_t)nworkloads + 1, sizeof(*lane.variants));
	if (!lane.variants) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < nworkloads; i++) {
		struct variant *v = &lane.variants[i];
		const struct nw_workload *wl = &workloads[i];

		pthread_mutex_init(&v->lock, NULL);
		v->wl = wl;
		if (wl->loop == NW_LOOP_RING_ONLY)
			continue;	/* no design: the real ring alone */
		v->design = strcmp(wl->design, NW_CORE_DESIGN) == 0 ? &core_def : design_find(wl->design);
		if (!v->design || wl->programs < 1) {
			snprintf(err, errlen, "unknown design '%s' or no programs", wl->design);
			lane.nvariants = i + 1;
			free_variants(&lane);
			return -1;
		}
		/* Program fds and link fds of every worker fit in process 0's table; io-wq runs inline (lane.h). */
		struct world_options opts = { .fd_limit = 2 * wl->programs * lane.max_threads + 64 };

		v->w = world_create(v->design, &opts);
		v->shared_fds = calloc((size_t)wl->programs, sizeof(int));
		if (!v->shared_fds) {
			snprintf(err, errlen, "out of memory");
			lane.nvariants = i + 1;
			free_variants(&lane);
			return -1;
		}
	}
	int ret = pool_run(&pv, plan, err, errlen);

	free_variants(&lane);
	return ret;
}
