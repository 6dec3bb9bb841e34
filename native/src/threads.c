// SPDX-License-Identifier: MIT
/* The kernel lane's stand-ins on the shared timing pool (pool.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "standins.h"
#include "threads.h"

struct standin_variants {
	const struct run_opts *opts;
	int shared_fd;		/* the file every thread shares (SHARE_SAME) */
};

static int setup(void *arg, int worker, int v, void **ctxp)
{
	struct standin_variants *sv = arg;

	(void)worker;
	return standin_pool_setup(&standin_defs[sv->opts->standins[v]], sv->shared_fd,
				  (struct standin_ctx **)ctxp);
}

int run_standins(const struct run_opts *o, struct run_result *res)
{
	struct standin_variants sv = { .opts = o };
	struct pool_variants variants = {
		.count = o->nstandins, .arg = &sv, .setup = setup, .run = standin_pool_run, .teardown = standin_pool_teardown,
	};
	int ncells = o->nstandins * o->nbatches * o->nthreads, c = 0;
	struct pool_cell *cells = calloc((size_t)ncells + 1, sizeof(*cells));

	memset(res, 0, sizeof(*res));
	res->rounds = o->rounds;
	res->cells = calloc((size_t)ncells + 1, sizeof(*res->cells));
	sv.shared_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!cells || !res->cells || sv.shared_fd < 0) {
		snprintf(res->error, sizeof(res->error), "cannot prepare the run: %s", strerror(errno));
		free(cells);
		if (sv.shared_fd >= 0)
			close(sv.shared_fd);
		return -1;
	}
	/* Cells in round order: threads, then batch, then stand-in. */
	for (int t = 0; t < o->nthreads; t++)
		for (int b = 0; b < o->nbatches; b++)
			for (int s = 0; s < o->nstandins; s++)
				cells[c++] = (struct pool_cell){ .variant = s, .batch = o->batches[b], .threads = o->threads[t] };
	struct pool_plan plan = {
		.cells = cells, .ncells = ncells, .rounds = o->rounds, .sample_ms = o->sample_ms,
		.cpus = o->cpus, .ncpus = o->ncpus, .progress = o->progress, .progress_arg = o->progress_arg,
	};
	int ret = pool_run(&variants, &plan, res->error, sizeof(res->error));

	close(sv.shared_fd);
	res->ncells = ncells;
	for (int i = 0; i < ncells; i++)
		res->cells[i] = (struct run_cell){
			.standin = o->standins[cells[i].variant], .batch = cells[i].batch,
			.threads = cells[i].threads, .error = cells[i].error, .iters = cells[i].iters,
			.ns_per_req = cells[i].ns_per_req,
		};
	free(cells);
	return ret;
}

void run_free(struct run_result *res)
{
	for (int i = 0; i < res->ncells; i++)
		free(res->cells[i].ns_per_req);
	free(res->cells);
	memset(res, 0, sizeof(*res));
}
