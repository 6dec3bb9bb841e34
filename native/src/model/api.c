// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "design.h"
#include "nw_world.h"


static struct world *W(struct nw_world *nw)
{
	return &nw->w;
}

static struct process *P(struct nw_world *nw, int proc)
{
	return &nw->w.procs[proc ? 1 : 0];
}

int nw_design_count(void)
{
	return design_count;
}

int nw_design_info(int i, struct nw_design_info *out)
{
	if (i < 0 || i >= design_count)
		return -1;
	const struct design_def *d = design_defs[i];

	*out = (struct nw_design_info){
		.name = d->name, .name_kind = (int)d->name_kind, .scope = (int)d->scope, .id_min = d->id_min, .id_max = d->id_max,
		.setup_flag = d->setup_flag, .discovery = d->discovery,
	};
	return 0;
}

struct nw_world *nw_create(const char *name, int fd_limit, int sequential)
{
	const struct design_def *d = design_find(name);

	if (!d)
		return NULL;
	struct world_options opts = { .fd_limit = fd_limit, .sequential = sequential != 0, .iowq_workers = sequential ? 1 : 2 };
	struct world *w = world_create(d, &opts);

	w->count_calls = sequential != 0;
	w->log_enabled = sequential != 0;
	return (struct nw_world *)w;
}

void nw_destroy(struct nw_world *w)
{
	world_destroy(W(w));
}

int nw_load(struct nw_world *w, int proc, const struct nw_spec *s)
{
	struct prog_spec spec = {
		.has_prep = s->has_prep, .prep_ret = s->prep_ret, .has_issue = s->has_issue,
		.issue_res = s->issue_res, .issue_ret = s->issue_ret, .has_fail = s->has_fail,
		.has_cleanup = s->has_cleanup,
	};

	return sys_load(W(w), P(w, proc), &spec);
}

int nw_setup(struct nw_world *nw, int proc, int bpf, const struct nw_residue *residue)
{
	struct world *w = W(nw);
	struct ring_options opts = { .bpf = bpf != 0 };

	if (residue) {
		int ops = residue->ops;

		opts.residue = (struct req_residue){
			.op = residue->op, .res = residue->res,
			.ops = ops > 0 && ops <= w->nprograms ? w->programs[ops - 1] : NULL,
		};
	}
	return sys_setup(w, P(nw, proc), &opts);
}

static struct registration from_nw(const struct nw_registration *r)
{
	return (struct registration){
		.name = { (enum name_kind)r->kind, r->value }, .link_fd = r->link_fd, .ring_fd = r->ring_fd,
	};
}

int nw_register(struct nw_world *w, int proc, int prog_fd, int ring_fd, long id, struct nw_registration *out)
{
	struct reg_args args = { .prog_fd = prog_fd, .ring_fd = ring_fd, .id = id };
	struct registration reg;
	int ret = sys_register(W(w), P(w, proc), &args, &reg);

	if (ret == 0)
		*out = (struct nw_registration){
			.kind = (int)reg.name.kind, .value = reg.name.value, .link_fd = reg.link_fd, .ring_fd = reg.ring_fd,
		};
	return ret;
}

int nw_unregister(struct nw_world *w, int proc, const struct nw_registration *r)
{
	struct registration reg = from_nw(r);

	return sys_unregister(W(w), P(w, proc), &reg);
}

static struct sqe sqe_from(const struct nw_sqe *s)
{
	return (struct sqe){
		.bpf_op_flags = s->bpf_op_flags, .fd = s->fd, .fixed_file = s->fixed_file != 0,
		.async = s->async != 0, .user_data = s->user_data,
	};
}

int nw_submit(struct nw_world *w, int proc, int ring_fd, const struct nw_sqe *sqes, int n)
{
	struct sqe batch[256];

	if (n < 0 || n > 256)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		batch[i] = sqe_from(&sqes[i]);
	return sys_submit(W(w), P(w, proc), ring_fd, batch, (unsigned)n);
}

int nw_reap(struct nw_world *w, int proc, int ring_fd, struct nw_cqe *out, int max)
{
	struct cqe cqes[256];
	int n = sys_reap(W(w), P(w, proc), ring_fd, cqes, max < 256 ? max : 256);

	for (int i = 0; i < n; i++)
		out[i] = (struct nw_cqe){ .user_data = cqes[i].user_data, .res = cqes[i].res };
	return n;
}

int nw_close(struct nw_world *w, int proc, int fd)
{
	return sys_close(W(w), P(w, proc), fd);
}

int nw_pass_fd(struct nw_world *w, int from, int fd, int to)
{
	return sys_pass_fd(W(w), P(w, from), fd, P(w, to));
}

int nw_discover(struct nw_world *w, int proc, long *ids, int max)
{
	return sys_discover(W(w), P(w, proc), ids, max);
}

int nw_exit(struct nw_world *w, int proc)
{
	return sys_exit(W(w), P(w, proc));
}

void nw_settle(struct nw_world *w)
{
	world_settle(W(w));
}

void nw_target(struct nw_world *w, const struct nw_registration *r, struct nw_sqe *out)
{
	struct registration reg = from_nw(r);
	struct sqe sqe = sqe_from(out);

	W(w)->design->target(&reg.name, &sqe);
	out->bpf_op_flags = sqe.bpf_op_flags;
	out->fd = sqe.fd;
	out->fixed_file = sqe.fixed_file;
}

int nw_programs(struct nw_world *nw, struct nw_program *out, int max)
{
	struct world *w = W(nw);
	int n = w->nprograms < max ? w->nprograms : max;

	for (int i = 0; i < n; i++) {
		struct program *p = w->programs[i];

		unsigned magic = atomic_load(&p->magic);

		out[i] = (struct nw_program){
			.id = p->id, .released = magic != PROG_LIVE, .freed = magic == PROG_POISON,
			.refs = kref_read(&p->refs),
		};
		for (int cb = 0; cb < CB_COUNT; cb++)
			out[i].calls[cb] = atomic_load(&p->calls[cb]);
	}
	return n;
}

int nw_fds(struct nw_world *nw, int proc, struct nw_fd *out, int max)
{
	struct fd_table *t = &P(nw, proc)->fds;
	int n = 0;

	for (int fd = 0; fd < t->limit && n < max; fd++) {
		struct kfile *f = fd_peek(t, fd);

		if (!f)
			continue;
		int object = f->kind == FILE_PROG ? ((struct program *)f->payload)->id
			     : f->kind == FILE_LINK ? ((struct link *)f->payload)->prog->id
						    : ((struct io_ring_ctx *)f->payload)->id;

		out[n++] = (struct nw_fd){ .fd = fd, .kind = f->kind, .object = object };
	}
	return n;
}

void nw_violations(struct nw_world *nw, struct nw_violations *out)
{
	struct violations *v = &W(nw)->violations;

	*out = (struct nw_violations){
		.freed_calls = atomic_load(&v->freed_calls), .null_calls = atomic_load(&v->null_calls),
		.ref_underflow = atomic_load(&v->ref_underflow), .oob = atomic_load(&v->oob),
		.lost_requests = atomic_load(&v->lost_requests), .null_derefs = world_oopses(W(nw)),
		.stale_freed_calls = atomic_load(&v->stale_freed_calls),
	};
}

int nw_take_log(struct nw_world *nw, struct nw_log_event *out, int max)
{
	struct world *w = W(nw);

	pthread_mutex_lock(&w->objects_lock);
	int n = w->nlog < max ? w->nlog : max;

	for (int i = 0; i < n; i++)
		out[i] = (struct nw_log_event){
			.program = w->log[i].program, .callback = w->log[i].callback,
			.null_call = w->log[i].null_call, .freed = w->log[i].freed,
		};
	w->nlog = 0;
	pthread_mutex_unlock(&w->objects_lock);
	return n;
}

int nw_take_cqes(struct nw_world *nw, struct nw_cqe_seen *out, int max)
{
	struct world *w = W(nw);
	int nrings = 0, n = 0;

	for (struct io_ring_ctx *ring = w->rings; ring; ring = ring->all_next)
		nrings++;
	struct io_ring_ctx **rings = calloc((size_t)nrings + 1, sizeof(*rings));

	if (!rings)
		return -ENOMEM;
	/* w->rings is newest first. */
	int i = nrings;

	for (struct io_ring_ctx *ring = w->rings; ring; ring = ring->all_next)
		rings[--i] = ring;
	for (i = 0; i < nrings && n < max; i++) {
		struct cqe cqes[64];
		int got;

		if (rings[i]->id == 0)
			continue;	/* a refused setup */
		while (n < max && (got = io_reap(rings[i], cqes, max - n < 64 ? max - n : 64)) > 0)
			for (int k = 0; k < got; k++)
				out[n++] = (struct nw_cqe_seen){ .ring = rings[i]->id, .user_data = cqes[k].user_data, .res = cqes[k].res };
	}
	free(rings);
	return n;
}
