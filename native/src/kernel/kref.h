/* SPDX-License-Identifier: MIT */
/*
 * Reference counts as the kernel keeps them: an atomic one (a BPF map's
 * refcnt: every get/put is a locked RMW on a shared line), a file's
 * (file_ref below, the same cost with a dead zone instead of zero), and a
 * plain int only touched under a lock (v2's per-ring slot refcount, a
 * fixed-file resource node's refs). The plain one is stored through relaxed
 * atomics so that the unlocked reader of wait_event() is not a data race;
 * on x86 that compiles to ordinary loads and stores, as in the kernel.
 */
#ifndef IOU_KREF_H
#define IOU_KREF_H

#include <stdatomic.h>
#include <stdbool.h>

struct kref {
	atomic_long count;
};

static inline void kref_init(struct kref *r, long n)
{
	atomic_init(&r->count, n);
}

static inline void kref_get(struct kref *r)
{
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

/* Drops one reference; true when it was the last. Release/acquire orders the object's teardown. */
static inline bool kref_put(struct kref *r)
{
	return atomic_fetch_sub_explicit(&r->count, 1, memory_order_acq_rel) == 1;
}

static inline long kref_read(struct kref *r)
{
	return atomic_load_explicit(&r->count, memory_order_relaxed);
}

/*
 * A file's reference count as the kernel keeps it since 6.13 (file_ref_t,
 * include/linux/file_ref.h): the count holds references - 1. A get is one
 * unconditional atomic add, which succeeds when the result is not negative,
 * so fget() costs one locked add on the file's line, not a compare-and-swap
 * loop. The put that takes the count to -1 marks the file dead (a value far
 * below zero) with a compare-and-swap, and releases it only if no get came
 * in meanwhile; a get on a dead file leaves it deep in the dead zone.
 */
struct file_ref {
	atomic_long count;
};

#define FILE_REF_DEAD (-(1L << 61))

static inline void file_ref_init(struct file_ref *r, long refs)
{
	atomic_init(&r->count, refs - 1);
}

/* Takes a reference unless the file is dead (file_ref_get()); fully ordered, as the kernel's. */
static inline bool file_ref_get(struct file_ref *r)
{
	return atomic_fetch_add(&r->count, 1) + 1 >= 0;
}

/* Drops one reference; true when the caller must release the file (file_ref_put()). */
static inline bool file_ref_put(struct file_ref *r)
{
	long left = atomic_fetch_sub_explicit(&r->count, 1, memory_order_release) - 1;

	/* Not the last reference; below -1, a put on a dead file: unbalanced, never a second release. */
	if (left != -1)
		return false;
	long expect = -1;

	return atomic_compare_exchange_strong_explicit(&r->count, &expect, FILE_REF_DEAD, memory_order_acq_rel,
						       memory_order_relaxed);
}

/* A plain int counter guarded by a lock the caller holds. */
struct lref {
	atomic_int count;
};

static inline int lref_read(struct lref *r)
{
	return atomic_load_explicit(&r->count, memory_order_relaxed);
}

static inline void lref_set(struct lref *r, int n)
{
	atomic_store_explicit(&r->count, n, memory_order_relaxed);
}

static inline void lref_inc(struct lref *r)
{
	lref_set(r, lref_read(r) + 1);
}

/* Returns the new value. */
static inline int lref_dec(struct lref *r)
{
	int n = lref_read(r) - 1;

	lref_set(r, n);
	return n;
}

#endif
