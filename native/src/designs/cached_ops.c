// SPDX-License-Identifier: MIT
#include <errno.h>

#include "cached_ops.h"

int cached_prep_with(struct world *w, struct req *req, struct program *prog)
{
	req->ops = prog;
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
	struct kfile *file = fget(&req->submitter->fds, req->sqe.fd);

	if (!file)
		return -EBADF;
	req->file = file;
	return cached_prep_from_file(w, req, file);
}

int cached_issue(struct world *w, struct req *req, bool unlocked)
{
	(void)unlocked;
	if (!req->ops || !program_has(req->ops, CB_ISSUE))
		return 0;
	int ret = call_program(w, req, req->ops, CB_ISSUE);

	return ret == IOU_ISSUE_SKIP_COMPLETE ? -EINVAL : ret;
}

void cached_fail(struct world *w, struct req *req)
{
	if (req->ops && program_has(req->ops, CB_FAIL))
		call_program(w, req, req->ops, CB_FAIL);
}

void cached_cleanup(struct world *w, struct req *req)
{
	if (req->ops && program_has(req->ops, CB_CLEANUP))
		call_program(w, req, req->ops, CB_CLEANUP);
}
