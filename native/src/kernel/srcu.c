// SPDX-License-Identifier: MIT
#include <sched.h>

#include "srcu.h"

/* The calling thread's slot, drawn round-robin on first use. */
static struct srcu_slot *my_slot(struct srcu *s)
{
	static atomic_uint next_slot;
	static _Thread_local int slot = -1;

	if (slot < 0)
		slot = (int)(atomic_fetch_add(&next_slot, 1) % SRCU_SLOTS);
	return &s->slots[slot];
}

void srcu_init(struct srcu *s)
{
	atomic_init(&s->idx, 0);
	pthread_mutex_init(&s->gp_lock, NULL);
	for (int i = 0; i < SRCU_SLOTS; i++)
		for (int j = 0; j < 2; j++) {
			atomic_init(&s->slots[i].lock[j], 0);
			atomic_init(&s->slots[i].unlock[j], 0);
		}
}

void srcu_destroy(struct srcu *s)
{
	pthread_mutex_destroy(&s->gp_lock);
}

int srcu_read_lock(struct srcu *s)
{
	int idx = (int)(atomic_load_explicit(&s->idx, memory_order_relaxed) & 1);

	/* this_cpu_inc() + smp_mb(): a seq_cst RMW is both on x86 (lock xadd). */
	atomic_fetch_add_explicit(&my_slot(s)->lock[idx], 1, memory_order_seq_cst);
	return idx;
}

void srcu_read_unlock(struct srcu *s, int idx)
{
	/* smp_mb() + this_cpu_inc() */
	atomic_fetch_add_explicit(&my_slot(s)->unlock[idx], 1, memory_order_seq_cst);
}

/* srcu_readers_active_idx_check(): unlocks first, then locks, so a racing reader is never missed. */
static int readers_gone(struct srcu *s, int idx)
{
	unsigned long unlocks = 0, locks = 0;

	for (int i = 0; i < SRCU_SLOTS; i++)
		unlocks += atomic_load_explicit(&s->slots[i].unlock[idx], memory_order_seq_cst);
	for (int i = 0; i < SRCU_SLOTS; i++)
		locks += atomic_load_explicit(&s->slots[i].lock[idx], memory_order_seq_cst);
	return locks == unlocks;
}

static void wait_readers(struct srcu *s, int idx)
{
	while (!readers_gone(s, idx))
		sched_yield();
}

void synchronize_srcu(struct srcu *s)
{
	pthread_mutex_lock(&s->gp_lock);
	int idx = (int)(atomic_load_explicit(&s->idx, memory_order_relaxed) & 1);

	/* Readers still on the other index from an earlier period, then flip and drain this one. */
	wait_readers(s, idx ^ 1);
	atomic_fetch_add_explicit(&s->idx, 1, memory_order_seq_cst);
	wait_readers(s, idx);
	pthread_mutex_unlock(&s->gp_lock);
}
