// SPDX-License-Identifier: MIT
/*
 * D3 per-ctx: v2/v3 as posted (20260106101126.4064990-6/-7-ming.lei@redhat.com,
 * 20260324163753.1900977-*), the C twin of designs/per-ctx.ts. Each ring
 * created with the setup flag has bpf_ext_ops[16] of {ops, int refcount}.
 * ->reg() resolves the struct_ops value's ring_fd in the attaching task;
 * ->unreg() resolves it again in whichever task drops the link and ignores
 * a failed lookup. Prep admits while refcount != 0 and takes a reference;
 * unregister drops the registration's reference and waits outside
 * uring_lock for requests to drop theirs. +unregistering-bit marks the slot
 * when unregister starts and prep refuses marked slots.
 */
#include <errno.h>

#include "cached_ops.h"
#include "../model/design.h"

/* IO_RING_MAX_BPF_OPS: "Arbitrary limit, can be raised if need be". */
#define MAX_BPF_OPS 16

struct ops_slot {
	_Atomic(struct program *) ops;	/* written under uring_lock */
	struct lref refcount;
	atomic_bool unregistering;
};

struct per_ctx {
	bool unregistering_bit;		/* the variant */
};

static struct ops_slot *slot_of(struct io_ring_ctx *ring, unsigned op)
{
	return &((struct ops_slot *)ring->design)[op];
}

static int ring_created(struct world *w, struct io_ring_ctx *ring)
{
	/* io_bpf_alloc(): kcalloc(IO_RING_MAX_BPF_OPS, ...) */
	if (ring->bpf)
		ring->design = world_alloc(w, MAX_BPF_OPS * sizeof(struct ops_slot));
	return 0;
}

static void ring_freed(struct world *w, struct io_ring_ctx *ring)
{
	(void)w;
	ring->design = NULL;	/* io_bpf_free(); the memory goes with the world */
}

static int prep(struct world *w, struct req *req)
{
	struct per_ctx *d = w->state;

	if (!req->ring->bpf)
		return -EOPNOTSUPP;
	unsigned op = (req->sqe.bpf_op_flags >> 24) & 0xff;

	if (op >= MAX_BPF_OPS)
		return -EINVAL;
	struct ops_slot *slot = slot_of(req->ring, op);
	struct program *ops = atomic_load_explicit(&slot->ops, memory_order_relaxed);

	if (!ops || !program_has(ops, CB_PREP) || lref_read(&slot->refcount) == 0 ||
	    (d->unregistering_bit && atomic_load_explicit(&slot->unregistering, memory_order_relaxed)))
		return -EOPNOTSUPP;
	req->op = op;
	int ret = cached_prep_with(w, req, ops);

	if (ret == 0) {
		req->flags |= REQ_F_NEED_CLEANUP;
		lref_inc(&slot->refcount);
	}
	return ret;
}

static void cleanup(struct world *w, struct req *req)
{
	cached_cleanup(w, req);
	struct ops_slot *slot = slot_of(req->ring, req->op);
	int left = lref_dec(&slot->refcount);

	if (left < 0)
		atomic_fetch_add(&w->violations.ref_underflow, 1);
	if (left == 0)
		ring_wake(req->ring);
}

static int install(struct io_ring_ctx *ring, unsigned id, struct program *prog)
{
	struct ops_slot *slot = slot_of(ring, id);
	int ret = -EBUSY;

	pthread_mutex_lock(&ring->uring_lock);
	if (!atomic_load_explicit(&slot->ops, memory_order_relaxed)) {
		atomic_store_explicit(&slot->ops, prog, memory_order_relaxed);
		lref_set(&slot->refcount, 1);
		ret = 0;
	}
	pthread_mutex_unlock(&ring->uring_lock);
	return ret;
}

static bool drained(void *arg)
{
	return lref_read(&((struct ops_slot *)arg)->refcount) == 0;
}

static int remove_ops(struct world *w, struct io_ring_ctx *ring, unsigned id)
{
	struct per_ctx *d = w->state;
	struct ops_slot *slot = slot_of(ring, id);
	int ret = -EINVAL;

	pthread_mutex_lock(&ring->uring_lock);
	if (atomic_load_explicit(&slot->ops, memory_order_relaxed)) {
		if (d->unregistering_bit)
			atomic_store(&slot->unregistering, true);
		if (lref_dec(&slot->refcount) < 0)
			atomic_fetch_add(&w->violations.ref_underflow, 1);
		for (;;) {
			if (lref_read(&slot->refcount) == 0) {
				atomic_store_explicit(&slot->ops, NULL, memory_order_relaxed);
				atomic_store(&slot->unregistering, false);
				ret = 0;
				break;
			}
			pthread_mutex_unlock(&ring->uring_lock);
			ring_wait(ring, drained, slot);
			pthread_mutex_lock(&ring->uring_lock);
		}
	}
	pthread_mutex_unlock(&ring->uring_lock);
	return ret;
}

/*
 * io_bpf_reg_unreg(): the link's id and ring_fd, resolved with fget() in
 * the task running it: the attaching task for ->reg(), whichever task drops
 * the link for ->unreg(). A kworker finds nothing there (init_files); an
 * exiting task past exit_files() oopses (__fget_files_rcu() on NULL). 0 or -errno.
 */
static int reg_unreg(struct world *w, struct link *link, bool reg)
{
	if (link->id >= MAX_BPF_OPS)
		return -EINVAL;
	struct kfile *file = fget(link->ring_fd);

	if (!file)
		return -EBADF;
	if (file->kind != FILE_RING) {
		fput(file);
		return -EOPNOTSUPP;
	}
	struct io_ring_ctx *ring = file->payload;
	int ret = -EINVAL;

	if (ring->bpf)
		ret = reg ? install(ring, (unsigned)link->id, link->prog) : remove_ops(w, ring, (unsigned)link->id);
	fput(file);
	return ret;
}

static int reg_hook(struct world *w, struct link *link)
{
	return reg_unreg(w, link, true);
}

static void unreg_hook(struct world *w, struct link *link)
{
	/* ->unreg() returns void: a failed lookup leaves the slot as it was. */
	reg_unreg(w, link, false);
}

static int reg(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	struct link *link;

	/* The struct_ops value holds `unsigned short id` and `int ring_fd`. */
	if (args->id < 0 || args->id > 0xffff)
		return -EINVAL;
	int fd = attach_struct_ops(w, proc, args->prog_fd, args->id, args->ring_fd, reg_hook, unreg_hook, &link);

	if (fd < 0)
		return fd;
	*out = (struct registration){ .name = { NAME_ID, args->id }, .link_fd = fd, .ring_fd = args->ring_fd };
	return 0;
}

static int unreg(struct world *w, struct process *proc, const struct registration *r)
{
	return detach_struct_ops(w, proc, r->link_fd);
}

static void target(const struct prog_name *name, struct sqe *sqe)
{
	sqe->bpf_op_flags = (uint32_t)((unsigned long)name->value & 0xff) << 24;
	sqe->fd = -1;
	sqe->fixed_file = false;
}

static const struct per_ctx posted = { .unregistering_bit = false };
static const struct per_ctx unregistering_bit = { .unregistering_bit = true };

static void *create_posted(struct world *w)
{
	(void)w;
	return (void *)&posted;
}

static void *create_unregistering_bit(struct world *w)
{
	(void)w;
	return (void *)&unregistering_bit;
}

#define PER_CTX_DEF(NAME, CREATE)                                                               \
	{                                                                                       \
		.name = NAME, .name_kind = NAME_ID, .scope = SCOPE_RING, .id_min = 0, .id_max = MAX_BPF_OPS - 1,     \
		.setup_flag = true, .unreg_waits_for_requests = true, .create = CREATE,                      \
		.destroy = design_free_no_state,                                                \
		.ring_created = ring_created, .ring_freed = ring_freed, .prep = prep,           \
		.issue = cached_issue, .fail = cached_fail, .cleanup = cleanup, .reg = reg,     \
		.unreg = unreg, .target = target,                                               \
	}

const struct design_def per_ctx_def = PER_CTX_DEF("per-ctx", create_posted);
const struct design_def per_ctx_unregistering_bit_def =
	PER_CTX_DEF("per-ctx+unregistering-bit", create_unregistering_bit);
