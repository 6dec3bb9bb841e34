// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "standins.h"
#include "threads.h"

/* What the coordinator asks of the workers for one sample. */
struct command {
	int stop;
	int slot;		/* index into opts->standins */
	unsigned batch;
	unsigned long iters;
	int active;		/* workers 0..active-1 run; the rest sit it out */
};

struct pool {
	const struct run_opts *opts;
	pthread_barrier_t start, end;
	struct command cmd;
	int shared_fd;
	int nworkers;
	struct worker {
		pthread_t thread;
		int index;
		struct pool *pool;
		struct standin_ctx ctx[RUN_MAX_LIST];
		long long elapsed;
	} *workers;
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	const struct run_opts *o = p->opts;

	if (o->ncpus > 0)
		pin(o->cpus[w->index % o->ncpus]);
	/* Rings are SINGLE_ISSUER: each thread sets up the rings it submits on. */
	for (int s = 0; s < o->nstandins; s++)
		standin_setup(&w->ctx[s], &standin_defs[o->standins[s]], p->shared_fd);
	pthread_barrier_wait(&p->end);	/* setup done */
	for (;;) {
		pthread_barrier_wait(&p->start);
		if (p->cmd.stop)
			break;
		w->elapsed = 0;
		if (w->index < p->cmd.active && w->ctx[p->cmd.slot].error == 0)
			w->elapsed = standin_run(&w->ctx[p->cmd.slot], p->cmd.batch, p->cmd.iters);
		pthread_barrier_wait(&p->end);
	}
	for (int s = 0; s < o->nstandins; s++)
		standin_teardown(&w->ctx[s]);
	return NULL;
}

/* Runs one sample on `active` workers; returns the mean ns/request, or a negative errno. */
static double sample(struct pool *p, int slot, unsigned batch, unsigned long iters, int active)
{
	double sum = 0;

	p->cmd = (struct command){ .slot = slot, .batch = batch, .iters = iters, .active = active };
	pthread_barrier_wait(&p->start);
	pthread_barrier_wait(&p->end);
	for (int i = 0; i < active; i++) {
		if (p->workers[i].elapsed < 0)
			return (double)p->workers[i].elapsed;
		sum += (double)p->workers[i].elapsed / ((double)iters * batch);
	}
	return sum / active;
}

/* Batches per sample so one sample lasts about sample_ms on one thread. */
static unsigned long calibrate(struct pool *p, int slot, unsigned batch)
{
	unsigned long iters = 16;
	double ns = sample(p, slot, batch, iters, 1);

	if (ns < 0)
		return 0;
	iters = (unsigned long)(p->opts->sample_ms * 1e6 / (ns * batch));
	return iters < 4 ? 4 : iters;
}

static int start_pool(struct pool *p, const struct run_opts *o, char *err, size_t errlen)
{
	int max = 1;

	for (int i = 0; i < o->nthreads; i++)
		if (o->threads[i] > max)
			max = o->threads[i];
	memset(p, 0, sizeof(*p));
	p->opts = o;
	p->nworkers = max;
	p->shared_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	p->workers = calloc((size_t)max, sizeof(*p->workers));
	if (p->shared_fd < 0 || !p->workers) {
		snprintf(err, errlen, "cannot prepare the run: %s", strerror(errno));
		return -1;
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

static void stop_pool(struct pool *p)
{
	p->cmd.stop = 1;
	pthread_barrier_wait(&p->start);
	for (int i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i].thread, NULL);
	pthread_barrier_destroy(&p->start);
	pthread_barrier_destroy(&p->end);
	free(p->workers);
	close(p->shared_fd);
}

/* The first worker's setup error for `slot`, or 0: a stand-in runs everywhere or nowhere. */
static int slot_error(struct pool *p, int slot)
{
	for (int i = 0; i < p->nworkers; i++)
		if (p->workers[i].ctx[slot].error)
			return p->workers[i].ctx[slot].error;
	return 0;
}

int run_standins(const struct run_opts *o, struct run_result *res)
{
	struct pool pool;
	int done = 0, total;

	memset(res, 0, sizeof(*res));
	res->rounds = o->rounds;
	res->ncells = o->nstandins * o->nbatches * o->nthreads;
	res->cells = calloc((size_t)res->ncells, sizeof(*res->cells));
	if (!res->cells) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -1;
	}
	if (start_pool(&pool, o, res->error, sizeof(res->error)) < 0)
		return -1;

	/* Cells in round order: threads, then batch, then stand-in. */
	int c = 0;

	for (int t = 0; t < o->nthreads; t++)
		for (int b = 0; b < o->nbatches; b++)
			for (int s = 0; s < o->nstandins; s++) {
				struct run_cell *cell = &res->cells[c++];

				cell->standin = o->standins[s];
				cell->batch = o->batches[b];
				cell->threads = o->threads[t];
				cell->error = slot_error(&pool, s);
				cell->ns_per_req = calloc((size_t)o->rounds, sizeof(double));
			}
	/* Calibrate once per (stand-in, batch); every thread count uses the same length. */
	for (int i = 0; i < res->ncells; i++) {
		struct run_cell *cell = &res->cells[i];
		int s = i % o->nstandins;

		if (cell->error)
			continue;
		if (i < o->nstandins * o->nbatches)
			cell->iters = calibrate(&pool, s, cell->batch);
		else
			cell->iters = res->cells[i % (o->nstandins * o->nbatches)].iters;
		if (cell->iters == 0)
			cell->error = -EIO;
	}
	total = res->ncells * o->rounds;
	for (int r = 0; r < o->rounds; r++) {
		for (int i = 0; i < res->ncells; i++) {
			struct run_cell *cell = &res->cells[i];

			if (!cell->error) {
				double ns = sample(&pool, i % o->nstandins, cell->batch, cell->iters, cell->threads);

				if (ns < 0)
					cell->error = (int)ns;
				else
					cell->ns_per_req[r] = ns;
			}
			if (o->progress)
				o->progress(o->progress_arg, ++done, total);
		}
	}
	stop_pool(&pool);
	return 0;
}

void run_free(struct run_result *res)
{
	for (int i = 0; i < res->ncells; i++)
		free(res->cells[i].ns_per_req);
	free(res->cells);
	memset(res, 0, sizeof(*res));
}
