/* SPDX-License-Identifier: MIT */
/*
 * Sleepable RCU with the kernel's read-side cost (kernel/rcu/srcutree.c):
 * srcu_read_lock() increments a per-CPU lock counter of the current index
 * and issues a full barrier; srcu_read_unlock() issues a full barrier and
 * increments the matching unlock counter. synchronize_srcu() flips the
 * index and waits until the old index's lock and unlock sums agree.
 * "Per CPU" here is per slot: a thread keeps the slot it first drew, and
 * each slot sits on its own cache line, so uncontended readers never share
 * a line, as on a real per-CPU area.
 */
#ifndef IOU_SRCU_H
#define IOU_SRCU_H

#include <pthread.h>
#include <stdatomic.h>

#define SRCU_SLOTS 64

struct srcu_slot {
	atomic_ulong lock[2];
	atomic_ulong unlock[2];
} __attribute__((aligned(64)));

struct srcu {
	atomic_uint idx;
	pthread_mutex_t gp_lock;	/* one grace period at a time */
	struct srcu_slot slots[SRCU_SLOTS];
};

void srcu_init(struct srcu *s);
void srcu_destroy(struct srcu *s);

/* Returns the index to hand to srcu_read_unlock(). */
int srcu_read_lock(struct srcu *s);
void srcu_read_unlock(struct srcu *s, int idx);

/* Returns once every reader that entered before the call has left. */
void synchronize_srcu(struct srcu *s);

#endif
