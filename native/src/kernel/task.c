// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

_Thread_local struct task *current;

/* Where task_run_guarded()'s setjmp() resumes: 0 is the first return. */
enum { UNWIND_OOPS = 1, UNWIND_HANG = 2 };

static _Noreturn void bug(const char *what)
{
	fprintf(stderr, "iou-dispatch: BUG in the native world: %s\n", what);
	abort();
}

void task_domain_init(struct task_domain *d, struct fd_table *init_files, bool sequential)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->init_files = init_files;
	d->sequential = sequential;
	atomic_init(&d->oopses, 0);
}

void task_domain_destroy(struct task_domain *d)
{
	for (struct task *t = d->tasks; t; t = t->next) {
		task_release(t);
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
	}
	d->tasks = NULL;
	pthread_mutex_destroy(&d->lock);
}

void task_init(struct task *t, struct task_domain *d, enum task_kind kind, void *owner, struct fd_table *files)
{
	memset(t, 0, sizeof(*t));
	t->domain = d;
	t->kind = kind;
	t->owner = owner;
	atomic_init(&t->files, files ? files : d->init_files);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	atomic_init(&t->in_syscall, false);
	atomic_init(&t->dead, false);
	atomic_init(&t->uninterruptible, false);
	atomic_init(&t->rcu_nest, 0);
	pthread_mutex_lock(&d->lock);
	t->next = d->tasks;
	d->tasks = t;
	pthread_mutex_unlock(&d->lock);
}

void task_release(struct task *t)
{
	pthread_mutex_lock(&t->lock);
	struct task_work *w = t->works;

	t->works = NULL;
	pthread_mutex_unlock(&t->lock);
	while (w) {
		struct task_work *next = w->next;

		free(w);
		w = next;
	}
}

void task_unlist(struct task *t)
{
	struct task_domain *d = t->domain;

	task_release(t);
	pthread_mutex_lock(&d->lock);
	for (struct task **p = &d->tasks; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
}

/* ---- task work (kernel/task_work.c) ---- */

int task_work_add(struct task *t, void (*fn)(void *), void *arg)
{
	struct task_work *w = malloc(sizeof(*w));

	if (!w)
		bug("out of memory for task work");
	*w = (struct task_work){ .fn = fn, .arg = arg };
	pthread_mutex_lock(&t->lock);
	if (t->works_exited) {
		pthread_mutex_unlock(&t->lock);
		free(w);
		return -ESRCH;
	}
	w->next = t->works;
	t->works = w;
	/* TWA_SIGNAL: an interruptible sleep wakes to run it. */
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

bool task_work_pending(struct task *t)
{
	pthread_mutex_lock(&t->lock);
	bool pending = t->works != NULL;

	pthread_mutex_unlock(&t->lock);
	return pending;
}

/* Takes the whole list, newest first; an exiting task with none left refuses more. */
static struct task_work *take_works(struct task *t)
{
	pthread_mutex_lock(&t->lock);
	struct task_work *w = t->works;

	t->works = NULL;
	if (!w && t->exiting)
		t->works_exited = true;
	pthread_mutex_unlock(&t->lock);
	return w;
}

void task_work_run(void)
{
	struct task *t = current;

	if (!t)
		bug("task_work_run() outside any task");
	for (;;) {
		struct task_work_batch batch = { .rest = take_works(t), .outer = t->running };

		if (!batch.rest)
			return;
		t->running = &batch;
		while (batch.rest) {
			struct task_work *w = batch.rest;
			void (*fn)(void *) = w->fn;
			void *arg = w->arg;

			batch.rest = w->next;
			free(w);
			fn(arg);
		}
		t->running = batch.outer;
	}
}

/* An oops or a hang ends the task inside task_work_run(): the work it took and never ran goes. */
static void drop_unrun_work(struct task *t)
{
	for (struct task_work_batch *b = t->running; b; b = b->outer) {
		while (b->rest) {
			struct task_work *next = b->rest->next;

			free(b->rest);
			b->rest = next;
		}
	}
	t->running = NULL;
}

void exit_task_work(void)
{
	pthread_mutex_lock(&current->lock);
	current->exiting = true;
	pthread_mutex_unlock(&current->lock);
	task_work_run();
}

void task_wake(struct task *t)
{
	pthread_mutex_lock(&t->lock);
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

/* ---- RCU-tasks ---- */

void task_enter_kernel(struct task *t)
{
	/* Odd: running in the kernel. A full barrier, so the grace period sees it before this task loads anything. */
	if (atomic_fetch_add_explicit(&t->rcu_nest, 1, memory_order_seq_cst) & 1)
		bug("a task entered the kernel twice");
}

void task_leave_kernel(struct task *t)
{
	/* Even: whatever this task loaded inside is no longer in use. */
	atomic_fetch_add_explicit(&t->rcu_nest, 1, memory_order_seq_cst);
}

bool task_sleep_begin(struct task *t)
{
	if (!t || !(atomic_load_explicit(&t->rcu_nest, memory_order_relaxed) & 1))
		return false;
	task_leave_kernel(t);
	return true;
}

void task_sleep_end(struct task *t, bool was_in_kernel)
{
	if (was_in_kernel)
		task_enter_kernel(t);
}

struct holdout {
	struct task *task;
	unsigned long nest;
};

void synchronize_rcu_tasks(struct task_domain *d)
{
	struct task *self = current;
	struct holdout *holdouts = NULL;
	int n = 0, cap = 0;
	bool slept = task_sleep_begin(self);
	atomic_thread_fence(memory_order_seq_cst);
	pthread_mutex_lock(&d->lock);
	for (struct task *t = d->tasks; t; t = t->next) {
		unsigned long nest = atomic_load_explicit(&t->rcu_nest, memory_order_seq_cst);

		if (t == self || !(nest & 1))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			holdouts = realloc(holdouts, (size_t)cap * sizeof(*holdouts));
			if (!holdouts)
				bug("out of memory for an RCU-tasks grace period");
		}
		holdouts[n++] = (struct holdout){ .task = t, .nest = nest };
	}
	pthread_mutex_unlock(&d->lock);
	/* Each holdout has left the kernel or slept once its counter moved: it can no longer use what it loaded. */
	for (int i = 0; i < n; i++)
		while (atomic_load_explicit(&holdouts[i].task->rcu_nest, memory_order_acquire) == holdouts[i].nest)
			sched_yield();
	atomic_thread_fence(memory_order_seq_cst);
	free(holdouts);
	task_sleep_end(self, slept);
}

/* ---- waiting ---- */

void task_wait_event(bool (*done)(void *), void *arg, pthread_mutex_t *lock, pthread_cond_t *cond,
		     bool interruptible)
{
	struct task *t = current;

	if (!t)
		bug("a wait outside any task");
	if (t->domain->sequential) {
		for (;;) {
			if (interruptible)
				task_work_run();
			if (done(arg))
				return;
			bool slept = task_sleep_begin(t);
			bool ran = t->domain->run_others(t->domain->run_others_arg);

			task_sleep_end(t, slept);
			if (!ran && !done(arg)) {
				/* Asleep for good: a quiescent state from now on. */
				atomic_store(&t->dead, true);
				task_sleep_begin(t);
				drop_unrun_work(t);
				longjmp(*t->unwind, UNWIND_HANG);
			}
		}
	}
	if (interruptible) {
		pthread_mutex_lock(&t->lock);
		while (!done(arg)) {
			if (t->works) {
				pthread_mutex_unlock(&t->lock);
				task_work_run();
				pthread_mutex_lock(&t->lock);
				continue;
			}
			bool slept = task_sleep_begin(t);

			pthread_cond_wait(&t->wake, &t->lock);
			task_sleep_end(t, slept);
		}
		pthread_mutex_unlock(&t->lock);
		return;
	}
	pthread_mutex_lock(lock);
	atomic_store(&t->uninterruptible, true);
	bool slept = task_sleep_begin(t);

	while (!done(arg))
		pthread_cond_wait(cond, lock);
	task_sleep_end(t, slept);
	atomic_store(&t->uninterruptible, false);
	pthread_mutex_unlock(lock);
}

/* ---- oops and hang ---- */

void task_oops(void)
{
	struct task *t = current;

	if (!t || !t->unwind)
		bug("an oops outside a guarded kernel entry");
	atomic_fetch_add(&t->domain->oopses, 1);
	atomic_store(&t->dead, true);
	drop_unrun_work(t);
	longjmp(*t->unwind, UNWIND_OOPS);
}

enum task_end task_run_guarded(struct task *t, void (*fn)(void *), void *arg)
{
	struct task *volatile prev = current;
	jmp_buf *volatile outer = t->unwind;
	jmp_buf unwind;
	volatile enum task_end end = TASK_RETURNED;
	bool was_in_syscall = atomic_exchange(&t->in_syscall, true);

	current = t;
	t->unwind = &unwind;
	task_enter_kernel(t);
	switch (setjmp(unwind)) {
	case 0:
		fn(arg);
		task_leave_kernel(t);
		break;
	case UNWIND_OOPS:
		/* make_task_dead(): the task stops where it oopsed; for RCU-tasks it is gone. */
		end = TASK_OOPSED;
		task_leave_kernel(t);
		break;
	default:
		/* task_wait_event() already marked the hung task quiescent. */
		end = TASK_HUNG;
		break;
	}
	t->unwind = outer;
	/* A hung task stays inside its syscall for good. */
	if (end != TASK_HUNG)
		atomic_store(&t->in_syscall, was_in_syscall);
	current = prev;
	return end;
}

static void run_work(void *arg)
{
	(void)arg;
	task_work_run();
}

enum task_end task_run_work_as(struct task *t)
{
	return task_run_guarded(t, run_work, NULL);
}

void task_work_run_for(struct task *t)
{
	struct task *prev = current;

	current = t;
	task_work_run();
	current = prev;
}
