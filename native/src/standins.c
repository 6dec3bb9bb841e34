// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "standins.h"

#define RING_ENTRIES STANDIN_MAX_BATCH

const struct standin_def standin_defs[] = {
	{ "nop", "global-array", "IORING_OP_NOP: dispatch through io_issue_defs[opcode]",
	  0, 0, SHARE_NONE, 0, 0 },
	{ "nop-async", "global-array", "NOP with IOSQE_ASYNC: the io-wq path",
	  0, IOSQE_ASYNC, SHARE_NONE, 0, 0 },
	{ "file-same", "per-fd", "NOP_FILE on one fd all threads share: fget/fput on one file",
	  IORING_NOP_FILE, 0, SHARE_SAME, 0, 0 },
	{ "file-own", "per-fd", "NOP_FILE on a file of the thread's own",
	  IORING_NOP_FILE, 0, SHARE_OWN, 0, 0 },
	{ "fixed-same", "per-ctx per-fd-fixed", "NOP_FILE|NOP_FIXED_FILE, one file registered in every ring",
	  IORING_NOP_FILE | IORING_NOP_FIXED_FILE, 0, SHARE_SAME, 0, 0 },
	{ "fixed-own", "per-ctx per-fd-fixed", "NOP_FILE|NOP_FIXED_FILE, each ring its own file",
	  IORING_NOP_FILE | IORING_NOP_FIXED_FILE, 0, SHARE_OWN, 0, 0 },
	{ "fixed-buffer", "per-ctx per-fd-fixed", "NOP_FIXED_BUFFER: a registered-buffer node lookup",
	  IORING_NOP_FIXED_BUFFER, 0, SHARE_NONE, 1, 0 },
	{ "personality-d1", "array-xarray global-alloc", "NOP with a personality id <= 63: xa_load at depth 1 (+ creds ref)",
	  0, 0, SHARE_NONE, 0, 1 },
	{ "personality-d2", "array-xarray global-alloc", "NOP with a personality id in 64..4095: depth 2",
	  0, 0, SHARE_NONE, 0, 2 },
	{ "personality-d3", "array-xarray global-alloc", "NOP with a personality id >= 4096: depth 3",
	  0, 0, SHARE_NONE, 0, 3 },
};

const int standin_count = sizeof(standin_defs) / sizeof(standin_defs[0]);

int standin_find(const char *name)
{
	for (int i = 0; i < standin_count; i++)
		if (strcmp(standin_defs[i].name, name) == 0)
			return i;
	return -1;
}

/* Registers personalities until one needs `depth` xarray levels; keeps only that one. */
static int make_personality(struct ring *r, int depth, unsigned short *out)
{
	static const unsigned min_id[] = { 0, 1, 64, 4096 };
	int id;

	for (;;) {
		id = ring_register(r, IORING_REGISTER_PERSONALITY, NULL, 0);
		if (id < 0)
			return id;
		if ((unsigned)id >= min_id[depth])
			break;
	}
	/* Drop the ones below: the tree keeps the height the kept id needs. */
	for (int lower = 1; lower < id; lower++)
		ring_register(r, IORING_UNREGISTER_PERSONALITY, NULL, (unsigned)lower);
	*out = (unsigned short)id;
	return 0;
}

static void fill_sqe(struct standin_ctx *ctx, struct iou_sqe *sqe)
{
	const struct standin_def *def = ctx->def;

	sqe->opcode = IORING_OP_NOP;
	sqe->nop_flags = def->nop_flags;
	sqe->flags = (unsigned char)def->sqe_flags;
	sqe->fd = (def->nop_flags & IORING_NOP_FIXED_FILE) ? 0 : ctx->file_fd;
	sqe->personality = ctx->personality;
	sqe->user_data = ctx->user_data;
}

void standin_setup(struct standin_ctx *ctx, const struct standin_def *def, int shared_fd)
{
	static __thread char buf[4096];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->def = def;
	ctx->own_fd = -1;
	ctx->file_fd = -1;
	ctx->user_data = 1;
	ret = ring_init(&ctx->ring, RING_ENTRIES, 0, 1);
	if (ret < 0) {
		ctx->error = ret;
		return;
	}
	if (def->sharing == SHARE_OWN) {
		ctx->own_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (ctx->own_fd < 0) {
			ctx->error = -errno;
			return;
		}
		ctx->file_fd = ctx->own_fd;
	} else if (def->sharing == SHARE_SAME) {
		ctx->file_fd = shared_fd;
	}
	if (def->nop_flags & IORING_NOP_FIXED_FILE)
		ret = ring_register(&ctx->ring, IORING_REGISTER_FILES, &ctx->file_fd, 1);
	if (ret >= 0 && def->buffer)
		ret = ring_register(&ctx->ring, IORING_REGISTER_BUFFERS, &iov, 1);
	if (ret >= 0 && def->personality_depth)
		ret = make_personality(&ctx->ring, def->personality_depth, &ctx->personality);
	if (ret < 0) {
		ctx->error = ret;
		return;
	}
	ret = (int)standin_run(ctx, 1, 1);
	if (ret < 0)
		ctx->error = ret;
}

void standin_teardown(struct standin_ctx *ctx)
{
	if (ctx->ring.sq_map)
		ring_exit(&ctx->ring);
	if (ctx->own_fd >= 0)
		close(ctx->own_fd);
	ctx->own_fd = -1;
}

int standin_batch(struct standin_ctx *ctx, unsigned batch)
{
	struct iou_cqe cqes[RING_ENTRIES];
	struct ring *r = &ctx->ring;
	unsigned done = 0;

	for (unsigned i = 0; i < batch; i++)
		fill_sqe(ctx, ring_get_sqe(r));
	int ret = ring_submit_and_wait(r, batch);

	if (ret < 0)
		return ret;
	while (done < batch) {
		unsigned n = ring_reap(r, cqes, batch - done);

		for (unsigned i = 0; i < n; i++) {
			ctx->check_res = cqes[i].res;
			if (cqes[i].res < 0)
				return cqes[i].res;
		}
		done += n;
		if (done < batch && n == 0) {
			ret = ring_submit_and_wait(r, batch - done);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

long long standin_run(struct standin_ctx *ctx, unsigned batch, unsigned long iters)
{
	long long start = clock_now_ns();

	for (unsigned long it = 0; it < iters; it++) {
		int ret = standin_batch(ctx, batch);

		if (ret < 0)
			return ret;
	}
	return clock_now_ns() - start;
}

int standin_pool_setup(const struct standin_def *def, int shared_fd, struct standin_ctx **out)
{
	struct standin_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	standin_setup(ctx, def, shared_fd);
	if (ctx->error) {
		int error = ctx->error;

		standin_teardown(ctx);
		free(ctx);
		return error;
	}
	*out = ctx;
	return 0;
}

long long standin_pool_run(void *ctx, unsigned batch, unsigned long iters)
{
	return standin_run(ctx, batch, iters);
}

void standin_pool_teardown(void *arg, void *ctx)
{
	(void)arg;
	standin_teardown(ctx);
	free(ctx);
}
