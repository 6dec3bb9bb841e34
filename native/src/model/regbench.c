// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "design.h"
#include "regbench.h"

struct nw_regbench {
	struct world *w;
	struct process *proc;
	int nrings;
	int *ring_fds;
	int prog_fd;
	/* What the current registration made: one per call (links, fixed slots, the dup'd fd). */
	struct registration *regs;
	int nregs;
	int named;	/* regs[0..named): the last registration's, kept after it is undone for the probe */
};

static const struct prog_spec program = {
	.has_prep = true, .has_issue = true, .issue_res = NW_REGBENCH_RES, .has_fail = true, .has_cleanup = true,
};

int nw_regbench_calls(const struct nw_regbench *b)
{
	return b->w->design->scope == SCOPE_RING ? b->nrings : 1;
}

struct nw_regbench *nw_regbench_create(const char *name, int nrings, int *err)
{
	const struct design_def *d = design_find(name);

	*err = -ENOENT;
	if (!d)
		return NULL;
	*err = -EINVAL;
	if (nrings < 1)
		return NULL;
	struct nw_regbench *b = calloc(1, sizeof(*b));

	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	/* RLIMIT_NOFILE: the rings, one link per ring (per-ctx), the program and its dup. */
	struct world_options opts = { .fd_limit = 2 * nrings + 16, .sequential = true, .iowq_workers = 1 };

	b->w = world_create(d, &opts);
	b->proc = &b->w->procs[0];
	b->nrings = nrings;
	b->ring_fds = calloc((size_t)nrings, sizeof(*b->ring_fds));
	b->regs = calloc((size_t)nrings, sizeof(*b->regs));
	if (!b->ring_fds || !b->regs) {
		nw_regbench_destroy(b);
		*err = -ENOMEM;
		return NULL;
	}
	struct ring_options ring = { .bpf = d->setup_flag };

	for (int i = 0; i < nrings; i++) {
		b->ring_fds[i] = sys_setup(b->w, b->proc, &ring);
		if (b->ring_fds[i] < 0) {
			*err = b->ring_fds[i];
			nw_regbench_destroy(b);
			return NULL;
		}
	}
	b->prog_fd = sys_load(b->w, b->proc, &program);
	if (b->prog_fd < 0) {
		*err = b->prog_fd;
		nw_regbench_destroy(b);
		return NULL;
	}
	*err = 0;
	return b;
}

void nw_regbench_destroy(struct nw_regbench *b)
{
	if (b->w)
		world_destroy(b->w);
	free(b->ring_fds);
	free(b->regs);
	free(b);
}

/* The first id the design names (global-alloc picks its own). */
static long first_id(const struct design_def *d)
{
	return d->kernel_ids ? -1 : d->id_min;
}

int nw_regbench_register(struct nw_regbench *b)
{
	const struct design_def *d = b->w->design;
	int ret;

	if (b->nregs)
		return -EBUSY;
	switch (d->scope) {
	case SCOPE_GLOBAL: {
		struct reg_args args = { .prog_fd = b->prog_fd, .ring_fd = -1, .id = first_id(d) };

		ret = sys_register(b->w, b->proc, &args, &b->regs[0]);
		if (ret == 0)
			b->nregs = b->named = 1;
		return ret;
	}
	case SCOPE_RING:
		for (int i = 0; i < b->nrings; i++) {
			struct reg_args args = { .prog_fd = b->prog_fd, .ring_fd = b->ring_fds[i], .id = first_id(d) };

			ret = sys_register(b->w, b->proc, &args, &b->regs[i]);
			if (ret < 0)
				return ret;
			b->nregs = b->named = i + 1;
		}
		return 0;
	default: {
		/* per-fd: the program's fd arriving in the table (SCM_RIGHTS, a dup); the design's reg() is a no-op. */
		int fd = sys_pass_fd(b->w, b->proc, b->prog_fd, b->proc);
		struct reg_args args = { .prog_fd = fd, .ring_fd = -1, .id = -1 };

		if (fd < 0)
			return fd;
		ret = sys_register(b->w, b->proc, &args, &b->regs[0]);
		if (ret < 0) {
			sys_close(b->w, b->proc, fd);
			return ret;
		}
		b->nregs = b->named = 1;
		return 0;
	}
	}
}

int nw_regbench_unregister(struct nw_regbench *b)
{
	int first = 0;

	for (int i = 0; i < b->nregs; i++) {
		int ret = sys_unregister(b->w, b->proc, &b->regs[i]);

		/* A link is released by its last close: the user closes it after the detach. */
		if (b->regs[i].link_fd >= 0) {
			int closed = sys_close(b->w, b->proc, b->regs[i].link_fd);

			ret = ret < 0 ? ret : closed;
		}
		if (ret < 0 && first == 0)
			first = ret;
	}
	b->nregs = 0;
	return first;
}

int nw_regbench_probe(struct nw_regbench *b)
{
	int ran = 0;

	if (b->named == 0)
		return -EINVAL;
	for (int i = 0; i < b->nrings; i++) {
		struct sqe sqe = { .user_data = (uint64_t)i + 1 };
		struct cqe cqe[4];

		/* One name for every ring, or ring i's own (per-ctx, per-fd-fixed). */
		b->w->design->target(&b->regs[b->named > 1 ? i : 0].name, &sqe);
		int ret = sys_submit(b->w, b->proc, b->ring_fds[i], &sqe, 1);

		if (ret < 0)
			return ret;
		world_settle(b->w);
		int n = sys_reap(b->w, b->proc, b->ring_fds[i], cqe, 4);

		for (int k = 0; k < n; k++)
			ran += cqe[k].user_data == (uint64_t)i + 1 && cqe[k].res == NW_REGBENCH_RES;
	}
	return ran;
}

int nw_regbench_time(struct nw_regbench *b, int reps, double *reg_ns, double *unreg_ns)
{
	for (int i = 0; i < reps; i++) {
		long long t0 = clock_now_ns();
		int ret = nw_regbench_register(b);
		long long t1 = clock_now_ns();

		if (ret < 0)
			return ret;
		ret = nw_regbench_unregister(b);
		long long t2 = clock_now_ns();

		if (ret < 0)
			return ret;
		/* What the calls left for io-wq and the kworker (a released program's grace period), untimed. */
		world_settle(b->w);
		reg_ns[i] = (double)(t1 - t0);
		unreg_ns[i] = (double)(t2 - t1);
	}
	return 0;
}
