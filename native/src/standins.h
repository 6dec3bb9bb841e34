/* SPDX-License-Identifier: MIT */
/*
 * Stock-kernel stand-ins for each design's per-request lookup
 * (DESIGN.md section 4): NOP variants that exercise the same primitive.
 */
#ifndef IOU_STANDINS_H
#define IOU_STANDINS_H

#include "ring.h"

/* Largest batch: one submission fills at most the whole SQ. */
#define STANDIN_MAX_BATCH 256

enum standin_sharing {
	SHARE_NONE,	/* no file */
	SHARE_SAME,	/* every thread uses the one shared file */
	SHARE_OWN,	/* each thread its own file */
};

struct standin_def {
	const char *name;
	const char *designs;	/* the designs whose lookup it stands in for */
	const char *what;
	unsigned nop_flags;
	unsigned sqe_flags;
	enum standin_sharing sharing;
	int buffer;		/* register a buffer for IORING_NOP_FIXED_BUFFER */
	int personality_depth;	/* 0, or the xarray depth the SQE's personality id needs */
};

extern const struct standin_def standin_defs[];
extern const int standin_count;

/* One thread's ring and resources for one stand-in. */
struct standin_ctx {
	const struct standin_def *def;
	struct ring ring;
	int own_fd;
	int file_fd;		/* the fd the SQEs (or the fixed table) use */
	unsigned short personality;
	int error;		/* 0, or -errno why it cannot run here */
	int check_res;		/* CQE res of the one-request check */
	unsigned long long user_data;	/* every SQE's user_data (1 unless set after setup) */
};

/*
 * Prepares `ctx` on the calling thread (rings are SINGLE_ISSUER: the thread
 * that sets one up must submit on it). `shared_fd` is the file every thread
 * shares. Runs one request and records its result; sets ctx->error when the
 * stand-in cannot run here (setup refused, or the request failed).
 */
void standin_setup(struct standin_ctx *ctx, const struct standin_def *def, int shared_fd);
void standin_teardown(struct standin_ctx *ctx);

/* Submits one batch of `batch` requests and reaps them: 0, or -errno of a failed request. */
int standin_batch(struct standin_ctx *ctx, unsigned batch);

/* Runs `iters` batches of `batch` requests; returns elapsed ns, or -errno of a failed request. */
long long standin_run(struct standin_ctx *ctx, unsigned batch, unsigned long iters);

/*
 * Pool adapters (pool.h) for a variant whose context is a malloc'd standin_ctx:
 * standin_pool_setup() allocates and sets one up, or frees it and returns why it cannot run.
 */
int standin_pool_setup(const struct standin_def *def, int shared_fd, struct standin_ctx **out);
long long standin_pool_run(void *ctx, unsigned batch, unsigned long iters);
void standin_pool_teardown(void *arg, void *ctx);

/* The index of the stand-in called `name`, or -1. */
int standin_find(const char *name);

#endif
