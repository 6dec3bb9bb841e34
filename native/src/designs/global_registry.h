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
 * prep/issue/fail/cleanup re-read the table each time, from the op id the
 * request's command area holds (prep writes it only after the setup-flag
 * check, so a refused request's ->fail() reads the previous user's op);
 * io-wq issue reads it inside an SRCU read section; no reference is taken.
 * Each test of a callback pointer and the call through it are two loads.
 */
#ifndef IOU_GLOBAL_REGISTRY_H
#define IOU_GLOBAL_REGISTRY_H

#include "../model/design.h"

/*
 * struct uring_bpf_ops, v1's table entry: an id and four function
 * pointers, 40 bytes. A function pointer's value is one program's
 * trampoline for that callback: here the program, or NULL. ->reg() copies
 * a whole struct in (bpf_ops[id] = *ops) and ->unreg() clears it, one
 * store per field in field order, and the request paths load a field with
 * no READ_ONCE, so an unlocked reader can see a mix of two registrations,
 * or NULL the second time it loads a field. Stores are release and loads
 * acquire only so that the program a pointer names is fully visible (in
 * the kernel it was written long before); nothing orders the fields.
 */
struct bpf_ops_slot {
	_Atomic(unsigned short) id;
	_Atomic(struct program *) fn[CB_COUNT];	/* prep_fn, issue_fn, fail_fn, cleanup_fn */
};

_Static_assert(sizeof(struct bpf_ops_slot) == 40, "struct uring_bpf_ops is 40 bytes");

/* Its fields: a struct copy writes each one, so a copy past the array's end is that many bad writes. */
#define BPF_OPS_FIELDS (1 + CB_COUNT)

/* bpf_ops[id] = *ops (prog's callbacks), or = (struct uring_bpf_ops){0} for NULL: one store per field. */
void bpf_ops_slot_write(struct bpf_ops_slot *slot, unsigned short id, struct program *prog);
/*
 * True when any callback pointer is set: a registration is there, as a
 * struct_ops listing shows it (designs/global-registry.ts OpsArray.used()).
 * The id field cannot say: a copy of a registration at id 0 leaves it 0, and
 * a registration whose callbacks are all NULL occupies nothing ->reg() tests.
 */
bool bpf_ops_slot_used(struct bpf_ops_slot *slot);

/*
 * Where a request path loads callback pointers from: a v1 slot (every use
 * loads the field again), or the struct_ops value an xarray entry points
 * to (the entry is loaded once; the value's fields never change).
 */
struct ops_ref {
	struct bpf_ops_slot *slot;
	union {
		/* No slot: the struct_ops value an xarray entry points to (or NULL). */
		struct program *value;
		/*
		 * A slot past the array's end: each load is a bad read, counted in
		 * this world; NULL inside the array. (A union keeps the struct at
		 * two words, returned in registers: the native lane times this path.)
		 */
		struct world *past_end;
	};
};

/* One load of callback `cb`'s pointer: the program whose trampoline it is, or NULL. */
struct program *ops_ref_fn(struct ops_ref ref, enum callback cb);

/* The system-wide table: what differs between the global designs. */
struct global_table {
	/* Where the callbacks for `id` are (lock-free: prep, issue, fail). */
	struct ops_ref (*lookup)(struct world *w, void *table, unsigned long id);
	/* ->reg(): publishes `prog`'s callbacks at `id`; ->unreg(): clears them (NULL). Writers are serialised. */
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
