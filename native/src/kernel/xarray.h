/* SPDX-License-Identifier: MIT */
/*
 * The xarray of lib/xarray.c, reduced to what the designs use, with the same
 * shape as designs/kernel/xarray.ts: 64-slot nodes (XA_CHUNK_SHIFT 6), a
 * lone entry at index 0 held in the head, growth upward and shrinking back
 * on erase, cyclic allocation. Lookups are lock-free (acquire loads, as
 * rcu_dereference); writers are serialised by the caller. Nodes an erase
 * empties are not freed at once but parked until xa_reclaim(), which the
 * caller runs after its grace period, as the kernel frees nodes by RCU.
 * Entries must be pointers aligned to 4 bytes.
 */
#ifndef IOU_XARRAY_H
#define IOU_XARRAY_H

#include <stdatomic.h>

#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE (1u << XA_CHUNK_SHIFT)

/*
 * Laid out as the kernel's struct xa_node, 576 bytes with the slots at
 * byte 40, so a lookup touches the same cache lines; the fields this model
 * does not use (parent, array, the rest of the list head, the marks) are
 * kept as padding.
 */
struct xa_node {
	unsigned shift;
	unsigned count;			/* non-empty slots */
	struct xa_node *parked;		/* next node waiting for xa_reclaim() (the kernel's rcu_head) */
	void *unused_links[3];
	_Atomic(void *) slots[XA_CHUNK_SIZE];
	unsigned long unused_marks[3];
};

_Static_assert(sizeof(struct xa_node) == 576, "struct xa_node is 576 bytes, as in the kernel");

struct xarray {
	_Atomic(void *) head;
	unsigned nodes;			/* allocated nodes, parked ones excluded */
	unsigned entries;
	unsigned long next_cyclic;
	struct xa_node *parked;
};

void xa_init(struct xarray *xa);
/* Frees every node; entries are the caller's. */
void xa_destroy(struct xarray *xa);

void *xa_load(struct xarray *xa, unsigned long index);
/* Stores `entry` (non-NULL) at `index`; returns the old entry, or NULL. -ENOMEM is not modelled: aborts. */
void *xa_store(struct xarray *xa, unsigned long index, void *entry);
/* Removes the entry at `index` and returns it (NULL when absent). */
void *xa_erase(struct xarray *xa, unsigned long index);
/*
 * xa_alloc_cyclic(): stores `entry` at the first free index in [min, max],
 * searching from just after the last allocation and wrapping once. Returns
 * the index, or -EBUSY when the range is full.
 */
long xa_alloc_cyclic(struct xarray *xa, void *entry, unsigned long min, unsigned long max);
/* Frees the nodes erases emptied: call once no reader can still be walking them. */
void xa_reclaim(struct xarray *xa);

/* Levels of nodes a lookup walks (0 when empty or holding only index 0). */
unsigned xa_height(struct xarray *xa);

/* Calls fn(index, entry, arg) for each present entry in index order. */
void xa_for_each(struct xarray *xa, void (*fn)(unsigned long index, void *entry, void *arg), void *arg);

#endif
