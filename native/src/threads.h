/* SPDX-License-Identifier: MIT */
/*
 * The kernel lane's measurement: a pool of threads, one ring per thread
 * and stand-in, timing whole batches in interleaved rounds (every cell once
 * per round), so that drift between rounds hits every variant alike.
 */
#ifndef IOU_THREADS_H
#define IOU_THREADS_H

#define RUN_MAX_LIST 16
#define RUN_MAX_THREADS 1024	/* POOL_MAX_THREADS */

struct run_opts {
	int standins[RUN_MAX_LIST];	/* indices into standin_defs */
	int nstandins;
	unsigned batches[RUN_MAX_LIST];
	int nbatches;
	int threads[RUN_MAX_LIST];	/* thread counts to measure */
	int nthreads;
	int cpus[RUN_MAX_THREADS];	/* worker i runs on cpus[i % ncpus]; ncpus 0: no pinning */
	int ncpus;
	int rounds;
	double sample_ms;		/* target duration of one timed sample */
	void (*progress)(void *arg, int done, int total);
	void *progress_arg;
};

/* One (stand-in, batch, threads) cell: its status and its per-round cost. */
struct run_cell {
	int standin;
	unsigned batch;
	int threads;
	int error;		/* 0, or -errno: why the stand-in cannot run (then no values) */
	unsigned long iters;	/* batches per thread per sample */
	double *ns_per_req;	/* [rounds]: mean over the cell's threads */
};

struct run_result {
	struct run_cell *cells;
	int ncells;
	int rounds;
	char error[256];	/* set when the run as a whole failed */
};

/* Runs the whole measurement; returns 0 or -1 with result->error set. Free with run_free(). */
int run_standins(const struct run_opts *opts, struct run_result *result);
void run_free(struct run_result *result);

#endif
