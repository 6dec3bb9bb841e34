// SPDX-License-Identifier: MIT
/*
 * iou-standins: the kernel lane's stand-ins without Node, from the same
 * sources as the addon, so a kernel developer can reproduce a number with
 * one binary. Prints the median ns/request per cell, or JSON with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "standins.h"
#include "threads.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: iou-standins [--standins a,b] [--batches 1,8,32,128] [--threads 1,2]\n"
		"                    [--rounds N] [--sample-ms MS] [--cpus 0,1] [--json] [--list]\n"
		"Times io_uring NOP stand-ins for each IORING_OP_BPF naming design.\n");
}

static int die(const char *msg, const char *arg)
{
	fprintf(stderr, "iou-standins: %s: %s\n", msg, arg);
	return 2;
}

/* Parses "1,8,32" into ints within [min, max]; returns the count or -1. */
static int parse_list(const char *arg, int *out, int max_n, long min, long max)
{
	char *copy = strdup(arg), *save = NULL;
	int n = 0;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(tok, &end, 10);

		if (*end || end == tok || v < min || v > max || n == max_n) {
			n = -1;
			break;
		}
		out[n++] = (int)v;
	}
	free(copy);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "standins", required_argument, 0, 's' }, { "batches", required_argument, 0, 'b' },
		{ "threads", required_argument, 0, 't' },  { "rounds", required_argument, 0, 'r' },
		{ "sample-ms", required_argument, 0, 'm' }, { "cpus", required_argument, 0, 'c' },
		{ "json", no_argument, 0, 'j' },	     { "list", no_argument, 0, 'l' },
		{ "help", no_argument, 0, 'h' },	     { 0, 0, 0, 0 },
	};
	struct run_opts o = { .nbatches = 4, .batches = { 1, 8, 32, 128 }, .nthreads = 1,
			      .threads = { 1 }, .rounds = 10, .sample_ms = 20 };
	int json = 0, opt, batches[RUN_MAX_LIST];
	struct run_result res;
	struct probe_result probe;

	o.nstandins = standin_count;
	for (int i = 0; i < standin_count; i++)
		o.standins[i] = i;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's': {
			char *copy = strdup(optarg), *save = NULL;

			o.nstandins = 0;
			for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				int idx = standin_find(tok);

				if (idx < 0 || o.nstandins == RUN_MAX_LIST)
					return die("unknown stand-in (see --list)", tok);
				o.standins[o.nstandins++] = idx;
			}
			free(copy);
			break;
		}
		case 'b':
			o.nbatches = parse_list(optarg, batches, RUN_MAX_LIST, 1, STANDIN_MAX_BATCH);
			if (o.nbatches <= 0)
				return die("--batches takes sizes from 1 to 256", optarg);
			for (int i = 0; i < o.nbatches; i++)
				o.batches[i] = (unsigned)batches[i];
			break;
		case 't':
			o.nthreads = parse_list(optarg, o.threads, RUN_MAX_LIST, 1, RUN_MAX_THREADS);
			if (o.nthreads <= 0)
				return die("--threads takes counts from 1 to 1024", optarg);
			break;
		case 'c':
			o.ncpus = parse_list(optarg, o.cpus, RUN_MAX_THREADS, 0, 4095);
			if (o.ncpus <= 0)
				return die("--cpus takes CPU numbers", optarg);
			break;
		case 'r':
			o.rounds = atoi(optarg);
			if (o.rounds < 1 || o.rounds > 10000)
				return die("--rounds takes 1 to 10000", optarg);
			break;
		case 'm':
			o.sample_ms = atof(optarg);
			if (!(o.sample_ms > 0 && o.sample_ms <= 60000))
				return die("--sample-ms takes a duration in ms up to 60000", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'l':
			for (int i = 0; i < standin_count; i++)
				printf("%-16s %-22s %s\n", standin_defs[i].name, standin_defs[i].designs,
				       standin_defs[i].what);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (probe_run(&probe) < 0) {
		fprintf(stderr, "iou-standins: io_uring unavailable: io_uring_setup: %s\n", strerror(probe.setup_errno));
		return 1;
	}
	if (run_standins(&o, &res) < 0) {
		fprintf(stderr, "iou-standins: %s\n", res.error);
		return 1;
	}
	if (json)
		printf("{\"rounds\":%d,\"cells\":[", res.rounds);
	else
		printf("%-16s %5s %7s %12s %10s %10s\n", "stand-in", "batch", "threads", "median ns/req", "min", "max");
	for (int i = 0; i < res.ncells; i++) {
		struct run_cell *c = &res.cells[i];
		const char *name = standin_defs[c->standin].name;

		if (json) {
			printf("%s{\"standin\":\"%s\",\"batch\":%u,\"threads\":%d,\"error\":%d,\"nsPerReq\":[",
			       i ? "," : "", name, c->batch, c->threads, c->error);
			for (int r = 0; !c->error && r < res.rounds; r++)
				printf("%s%.3f", r ? "," : "", c->ns_per_req[r]);
			printf("]}");
			continue;
		}
		if (c->error) {
			printf("%-16s %5u %7d unsupported: %s\n", name, c->batch, c->threads, strerror(-c->error));
			continue;
		}
		qsort(c->ns_per_req, (size_t)res.rounds, sizeof(double), cmp_double);
		printf("%-16s %5u %7d %12.1f %10.1f %10.1f\n", name, c->batch, c->threads,
		       c->ns_per_req[res.rounds / 2], c->ns_per_req[0], c->ns_per_req[res.rounds - 1]);
	}
	if (json)
		printf("]}\n");
	run_free(&res);
	return 0;
}
