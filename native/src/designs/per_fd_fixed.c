// SPDX-License-Identifier: MIT
/*
 * D5 per-fd-fixed: Caleb Sander Mateos's refinement
 * (CADUfDZonj-mn9oOF-cGgw2TS9Emmk0vP=3=+n0bJbhGw43ra3A@mail.gmail.com), the
 * C twin of designs/per-fd-fixed.ts: the program fd goes into the ring's
 * fixed-file table and the SQE sets IOSQE_FIXED_FILE with the slot index.
 * Lookup is a bounds check, an array index and a plain refs++ on the slot's
 * resource node under uring_lock; without IOSQE_FIXED_FILE it is per-fd.
 */
#include <errno.h>
#include <stdlib.h>

#include "cached_ops.h"
#include "per_fd.h"

/* Slots of the sparse table registered on first use (IORING_REGISTER_FILES_SPARSE). */
#define FIXED_FILE_SLOTS 64

static int prep(struct world *w, struct req *req)
{
	struct io_ring_ctx *ring = req->ring;

	if (!req->sqe.fixed_file)
		return cached_prep_from_fd(w, req);
	int index = req->sqe.fd;
	struct rsrc_node *node = ring->fixed && index >= 0 && index < ring->nfixed ? ring->fixed[index] : NULL;

	if (!node)
		return -EBADF;
	lref_inc(&node->refs);	/* uring_lock is held: a plain int */
	req->node = node;
	return cached_prep_from_file(w, req, node->file);
}

/*
 * IORING_REGISTER_FILES_UPDATE of the program fd into slot `id`, or into the
 * first free one for -1 (IORING_FILE_INDEX_ALLOC, ~0U) or no id; registering
 * a sparse table first if the ring has none. Any other negative id is EINVAL.
 */
static int reg(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	struct kfile *ring_file;
	int ret;
	struct io_ring_ctx *ring = fget_ring(args->ring_fd, &ring_file, &ret);

	(void)w;
	(void)proc;
	if (!ring)
		return ret;
	pthread_mutex_lock(&ring->uring_lock);
	if (!ring->fixed) {
		ring->fixed = calloc(FIXED_FILE_SLOTS, sizeof(*ring->fixed));
		if (!ring->fixed)
			abort();
		ring->nfixed = FIXED_FILE_SLOTS;
	}
	bool alloc = args->id == -1;
	long index = alloc ? -1 : args->id;

	for (int i = 0; alloc && i < ring->nfixed && index < 0; i++)
		if (!ring->fixed[i])
			index = i;
	ret = -EINVAL;
	if (alloc && index < 0) {
		ret = -ENFILE;
	} else if (index >= 0 && index < ring->nfixed) {
		struct kfile *file = fget(args->prog_fd);

		if (!file) {
			ret = -EBADF;
		} else if (file->kind == FILE_RING) {
			fput(file);
			ret = -EBADF;
		} else {
			ring_fixed_set(ring, (int)index, file);
			ret = 0;
		}
	}
	pthread_mutex_unlock(&ring->uring_lock);
	fput(ring_file);
	if (ret < 0)
		return ret;
	*out = (struct registration){ .name = { NAME_FIXED, index }, .link_fd = -1, .ring_fd = args->ring_fd };
	return 0;
}

/* IORING_REGISTER_FILES_UPDATE with -1: clears the slot (an empty slot is not an error). */
static int unreg(struct world *w, struct process *proc, const struct registration *r)
{
	struct kfile *ring_file;
	int ret;

	(void)w;
	(void)proc;
	if (r->name.kind != NAME_FIXED)
		return -EINVAL;
	struct io_ring_ctx *ring = fget_ring(r->ring_fd, &ring_file, &ret);

	if (!ring)
		return ret;
	pthread_mutex_lock(&ring->uring_lock);
	ret = -ENXIO;
	if (ring->fixed) {
		ret = r->name.value >= 0 && r->name.value < ring->nfixed ? 0 : -EINVAL;
		if (ret == 0)
			ring_fixed_set(ring, (int)r->name.value, NULL);
	}
	pthread_mutex_unlock(&ring->uring_lock);
	fput(ring_file);
	return ret;
}

const struct design_def per_fd_fixed_def = {
	.name = "per-fd-fixed",
	.name_kind = NAME_FIXED,
	.scope = SCOPE_RING,
	.id_min = 0,
	.id_max = FIXED_FILE_SLOTS - 1,
	.create = design_no_state,
	.destroy = design_free_no_state,
	.ring_created = per_fd_ring_created,
	.ring_freed = design_ring_freed_noop,
	.prep = prep,
	.issue = cached_issue,
	.fail = cached_fail,
	.cleanup = cached_cleanup,
	.reg = reg,
	.unreg = unreg,
	.target = per_fd_target,
};
