/* SPDX-License-Identifier: MIT */
/*
 * The request side of v2/v3 (20260106101126.4064990-7-ming.lei@redhat.com),
 * the C twin of designs/cached-ops.ts: prep caches the program in the
 * request; issue, fail and cleanup use the cached pointer and never look
 * again; an issue return of IOU_ISSUE_SKIP_COMPLETE becomes -EINVAL.
 * per-ctx uses it as posted; per-fd and per-fd-fixed with their own lookup.
 */
#ifndef IOU_CACHED_OPS_H
#define IOU_CACHED_OPS_H

#include "../model/world.h"

/* data->ops = prog; then prep_fn, or -EOPNOTSUPP without one. */
int cached_prep_with(struct world *w, struct req *req, struct program *prog);
/* Prep for the fd designs: `file` is the reference the request now holds. */
int cached_prep_from_file(struct world *w, struct req *req, struct kfile *file);
/* fget(sqe->fd) in the submitter's table, then cached_prep_from_file(). */
int cached_prep_from_fd(struct world *w, struct req *req);
int cached_issue(struct world *w, struct req *req, bool unlocked);
void cached_fail(struct world *w, struct req *req);
void cached_cleanup(struct world *w, struct req *req);

#endif
