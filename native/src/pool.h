/* SPDX-License-Identifier: MIT */
/*
 * The timing harness every native lane shares: a pool of threads, each
 * with its own set-up variants (rings are SINGLE_ISSUER: the thread that
 * sets one up submits on it), timing whole batches in interleaved rounds:
 * every cell once per round, so drift between rounds hits every variant
 * alike (DESIGN.md section 5).
 */
#ifndef IOU_POOL_H
#define IOU_POOL_H

#include <stddef.h>

/* Workers are allocated per run; this bounds a cell's thread count and the pin list. */
#define POOL_MAX_THREADS 1024

/* What the pool runs: `count` variants, set up once per worker. */
struct pool_variants {
	int count;
	void *arg;
	/* On worker `worker`'s thread: set up variant `v`; 0 or -errno (then the variant cannot run there). */
	int (*setup)(void *arg, int worker, int v, void **ctx);
	/* Runs `iters` batches of `batch` requests: elapsed ns, or -errno of a failed request. */
	long long (*run)(void *ctx, unsigned batch, unsigned long iters);
	void (*teardown)(void *arg, void *ctx);
	/* Optional, on the coordinating thread around every sample of variant `v` (global state: attach, detach). */
	int (*before)(void *arg, int v);
	void (*after)(void *arg, int v);
};

/* One measured cell: a variant at one batch size on `threads` workers at once. */
struct pool_cell {
	int variant;
	unsigned batch;
	int threads;
	int error;		/* 0, or -errno: why the cell cannot run (then no values) */
	unsigned long iters;	/* batches per thread per sample */
	double *ns_per_req;	/* [rounds]: mean over the cell's threads; the pool allocates it */
};

struct pool_plan {
	struct pool_cell *cells;
	int ncells;
	int rounds;
	double sample_ms;	/* target duration of one timed sample */
	const int *cpus;	/* worker i runs on cpus[i % ncpus]; ncpus 0: no pinning */
	int ncpus;
	void (*progress)(void *arg, int done, int total);
	void *progress_arg;
};

/*
 * Runs every cell `rounds` times; returns 0, or -1 with `err` set when the
 * run as a whole failed (also when a worker cannot be pinned to its CPU:
 * a run that asked for a placement must not silently run without it).
 */
int pool_run(const struct pool_variants *v, struct pool_plan *plan, char *err, size_t errlen);
/*
 * Ctrl-C: every pool_run in this process, running or to come, stops after
 * its current sample and fails with "cancelled". Safe from any thread; not undone.
 */
void pool_cancel(void);
/* Frees the cells' values. */
void pool_cells_free(struct pool_cell *cells, int ncells);

#endif
