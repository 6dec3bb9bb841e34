/* SPDX-License-Identifier: MIT */
/*
 * Reference counts as the kernel keeps them: an atomic one (file->f_count,
 * a BPF map's refcnt: every get/put is a locked RMW on a shared line) and a
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

/* Takes a reference unless the count already reached zero (get_file_rcu()). */
static inline bool kref_get_unless_zero(struct kref *r)
{
	long old = atomic_load_explicit(&r->count, memory_order_relaxed);

	while (old != 0)
		if (atomic_compare_exchange_weak_explicit(&r->count, &old, old + 1,
							  memory_order_acquire, memory_order_relaxed))
			return true;
	return false;
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
