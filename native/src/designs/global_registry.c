// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernel/srcu.h"
#include "global_registry.h"

/* Largest value of the u16 `id` field of struct uring_bpf_ops. */
#define U16_MAX 0xffff

struct registry {
	const struct global_table *ops;
	void *table;
	pthread_mutex_t ctx_lock;	/* uring_bpf_ctx_lock */
	struct srcu srcu;		/* uring_bpf_srcu */
	struct io_ring_ctx **rings;		/* uring_bpf_ctx_list: newest first, as list_add() */
	int nrings, cap;
};

static struct registry *reg_of(struct world *w)
{
	return w->state;
}

void bpf_ops_slot_write(struct bpf_ops_slot *slot, unsigned short id, struct program *prog)
{
	atomic_store_explicit(&slot->id, prog ? id : 0, memory_order_release);
	for (int cb = 0; cb < CB_COUNT; cb++) {
		struct program *fn = prog && program_has(prog, (enum callback)cb) ? prog : NULL;

		atomic_store_explicit(&slot->fn[cb], fn, memory_order_release);
	}
}

bool bpf_ops_slot_used(struct bpf_ops_slot *slot)
{
	bool used = false;

	for (int cb = 0; cb < CB_COUNT; cb++)
		used = used || atomic_load_explicit(&slot->fn[cb], memory_order_acquire);
	return used;
}

struct program *ops_ref_fn(struct ops_ref ref, enum callback cb)
{
	if (ref.slot) {
		if (ref.past_end)
			world_oob(ref.past_end);
		return atomic_load_explicit(&ref.slot->fn[cb], memory_order_acquire);
	}
	return ref.value && program_has(ref.value, cb) ? ref.value : NULL;
}

void *global_registry_create(struct world *w, const struct global_table *ops, void *table)
{
	/* struct srcu keeps each slot's counters on its own cache line: the registry must start on one. */
	size_t size = (sizeof(struct registry) + 63) / 64 * 64;
	struct registry *r = aligned_alloc(64, size);

	(void)w;
	if (!r) {
		fprintf(stderr, "iou-dispatch: out of memory for the global registry\n");
		abort();
	}
	memset(r, 0, size);
	r->ops = ops;
	r->table = table;
	pthread_mutex_init(&r->ctx_lock, NULL);
	srcu_init(&r->srcu);
	return r;
}

void global_registry_destroy(struct world *w, void *state)
{
	struct registry *r = state;

	(void)w;
	r->ops->free(r->table);
	srcu_destroy(&r->srcu);
	pthread_mutex_destroy(&r->ctx_lock);
	free(r->rings);
	free(r);
}

int global_ring_created(struct world *w, struct io_ring_ctx *ring)
{
	struct registry *r = reg_of(w);

	if (!ring->bpf)
		return 0;
	pthread_mutex_lock(&r->ctx_lock);
	if (r->nrings == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->rings = realloc(r->rings, (size_t)r->cap * sizeof(*r->rings));
		if (!r->rings) {
			fprintf(stderr, "iou-dispatch: out of memory for the ring list\n");
			abort();
		}
	}
	for (int i = r->nrings; i > 0; i--)
		r->rings[i] = r->rings[i - 1];
	r->rings[0] = ring;
	r->nrings++;
	pthread_mutex_unlock(&r->ctx_lock);
	return 0;
}

void global_ring_freed(struct world *w, struct io_ring_ctx *ring)
{
	struct registry *r = reg_of(w);

	if (!ring->bpf)
		return;
	pthread_mutex_lock(&r->ctx_lock);
	for (int i = 0; i < r->nrings; i++)
		if (r->rings[i] == ring) {
			for (int j = i; j + 1 < r->nrings; j++)
				r->rings[j] = r->rings[j + 1];
			r->nrings--;
			break;
		}
	pthread_mutex_unlock(&r->ctx_lock);
}

static unsigned long op_of(struct registry *r, uint32_t bpf_op_flags)
{
	return (bpf_op_flags >> r->ops->sqe_id_shift) & ((1ul << r->ops->sqe_id_bits) - 1);
}

int global_prep(struct world *w, struct req *req)
{
	struct registry *r = reg_of(w);

	if (!req->ring->bpf)
		return -EACCES;	/* before data->opf is written: the command area keeps the last op */
	req->op = (unsigned)op_of(r, req->sqe.bpf_op_flags);
	struct ops_ref ops = r->ops->lookup(w, r->table, req->op);

	if (!ops_ref_fn(ops, CB_PREP))
		return -EOPNOTSUPP;
	return call_program(w, req, ops_ref_fn(ops, CB_PREP), CB_PREP);
}

int global_issue(struct world *w, struct req *req, bool unlocked)
{
	struct registry *r = reg_of(w);
	int idx = 0, ret = -ECANCELED;

	if (unlocked)
		idx = srcu_read_lock(&r->srcu);
	struct ops_ref ops = r->ops->lookup(w, r->table, req->op);

	if (ops_ref_fn(ops, CB_ISSUE))
		ret = call_program(w, req, ops_ref_fn(ops, CB_ISSUE), CB_ISSUE);
	if (unlocked)
		srcu_read_unlock(&r->srcu, idx);
	return ret;
}

/*
 * The table for ->fail()/->cleanup(). On a ring without the setup flag
 * (prep's -EACCES) nothing holds the table still: the ring is not on the
 * list whose locks ->reg()/->unreg() take. The lookup gets the protection
 * xa_load() takes itself, rcu_read_lock(), here the grace period the
 * table's nodes are freed after; the fields are then loaded unprotected,
 * as posted.
 */
static struct ops_ref lookup_for_completion(struct world *w, struct req *req)
{
	struct registry *r = reg_of(w);
	bool unlisted = !req->ring->bpf;
	int idx = unlisted ? srcu_read_lock(&r->srcu) : 0;
	struct ops_ref ops = r->ops->lookup(w, r->table, req->op);

	if (unlisted)
		srcu_read_unlock(&r->srcu, idx);
	return ops;
}

void global_fail(struct world *w, struct req *req)
{
	struct ops_ref ops = lookup_for_completion(w, req);

	if (ops_ref_fn(ops, CB_FAIL))
		call_program(w, req, ops_ref_fn(ops, CB_FAIL), CB_FAIL);
}

/* Only with REQ_F_NEED_CLEANUP, which v1's prep never sets: dead code, kept as posted. */
void global_cleanup(struct world *w, struct req *req)
{
	struct ops_ref ops = lookup_for_completion(w, req);

	if (ops_ref_fn(ops, CB_CLEANUP))
		call_program(w, req, ops_ref_fn(ops, CB_CLEANUP), CB_CLEANUP);
}

/* io_bpf_reg_unreg(): every lock, the table change, a grace period, unlock. */
static int change_locked(struct world *w, struct link *link, bool reg)
{
	struct registry *r = reg_of(w);
	int ret = 0;

	pthread_mutex_lock(&r->ctx_lock);
	for (int i = 0; i < r->nrings; i++)
		pthread_mutex_lock(&r->rings[i]->uring_lock);
	if (!reg) {
		r->ops->write(w, r->table, (unsigned long)link->id, NULL);
	} else if (r->ops->allocate) {
		long id = r->ops->allocate(w, r->table, link->prog);

		if (id < 0)
			ret = (int)id;
		else
			link->id = id;
	} else if (ops_ref_fn(r->ops->lookup(w, r->table, (unsigned long)link->id), CB_ISSUE)) {
		ret = -EBUSY;	/* bpf_ops[id].issue_fn is set */
	} else {
		r->ops->write(w, r->table, (unsigned long)link->id, link->prog);
	}
	synchronize_srcu(&r->srcu);
	r->ops->reclaim(r->table);
	for (int i = 0; i < r->nrings; i++)
		pthread_mutex_unlock(&r->rings[i]->uring_lock);
	pthread_mutex_unlock(&r->ctx_lock);
	return ret;
}

static int reg_hook(struct world *w, struct link *link)
{
	const struct global_table *ops = reg_of(w)->ops;

	if (ops->check_id) {
		int ret = ops->check_id(link->id);

		if (ret)
			return ret;
	}
	return change_locked(w, link, true);
}

static void unreg_hook(struct world *w, struct link *link)
{
	change_locked(w, link, false);
}

int global_reg(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out)
{
	long id = args->id;

	/* The struct_ops value's id is an unsigned short: other values cannot be expressed. */
	if (!reg_of(w)->ops->allocate && (id < 0 || id > U16_MAX))
		return -EINVAL;
	struct link *link = NULL;
	int fd = attach_struct_ops(w, proc, args->prog_fd, id, -1, reg_hook, unreg_hook, &link);

	if (fd < 0)
		return fd;
	*out = (struct registration){ .name = { NAME_ID, link->id }, .link_fd = fd, .ring_fd = -1 };
	return 0;
}

int global_unreg(struct world *w, struct process *proc, const struct registration *reg)
{
	return detach_struct_ops(w, proc, reg->link_fd);
}

int global_discover(struct world *w, long *ids, int max)
{
	struct registry *r = reg_of(w);

	pthread_mutex_lock(&r->ctx_lock);
	int n = r->ops->used(r->table, ids, max);

	pthread_mutex_unlock(&r->ctx_lock);
	return n;
}

static void target(const struct prog_name *name, struct sqe *sqe, unsigned shift, unsigned bits)
{
	sqe->bpf_op_flags = (uint32_t)(((unsigned long)name->value & ((1ul << bits) - 1)) << shift);
	sqe->fd = -1;
	sqe->fixed_file = false;
}

void global_target_8(const struct prog_name *name, struct sqe *sqe)
{
	target(name, sqe, 24, 8);
}

void global_target_16(const struct prog_name *name, struct sqe *sqe)
{
	target(name, sqe, 16, 16);
}
