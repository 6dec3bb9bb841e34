/* SPDX-License-Identifier: MIT */
/*
 * v1's registration and request protocol (20251104162123.1086035-4-ming.lei@redhat.com),
 * the C twin of designs/global-registry.ts, shared by the designs with one
 * system-wide table: global-array, array-xarray and global-alloc. Only the
 * table differs between them.
 *
 * Rings with the setup flag join a global list under a global mutex;
 * ->reg()/->unreg() take that mutex and every listed ring's uring_lock,
 * change the table, synchronize_srcu() with the locks held, and unlock.
 * prep/issue/fail/cleanup re-read the slot each time; io-wq issue reads it
 * inside an SRCU read section; no reference is taken.
 */
#ifndef IOU_GLOBAL_REGISTRY_H
#define IOU_GLOBAL_REGISTRY_H

#include "../model/design.h"

/* The system-wide table: what differs between the global designs. */
struct global_table {
	/* The program in the slot for `id`, or NULL (lock-free: prep, issue). */
	struct program *(*read)(struct world *w, void *table, unsigned long id);
	/* Writes or clears the slot; writers are serialised by the registry. */
	void (*write)(struct world *w, void *table, unsigned long id, struct program *prog);
	/* Used ids in ascending order, at most `max`; the count. */
	int (*used)(void *table, long *ids, int max);
	/* Frees what a write retired; runs after the grace period. */
	void (*reclaim)(void *table);
	/* global-alloc: the kernel picks the id; -errno when full. NULL: userspace names it. */
	long (*allocate)(struct world *w, void *table, struct program *prog);
	/* A check on the requested id before any lock (0 or -errno); NULL in the posted v1. */
	int (*check_id)(long id);
	void (*free)(void *table);
	unsigned sqe_id_shift, sqe_id_bits;
};

/* The registry's state for a design whose table is `table` (allocated by the design). */
void *global_registry_create(struct world *w, const struct global_table *ops, void *table);

/* The design_def hooks, for the designs to plug in. */
void global_registry_destroy(struct world *w, void *state);
int global_ring_created(struct world *w, struct io_ring_ctx *ring);
void global_ring_freed(struct world *w, struct io_ring_ctx *ring);
int global_prep(struct world *w, struct req *req);
int global_issue(struct world *w, struct req *req, bool unlocked);
void global_fail(struct world *w, struct req *req);
void global_cleanup(struct world *w, struct req *req);
int global_reg(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out);
int global_unreg(struct world *w, struct process *proc, const struct registration *reg);
int global_discover(struct world *w, long *ids, int max);
/* The SQE for an id in the top 8 bits (global-array) or 16 bits (array-xarray, global-alloc). */
void global_target_8(const struct prog_name *name, struct sqe *sqe);
void global_target_16(const struct prog_name *name, struct sqe *sqe);

/* The design_def initialisers every global design shares (all but create, discover, target). */
#define GLOBAL_REGISTRY_HOOKS                                                         \
	.destroy = global_registry_destroy, .ring_created = global_ring_created,      \
	.ring_freed = global_ring_freed, .prep = global_prep, .issue = global_issue, \
	.fail = global_fail, .cleanup = global_cleanup, .reg = global_reg,           \
	.unreg = global_unreg

#endif
