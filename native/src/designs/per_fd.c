// SPDX-License-Identifier: MIT
/*
 * D4 per-fd (94f94f0e-7086-4f44-a658-9cb3b5496faf@samba.org,
 * CADUfDZqpTSihuYnTqUbtctrX4OGT7Szr-_wWb4xLgg11RcwYkA@mail.gmail.com), the
 * C twin of designs/per-fd.ts: the SQE's fd names a program in the
 * submitter's fd table; prep does fget (an atomic reference on the shared
 * struct file) and the request holds it until freed. Unregister is close().
 */
#include <errno.h>

#include "cached_ops.h"
#include "per_fd.h"

int per_fd_ring_created(struct world *w, struct io_ring_ctx *ring)
{
	(void)w;
	/* No setup flag exists for the fd designs: the kernel rejects unknown flags. */
	return ring->bpf ? -EINVAL : 0;
}

void per_fd_target(const struct prog_name *name, struct sqe *sqe)
{
	sqe->bpf_op_flags = 0;
	sqe->fd = (int)name->value;
	sqe->fixed_file = name->kind == NAME_FIXED;
}

/* Nothing to register: the fd the program was loaded (or received) at is its name. */
static int reg(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	(void)w;
	(void)proc;
	*out = (struct registration){ .name = { NAME_FD, args->prog_fd }, .link_fd = -1, .ring_fd = -1 };
	return 0;
}

static int unreg(struct world *w, struct process *proc, const struct registration *r)
{
	(void)w;
	if (r->name.kind != NAME_FD)
		return -EINVAL;
	return close_fd(proc, (int)r->name.value);
}

const struct design_def per_fd_def = {
	.name = "per-fd",
	.name_kind = NAME_FD,
	.scope = SCOPE_PROCESS,
	.id_min = 0,
	.id_max = -1,
	.create = design_no_state,
	.destroy = design_free_no_state,
	.ring_created = per_fd_ring_created,
	.ring_freed = design_ring_freed_noop,
	.prep = cached_prep_from_fd,
	.issue = cached_issue,
	.fail = cached_fail,
	.cleanup = cached_cleanup,
	.reg = reg,
	.unreg = unreg,
	.target = per_fd_target,
};
