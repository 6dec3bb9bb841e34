/* SPDX-License-Identifier: MIT */
/*
 * Work run by dedicated threads, first in first out: io-wq's workers
 * (io_uring/io-wq.c) and a kworker (kernel/workqueue.c's system_wq), each
 * thread a task of its own. A gated queue (the addon's sequential worlds)
 * runs nothing until it is flushed, so that what runs on those threads
 * happens between two syscalls, in queue order, as the TypeScript side's
 * settle() runs it. A queue with no threads runs nothing by itself: its
 * owner runs the items on the submitting thread (the native lane's timed
 * io-wq loop, which measures the design's unlocked path, not a handoff).
 */
#ifndef IOU_WORKQUEUE_H
#define IOU_WORKQUEUE_H

#include <pthread.h>
#include <stdbool.h>

#include "task.h"

struct work_item {
	void (*fn)(void *arg);
	void *arg;
	struct work_item *next;
};

struct workqueue {
	const char *name;
	pthread_mutex_t lock;
	pthread_cond_t more;		/* an item was queued, the gate opened, or the queue stops */
	pthread_cond_t idle;		/* the queue emptied and no item runs */
	struct work_item *head, **tail;
	int running;			/* items being run */
	unsigned long done;		/* items run so far */
	bool gated, open, stopping;
	int nthreads;
	pthread_t *threads;
	struct task *tasks;		/* one per thread */
};

/* `nthreads` threads, each a task of `d` of `kind` (kernel threads get init_files). */
void wq_init(struct workqueue *wq, const char *name, struct task_domain *d, enum task_kind kind, int nthreads,
	     bool gated);
/* Runs what is queued, then stops the threads. */
void wq_destroy(struct workqueue *wq);

/* queue_work(): fn(arg) runs on one of the threads. */
void wq_queue(struct workqueue *wq, void (*fn)(void *arg), void *arg);
/* flush_workqueue(): returns once the queue is empty and idle (a gated one is opened meanwhile); true if anything ran. */
bool wq_flush(struct workqueue *wq);

#endif
