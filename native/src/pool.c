// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* What the coordinator asks of the workers for one sample. */
struct command {
	int stop;
	int variant;
	unsigned batch;
	unsigned long iters;
	int active;		/* workers 0..active-1 run; the rest sit it out */
};

struct pool {
	const struct pool_variants *v;
	const struct pool_plan *plan;
	pthread_barrier_t start, end;
	struct command cmd;
	int nworkers;
	struct worker {
		pthread_t thread;
		int index;
		struct pool *pool;
		void **ctx;	/* [v->count] */
		int *error;	/* [v->count] */
		int pin_error;	/* 0, or -errno of pinning to its CPU */
		long long elapsed;
	} *workers;
};

/* Pins the calling thread to `cpu`: 0 or -errno (EINVAL: not a CPU this process may run on). */
static int pin(int cpu)
{
	/* Allocated: cpu_set_t holds CPUs 0..1023 only, and big machines number past that. */
	cpu_set_t *set = cpu >= 0 ? CPU_ALLOC((size_t)cpu + 1) : NULL;
	size_t size = CPU_ALLOC_SIZE((size_t)cpu + 1);
	int ret;

	if (!set)
		return cpu < 0 ? -EINVAL : -ENOMEM;
	CPU_ZERO_S(size, set);
	CPU_SET_S((size_t)cpu, size, set);
	ret = -pthread_setaffinity_np(pthread_self(), size, set);
	CPU_FREE(set);
	return ret;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	const struct pool_plan *plan = p->plan;

	if (plan->ncpus > 0)
		w->pin_error = pin(plan->cpus[w->index % plan->ncpus]);
	for (int v = 0; v < p->v->count; v++)
		w->error[v] = p->v->setup(p->v->arg, w->index, v, &w->ctx[v]);
	pthread_barrier_wait(&p->end);	/* setup done */
	for (;;) {
		pthread_barrier_wait(&p->start);
		if (p->cmd.stop)
			break;
		w->elapsed = 0;
		if (w->index < p->cmd.active)
			w->elapsed = p->v->run(w->ctx[p->cmd.variant], p->cmd.batch, p->cmd.iters);
		pthread_barrier_wait(&p->end);
	}
	for (int v = 0; v < p->v->count; v++)
		if (w->error[v] == 0)
			p->v->teardown(p->v->arg, w->ctx[v]);
	return NULL;
}

/* Runs one sample on `active` workers; returns the mean ns/request, or a negative errno. */
static double sample(struct pool *p, int variant, unsigned batch, unsigned long iters, int active)
{
	double sum = 0;

	if (p->v->before) {
		int ret = p->v->before(p->v->arg, variant);

		if (ret < 0)
			return ret;
	}
	p->cmd = (struct command){ .variant = variant, .batch = batch, .iters = iters, .active = active };
	pthread_barrier_wait(&p->start);
	pthread_barrier_wait(&p->end);
	if (p->v->after)
		p->v->after(p->v->arg, variant);
	for (int i = 0; i < active; i++) {
		if (p->workers[i].elapsed < 0)
			return (double)p->workers[i].elapsed;
		/* A clock that did not move cannot time anything: fail rather than report 0 ns. */
		if (p->workers[i].elapsed == 0)
			return -ETIME;
		sum += (double)p->workers[i].elapsed / ((double)iters * batch);
	}
	return sum / active;
}

/*
 * Batches per sample so one sample lasts about sample_ms on one thread, or
 * -errno. The trial grows until it spans a millisecond: a coarse clock (a
 * guest under QEMU TCG may fall back to jiffies) reads 0 for a short one.
 */
static long calibrate(struct pool *p, int variant, unsigned batch)
{
	unsigned long trial = 16;
	double ns;

	for (;;) {
		ns = sample(p, variant, batch, trial, 1);
		if (ns < 0 && ns != -ETIME)
			return (long)ns;
		if (ns > 0 && ns * batch * trial >= 1e6)
			break;
		if (trial >= 1UL << 30)
			return -ETIME;
		trial *= 8;
	}
	long iters = (long)(p->plan->sample_ms * 1e6 / (ns * batch));

	return iters < 4 ? 4 : iters;
}

static int start_pool(struct pool *p, const struct pool_variants *v, const struct pool_plan *plan,
		      char *err, size_t errlen)
{
	int max = 1;

	for (int i = 0; i < plan->ncells; i++)
		if (plan->cells[i].threads > max)
			max = plan->cells[i].threads;
	memset(p, 0, sizeof(*p));
	p->v = v;
	p->plan = plan;
	p->nworkers = max;
	p->workers = calloc((size_t)max, sizeof(*p->workers));
	if (!p->workers) {
		snprintf(err, errlen, "out of memory for %d workers", max);
		return -1;
	}
	for (int i = 0; i < max; i++) {
		p->workers[i].ctx = calloc((size_t)v->count + 1, sizeof(void *));
		p->workers[i].error = calloc((size_t)v->count + 1, sizeof(int));
		if (!p->workers[i].ctx || !p->workers[i].error) {
			snprintf(err, errlen, "out of memory for worker %d", i);
			return -1;
		}
	}
	pthread_barrier_init(&p->start, NULL, (unsigned)max + 1);
	pthread_barrier_init(&p->end, NULL, (unsigned)max + 1);
	for (int i = 0; i < max; i++) {
		p->workers[i].index = i;
		p->workers[i].pool = p;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
			/* Threads already started would wait forever at the barrier: give up loudly. */
			fprintf(stderr, "iou-dispatch: pthread_create failed for worker %d\n", i);
			abort();
		}
	}
	pthread_barrier_wait(&p->end);
	return 0;
}

/* The first worker that could not be pinned, named in `err`: -1; or 0 when every one was. */
static int check_pins(const struct pool *p, char *err, size_t errlen)
{
	for (int i = 0; i < p->nworkers; i++) {
		const struct worker *w = &p->workers[i];

		if (w->pin_error) {
			snprintf(err, errlen, "cannot pin worker %d to CPU %d: %s", i,
				 p->plan->cpus[i % p->plan->ncpus], strerror(-w->pin_error));
			return -1;
		}
	}
	return 0;
}

static void stop_pool(struct pool *p)
{
	p->cmd.stop = 1;
	pthread_barrier_wait(&p->start);
	for (int i = 0; i < p->nworkers; i++) {
		pthread_join(p->workers[i].thread, NULL);
		free(p->workers[i].ctx);
		free(p->workers[i].error);
	}
	pthread_barrier_destroy(&p->start);
	pthread_barrier_destroy(&p->end);
	free(p->workers);
}

/* The first setup error among the workers a cell uses, or 0. */
static int cell_error(struct pool *p, const struct pool_cell *cell)
{
	for (int i = 0; i < cell->threads; i++)
		if (p->workers[i].error[cell->variant])
			return p->workers[i].error[cell->variant];
	return 0;
}

static atomic_int cancelled;

void pool_cancel(void)
{
	atomic_store(&cancelled, 1);
}

int pool_run(const struct pool_variants *v, struct pool_plan *plan, char *err, size_t errlen)
{
	struct pool pool;
	int done = 0, total = plan->ncells * plan->rounds;

	for (int i = 0; i < plan->ncells; i++) {
		plan->cells[i].ns_per_req = calloc((size_t)plan->rounds, sizeof(double));
		if (!plan->cells[i].ns_per_req) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (start_pool(&pool, v, plan, err, errlen) < 0)
		return -1;
	if (check_pins(&pool, err, errlen) < 0) {
		stop_pool(&pool);
		return -1;
	}
	/* Calibrate once per (variant, batch); every thread count uses the same length. */
	for (int i = 0; i < plan->ncells && !atomic_load(&cancelled); i++) {
		struct pool_cell *cell = &plan->cells[i];

		cell->error = cell_error(&pool, cell);
		if (cell->error)
			continue;
		for (int j = 0; j < i && !cell->iters; j++)
			if (plan->cells[j].variant == cell->variant && plan->cells[j].batch == cell->batch)
				cell->iters = plan->cells[j].iters;
		if (!cell->iters) {
			long iters = calibrate(&pool, cell->variant, cell->batch);

			if (iters < 0)
				cell->error = (int)iters;
			else
				cell->iters = (unsigned long)iters;
		}
	}
	for (int r = 0; r < plan->rounds && !atomic_load(&cancelled); r++) {
		for (int i = 0; i < plan->ncells && !atomic_load(&cancelled); i++) {
			struct pool_cell *cell = &plan->cells[i];

			if (!cell->error) {
				double ns = sample(&pool, cell->variant, cell->batch, cell->iters, cell->threads);

				if (ns < 0)
					cell->error = (int)ns;
				else
					cell->ns_per_req[r] = ns;
			}
			if (plan->progress)
				plan->progress(plan->progress_arg, ++done, total);
		}
	}
	stop_pool(&pool);
	if (atomic_load(&cancelled)) {
		snprintf(err, errlen, "cancelled");
		return -1;
	}
	return 0;
}

void pool_cells_free(struct pool_cell *cells, int ncells)
{
	for (int i = 0; i < ncells; i++)
		free(cells[i].ns_per_req);
}
