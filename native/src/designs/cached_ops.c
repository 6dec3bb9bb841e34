// SPDX-License-Identifier: MIT
#include <errno.h>

#include "cached_ops.h"

int cached_prep_with(struct world *w, struct req *req, struct program *prog)
{
	req->ops = prog;
	req->ops_from_prep = true;
	if (!program_has(prog, CB_PREP))
		return -EOPNOTSUPP;
	return call_program(w, req, prog, CB_PREP);
}

int cached_prep_from_file(struct world *w, struct req *req, struct kfile *file)
{
	/* bpf_prog_get_type(): anything but a program is -EINVAL. */
	if (file->kind != FILE_PROG)
		return -EINVAL;
	int ret = cached_prep_with(w, req, file->payload);

	if (ret == 0)
		req->flags |= REQ_F_NEED_CLEANUP;
	return ret;
}

int cached_prep_from_fd(struct world *w, struct req *req)
{
	struct kfile *file = fget(req->sqe.fd);	/* prep runs in the submitter: its files */

	if (!file)
		return -EBADF;
	req->file = file;
	return cached_prep_from_file(w, req, file);
}

/*
 * A callback of the ops pointer prep cached: data->ops->fn, tested and then
 * called. The value's fields never change, so both loads agree; the value
 * itself may be gone if the pointer outlived the task's stay in the kernel.
 */
static struct program *cached_fn(struct req *req, enum callback cb)
{
	return req->ops && program_has(req->ops, cb) ? req->ops : NULL;
}

int cached_issue(struct world *w, struct req *req, bool unlocked)
{
	(void)unlocked;
	if (!cached_fn(req, CB_ISSUE))
		return 0;	/* IOU_COMPLETE with whatever result the request holds */
	int ret = call_program(w, req, cached_fn(req, CB_ISSUE), CB_ISSUE);

	return ret == IOU_ISSUE_SKIP_COMPLETE ? -EINVAL : ret;
}

void cached_fail(struct world *w, struct req *req)
{
	struct program *fn = cached_fn(req, CB_FAIL);

	if (!fn)
		return;
	if (!req->ops_from_prep && atomic_load(&fn->magic) == PROG_POISON)
		atomic_fetch_add(&w->violations.stale_freed_calls, 1);
	call_program(w, req, cached_fn(req, CB_FAIL), CB_FAIL);
}

void cached_cleanup(struct world *w, struct req *req)
{
	if (cached_fn(req, CB_CLEANUP))
		call_program(w, req, cached_fn(req, CB_CLEANUP), CB_CLEANUP);
}
