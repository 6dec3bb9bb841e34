// SPDX-License-Identifier: MIT
/*
 * iou-patched: times real IORING_OP_BPF requests on a kernel with Ming
 * Lei's series (the patched lane). Built by the lane at run time, only
 * when the series is detected and clang and libbpf are installed:
 *
 *   iou-patched --version v1|v2|v3 --object uring_ops.bpf.o [--setup-bit N]
 *               [--batches 32,128] [--threads 1,2] [--cpus 0,2] [--rounds N] [--sample-ms MS]
 *
 * --cpus: worker i runs on cpus[i % n] (the bench's placement); a CPU it
 * cannot be pinned to fails the run.
 * --setup-bit: the bit the kernel's setup flag sits on, when a rebase moved
 * it (7.2 gave bit 20 to IORING_SETUP_SQ_REWIND); by default the version's.
 *
 * Variants, interleaved in rounds on the shared pool (pool.c): a plain NOP
 * on the same ring (the baseline), and IORING_OP_BPF naming the no-op
 * program, the array-lookup program and the program that sets the CQE
 * result. v1 registers the three once, with global ids, and every ring
 * names the same programs; v2 and v3 register one struct_ops map per
 * (ring, op), as their UAPI requires, with ring_fd and id in the value.
 * Prints one JSON object: { "cells": [ { variant, batch, threads, error,
 * nsPerReq: [...] } ] }, and exits 1 when no IORING_OP_BPF cell ran (the
 * NOP baseline alone is no result). Every CQE is checked: 0 from the no-op
 * and array programs, RESULT_VALUE from the one that sets it.
 *
 *   iou-patched --version v2|v3 --object uring_ops.bpf.o --memory 10,40
 *
 * measures instead the kernel's own memory per registration (memory.c)
 * and prints { "version", "ops", "memory": [ ... ] }.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/clock.h"
#include "../src/pool.h"
#include "../src/ring.h"
#include "memory.h"
#include "uring_ops.h"

enum variant { V_NOP, V_BPF_NOP, V_BPF_ARRAY, V_BPF_RESULT, V_COUNT };

static const char *const variant_names[V_COUNT] = { "nop", "bpf-nop", "bpf-array", "bpf-result" };
static const char *const map_names[V_COUNT] = { NULL, NOP_OPS_MAP, "array_ops", "result_ops" };
static const int op_ids[V_COUNT] = { 0, OP_NOP, OP_ARRAY, OP_RESULT };


struct opts {
	const char *version;
	const char *object;
	unsigned setup_flags;
	int per_ring;		/* v2/v3: one map per (ring, op) */
};

struct worker_ring {
	struct ring ring;
	struct bpf_object *obj;	/* v2/v3: this ring's registrations */
	struct bpf_link *links[V_COUNT];
	int variant;
};

static struct opts o;
static volatile sig_atomic_t interrupted;
static struct bpf_object *global_obj;
static struct bpf_link *global_links[V_COUNT];

/*
 * SIGINT, SIGTERM: stop after the current sample and unregister everything
 * before exiting. Links left for exit to close are released after exit has
 * dropped the fd table, and v2's unregister looks ring_fd up in it: on v2
 * rebased to 7.2 that is a NULL dereference in fget (seen in the VM).
 */
static void on_signal(int sig)
{
	interrupted = sig;
	pool_cancel();
}

/* Opens the object, sets each map's id (and ring_fd), loads it and attaches every map. */
static int register_ops(int ring_fd, struct bpf_object **objp, struct bpf_link **links)
{
	struct bpf_object *obj = bpf_object__open_file(o.object, NULL);

	if (!obj)
		return -errno;
	for (int v = V_BPF_NOP; v < V_COUNT; v++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, map_names[v]);
		size_t size = 0;
		struct ops_value *value = map ? (struct ops_value *)bpf_map__initial_value(map, &size) : NULL;

		if (!value || size < sizeof(unsigned short)) {
			bpf_object__close(obj);
			return -ENOENT;
		}
		value->id = (unsigned short)op_ids[v];
		if (o.per_ring && size >= sizeof(*value))
			value->ring_fd = ring_fd;
	}
	int ret = bpf_object__load(obj);

	for (int v = V_BPF_NOP; ret == 0 && v < V_COUNT; v++) {
		links[v] = bpf_map__attach_struct_ops(bpf_object__find_map_by_name(obj, map_names[v]));
		if (!links[v])
			ret = -errno;
	}
	if (ret < 0) {
		for (int v = V_BPF_NOP; v < V_COUNT; v++)
			if (links[v])
				bpf_link__destroy(links[v]);
		bpf_object__close(obj);
		return ret;
	}
	*objp = obj;
	return 0;
}

static int setup(void *arg, int worker, int v, void **ctxp)
{
	struct worker_ring *w = calloc(1, sizeof(*w));
	int ret;

	(void)arg;
	(void)worker;
	if (!w)
		return -ENOMEM;
	w->variant = v;
	ret = ring_init(&w->ring, 256, o.setup_flags, 1);
	if (ret == 0 && o.per_ring && v != V_NOP)
		ret = register_ops(w->ring.fd, &w->obj, w->links);
	if (ret < 0) {
		if (w->ring.sq_map)
			ring_exit(&w->ring);
		free(w);
		return ret;
	}
	*ctxp = w;
	return 0;
}

static long long run(void *ctx, unsigned batch, unsigned long iters)
{
	struct worker_ring *w = ctx;
	struct iou_cqe cqes[256];
	int want = w->variant == V_BPF_RESULT ? RESULT_VALUE : 0;
	long long start = clock_now_ns();

	for (unsigned long it = 0; it < iters; it++) {
		for (unsigned i = 0; i < batch; i++) {
			struct iou_sqe *sqe = ring_get_sqe(&w->ring);

			sqe->opcode = w->variant == V_NOP ? IORING_OP_NOP : IORING_OP_BPF;
			sqe->fd = -1;
			sqe->bpf_op_flags = w->variant == V_NOP ? 0 : (unsigned)op_ids[w->variant] << 24;
			sqe->user_data = i;
		}
		int ret = ring_submit_and_wait(&w->ring, batch);

		if (ret < 0)
			return ret;
		for (unsigned done = 0; done < batch;) {
			unsigned n = ring_reap(&w->ring, cqes, batch - done);

			for (unsigned i = 0; i < n; i++)
				if (cqes[i].res != want)
					return cqes[i].res < 0 ? cqes[i].res : -EPROTO;
			done += n;
			if (n == 0 && (ret = ring_submit_and_wait(&w->ring, batch - done)) < 0)
				return ret;
		}
	}
	return clock_now_ns() - start;
}

static void teardown(void *arg, void *ctx)
{
	struct worker_ring *w = ctx;

	(void)arg;
	for (int v = 0; v < V_COUNT; v++)
		if (w->links[v])
			bpf_link__destroy(w->links[v]);
	if (w->obj)
		bpf_object__close(w->obj);
	ring_exit(&w->ring);
	free(w);
}

static int parse_list(const char *arg, int *out, int max, int lo, int hi)
{
	char *copy = strdup(arg), *save = NULL;
	int n = 0;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(t, &end, 10);

		if (*end || end == t || v < lo || v > hi || n == max) {
			n = -1;
			break;
		}
		out[n++] = (int)v;
	}
	free(copy);
	return n;
}

static int usage_error(const char *what)
{
	fprintf(stderr, "iou-patched: %s (usage: iou-patched --version v1|v2|v3 --object FILE "
			"[--setup-bit N] [--batches L] [--threads L] [--cpus L] [--rounds N] [--sample-ms MS] | [--memory RINGS])\n", what);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' }, { "object", required_argument, NULL, 'o' },
		{ "batches", required_argument, NULL, 'b' }, { "threads", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },  { "sample-ms", required_argument, NULL, 's' },
		{ "memory", required_argument, NULL, 'm' },  { "setup-bit", required_argument, NULL, 'f' },
		{ "cpus", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int batches[16] = { 32, 128 }, threads[16] = { 1 }, nbatches = 2, nthreads = 1, rounds = 10, c;
	int mem_rings[16], nmem = 0, setup_bit = -1, ncpus = 0;
	static int cpus[POOL_MAX_THREADS];
	double sample_ms = 20;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o.version = optarg;
			break;
		case 'o':
			o.object = optarg;
			break;
		case 'b':
			if ((nbatches = parse_list(optarg, batches, 16, 1, 256)) <= 0)
				return usage_error("--batches wants numbers 1..256");
			break;
		case 't':
			if ((nthreads = parse_list(optarg, threads, 16, 1, POOL_MAX_THREADS)) <= 0)
				return usage_error("--threads wants numbers 1..1024");
			break;
		case 'c':
			if ((ncpus = parse_list(optarg, cpus, POOL_MAX_THREADS, 0, 4095)) <= 0)
				return usage_error("--cpus wants CPU numbers 0..4095");
			break;
		case 'r':
			if ((rounds = atoi(optarg)) < 1)
				return usage_error("--rounds wants a positive number");
			break;
		case 's':
			if ((sample_ms = atof(optarg)) <= 0)
				return usage_error("--sample-ms wants a positive number");
			break;
		case 'm':
			if ((nmem = parse_list(optarg, mem_rings, 16, 1, MEM_MAX_RINGS)) <= 0)
				return usage_error("--memory wants ring counts 1..256");
			break;
		case 'f':
			if (parse_list(optarg, &setup_bit, 1, 0, 31) != 1)
				return usage_error("--setup-bit wants a bit number 0..31");
			break;
		default:
			return usage_error("unknown option");
		}
	}
	if (!o.version || !o.object)
		return usage_error("--version and --object are required");
	if (strcmp(o.version, "v1") == 0)
		o.setup_flags = 1u << 20;	/* IORING_SETUP_BPF */
	else if (strcmp(o.version, "v2") == 0)
		o.setup_flags = 1u << 20;	/* IORING_SETUP_BPF_OP */
	else if (strcmp(o.version, "v3") == 0)
		o.setup_flags = 1u << 21;	/* IORING_SETUP_BPF_EXT */
	else
		return usage_error("--version must be v1, v2 or v3");
	if (setup_bit >= 0)
		o.setup_flags = 1u << setup_bit;
	o.per_ring = strcmp(o.version, "v1") != 0;
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (nmem > 0 && !o.per_ring)
		return usage_error("--memory needs v2 or v3: v1 registers its ops globally, not per ring");
	/* A kernel without this version's setup flag fails every cell the same way: say it once. */
	struct ring probe;
	int ret = ring_init(&probe, 8, o.setup_flags, 0);

	if (ret < 0) {
		fprintf(stderr, "iou-patched: io_uring_setup with setup bit %d refused (%s): this kernel does not "
				"look like %s of the series\n", __builtin_ctz(o.setup_flags), strerror(-ret), o.version);
		return 1;
	}
	ring_exit(&probe);
	if (nmem > 0)
		return memory_main(&(struct memory_target){ .version = o.version, .object = o.object, .setup_flags = o.setup_flags },
				   mem_rings, nmem, &interrupted);
	if (!o.per_ring) {
		ret = register_ops(-1, &global_obj, global_links);
		if (ret < 0) {
			fprintf(stderr, "iou-patched: registering the struct_ops programs failed: %s\n", strerror(-ret));
			return 1;
		}
	}
	int ncells = V_COUNT * nbatches * nthreads, i = 0;
	struct pool_cell *cells = calloc((size_t)ncells, sizeof(*cells));
	char err[256] = "";

	for (int t = 0; t < nthreads; t++)
		for (int b = 0; b < nbatches; b++)
			for (int v = 0; v < V_COUNT; v++)
				cells[i++] = (struct pool_cell){ .variant = v, .batch = (unsigned)batches[b], .threads = threads[t] };
	struct pool_variants variants = { .count = V_COUNT, .setup = setup, .run = run, .teardown = teardown };
	struct pool_plan plan = { .cells = cells, .ncells = ncells, .rounds = rounds, .sample_ms = sample_ms,
				  .cpus = cpus, .ncpus = ncpus };

	if (pool_run(&variants, &plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "iou-patched: %s\n", err);
		for (int v = 0; v < V_COUNT; v++)
			if (global_links[v])
				bpf_link__destroy(global_links[v]);
		return interrupted ? 128 + interrupted : 1;
	}
	printf("{\"version\":\"%s\",\"cells\":[", o.version);
	for (i = 0; i < ncells; i++) {
		printf("%s{\"variant\":\"%s\",\"batch\":%u,\"threads\":%d,\"error\":%d,\"nsPerReq\":[", i ? "," : "",
		       variant_names[cells[i].variant], cells[i].batch, cells[i].threads, cells[i].error);
		for (int r = 0; !cells[i].error && r < rounds; r++)
			printf("%s%.3f", r ? "," : "", cells[i].ns_per_req[r]);
		printf("]}");
	}
	printf("]}\n");
	/* Timing only the NOP baseline is no result: say why the first BPF cell failed, exit 1. */
	int bpf_ran = 0, first_failed = -1;

	for (i = 0; i < ncells; i++) {
		if (cells[i].variant == V_NOP)
			continue;
		if (!cells[i].error)
			bpf_ran = 1;
		else if (first_failed < 0)
			first_failed = i;
	}
	if (!bpf_ran && first_failed >= 0)
		fprintf(stderr, "iou-patched: no IORING_OP_BPF cell ran; %s b%u t%d failed first: %s\n",
			variant_names[cells[first_failed].variant], cells[first_failed].batch,
			cells[first_failed].threads, strerror(-cells[first_failed].error));
	pool_cells_free(cells, ncells);
	free(cells);
	for (int v = 0; v < V_COUNT; v++)
		if (global_links[v])
			bpf_link__destroy(global_links[v]);
	if (global_obj)
		bpf_object__close(global_obj);
	return bpf_ran ? 0 : 1;
}
