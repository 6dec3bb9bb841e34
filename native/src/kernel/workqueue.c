// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workqueue.h"

struct wq_thread {
	struct workqueue *wq;
	struct task *task;
};

static void *must(void *p)
{
	if (!p) {
		fprintf(stderr, "iou-dispatch: out of memory for a workqueue\n");
		abort();
	}
	return p;
}

/* Takes the next item, or NULL when the queue stops; the lock is held. */
static struct work_item *next_item(struct workqueue *wq)
{
	while (!wq->stopping && (!wq->head || (wq->gated && !wq->open)))
		pthread_cond_wait(&wq->more, &wq->lock);
	struct work_item *item = wq->head;

	if (!item)
		return NULL;
	wq->head = item->next;
	if (!wq->head)
		wq->tail = &wq->head;
	wq->running++;
	return item;
}

/* Runs one item as `t`; an io-wq worker then runs its own task work (io_worker_handle_work()). */
static void run_item(struct task *t, struct work_item *item)
{
	task_enter_kernel(t);
	item->fn(item->arg);
	if (t->kind != TASK_KWORKER)
		task_work_run();
	task_leave_kernel(t);
	free(item);
}

static void item_done(struct workqueue *wq)
{
	wq->running--;
	wq->done++;
	if (!wq->head && wq->running == 0)
		pthread_cond_broadcast(&wq->idle);
}

static void *worker_main(void *arg)
{
	struct wq_thread *self = arg;
	struct workqueue *wq = self->wq;

	current = self->task;
	pthread_mutex_lock(&wq->lock);
	for (;;) {
		struct work_item *item = next_item(wq);

		if (!item)
			break;
		pthread_mutex_unlock(&wq->lock);
		run_item(self->task, item);
		pthread_mutex_lock(&wq->lock);
		item_done(wq);
	}
	pthread_mutex_unlock(&wq->lock);
	current = NULL;
	free(self);
	return NULL;
}

void wq_init(struct workqueue *wq, const char *name, struct task_domain *d, enum task_kind kind, int nthreads,
	     bool gated)
{
	memset(wq, 0, sizeof(*wq));
	wq->name = name;
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->more, NULL);
	pthread_cond_init(&wq->idle, NULL);
	wq->tail = &wq->head;
	wq->gated = gated;
	wq->nthreads = nthreads;
	wq->threads = must(calloc((size_t)(nthreads > 0 ? nthreads : 1), sizeof(*wq->threads)));
	wq->tasks = must(calloc((size_t)(nthreads > 0 ? nthreads : 1), sizeof(*wq->tasks)));
	for (int i = 0; i < nthreads; i++) {
		struct wq_thread *self = must(malloc(sizeof(*self)));

		task_init(&wq->tasks[i], d, kind, NULL, NULL);
		*self = (struct wq_thread){ .wq = wq, .task = &wq->tasks[i] };
		if (pthread_create(&wq->threads[i], NULL, worker_main, self) != 0) {
			fprintf(stderr, "iou-dispatch: cannot start a %s thread\n", name);
			abort();
		}
	}
}

void wq_queue(struct workqueue *wq, void (*fn)(void *), void *arg)
{
	struct work_item *item = must(malloc(sizeof(*item)));

	*item = (struct work_item){ .fn = fn, .arg = arg };
	pthread_mutex_lock(&wq->lock);
	*wq->tail = item;
	wq->tail = &item->next;
	pthread_cond_signal(&wq->more);
	pthread_mutex_unlock(&wq->lock);
}

/* A queue without threads: the flusher runs the items, as a worker would. */
static bool run_here(struct workqueue *wq)
{
	bool ran = false;

	pthread_mutex_lock(&wq->lock);
	while (wq->head) {
		struct work_item *item = wq->head;

		wq->head = item->next;
		if (!wq->head)
			wq->tail = &wq->head;
		pthread_mutex_unlock(&wq->lock);
		item->fn(item->arg);
		free(item);
		ran = true;
		pthread_mutex_lock(&wq->lock);
	}
	pthread_mutex_unlock(&wq->lock);
	return ran;
}

bool wq_flush(struct workqueue *wq)
{
	if (wq->nthreads == 0)
		return run_here(wq);
	pthread_mutex_lock(&wq->lock);
	unsigned long before = wq->done;

	if (wq->gated) {
		wq->open = true;
		pthread_cond_broadcast(&wq->more);
	}
	/* flush_workqueue() sleeps: a quiescent state for RCU-tasks, or a grace period on the queue could wait for us. */
	bool slept = task_sleep_begin(current);

	while (wq->head || wq->running > 0)
		pthread_cond_wait(&wq->idle, &wq->lock);
	task_sleep_end(current, slept);
	if (wq->gated)
		wq->open = false;
	bool ran = wq->done != before;

	pthread_mutex_unlock(&wq->lock);
	return ran;
}

void wq_destroy(struct workqueue *wq)
{
	wq_flush(wq);
	pthread_mutex_lock(&wq->lock);
	wq->stopping = true;
	pthread_cond_broadcast(&wq->more);
	pthread_mutex_unlock(&wq->lock);
	for (int i = 0; i < wq->nthreads; i++) {
		pthread_join(wq->threads[i], NULL);
		task_unlist(&wq->tasks[i]);
	}
	free(wq->threads);
	free(wq->tasks);
	pthread_mutex_destroy(&wq->lock);
	pthread_cond_destroy(&wq->more);
	pthread_cond_destroy(&wq->idle);
}
