/* SPDX-License-Identifier: MIT */
/*
 * A spinlock (spinlock_t) for short critical sections that never sleep,
 * such as ctx->completion_lock around posting a CQE: one exchange to take
 * it, one release store to drop it. A waiter yields the CPU between tries,
 * as a preempted holder on a shared machine would otherwise stall it.
 */
#ifndef IOU_SPINLOCK_H
#define IOU_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

struct spinlock {
	atomic_bool locked;
};

static inline void spin_lock_init(struct spinlock *lock)
{
	atomic_init(&lock->locked, false);
}

static inline void spin_lock(struct spinlock *lock)
{
	while (atomic_exchange_explicit(&lock->locked, true, memory_order_acquire))
		while (atomic_load_explicit(&lock->locked, memory_order_relaxed))
			sched_yield();
}

static inline void spin_unlock(struct spinlock *lock)
{
	atomic_store_explicit(&lock->locked, false, memory_order_release);
}

#endif
