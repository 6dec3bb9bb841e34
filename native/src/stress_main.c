// SPDX-License-Identifier: MIT
/*
 * iou-stress: the concurrent stress of the C designs (model/stress.c)
 * without Node, so it can run under AddressSanitizer+UBSan and
 * ThreadSanitizer. Exits 1 when any design shows a violation, a wrong or
 * failed completion, or a missing one; 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/api.h"
#include "model/stress.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: iou-stress [--designs a,b] [--threads N] [--ops N] [--seed N]\n"
		     "Runs threads that register, submit and unregister at random on each C design,\n"
		     "then (without --designs) pins per-ctx's self-deadlock with a watchdog.\n");
}

/* The per-ctx self-deadlock (nw_self_deadlock()): one line; 1 unless it was caught and ended as expected. */
static int run_self_deadlock(void)
{
	struct nw_self_deadlock r;
	int ret = nw_self_deadlock(&r);
	struct nw_violations *v = &r.violations;
	int bad = ret < 0 || !r.completed || !r.caught || r.unregister_ret != 0 || !r.freed || v->freed_calls ||
		  v->null_calls || v->ref_underflow || v->oob || v->lost_requests || v->null_derefs;

	printf("self-deadlock per-ctx      %s  cqe %d caught %d unregister %d freed %d\n", bad ? "FAIL" : "ok  ",
	       r.completed, r.caught, r.unregister_ret, r.freed);
	return bad;
}

static int die(const char *msg, const char *arg)
{
	fprintf(stderr, "iou-stress: %s: %s\n", msg, arg);
	return 2;
}

static long number(const char *arg, long min, long max)
{
	char *end;
	long v = strtol(arg, &end, 10);

	return *end || end == arg || v < min || v > max ? -1 : v;
}

static int run_one(const char *design, int threads, unsigned long ops, unsigned seed)
{
	struct nw_stress_stats s;
	struct nw_violations v;
	int ret = nw_stress_run(design, threads, ops, seed, &s, &v);

	if (ret < 0)
		return die("cannot stress design", design);
	/* A stale-ops use after free is the posted request path's (world.h), not a caller's: reported, not failed. */
	int bad = v.freed_calls > v.stale_freed_calls || v.null_calls || v.ref_underflow || v.oob ||
		  v.lost_requests || v.null_derefs || s.wrong_program || s.failed || s.missing;

	printf("%-26s %s  reg %lu refused %lu unreg %lu  sqes %lu cqes %lu  restarts %lu  "
	       "cross reg %lu ran %lu empty %lu  waits %lu  unlisted %lu  unflagged %lu/%lu  "
	       "wrong %lu failed %lu missing %lu  uaf %lu (stale %lu) null %lu underflow %lu oob %lu "
	       "lost %lu oops %lu\n",
	       design, bad ? "FAIL" : "ok  ", s.registered, s.refused, s.unregistered, s.submitted, s.completed,
	       s.ring_restarts, s.cross_registered, s.cross_completed, s.cross_empty, s.unregister_waits,
	       s.unlisted_failed, s.unflagged_rings, s.unflagged_failed,
	       s.wrong_program, s.failed, s.missing, v.freed_calls, v.stale_freed_calls, v.null_calls,
	       v.ref_underflow, v.oob, v.lost_requests, v.null_derefs);
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "designs", required_argument, NULL, 'd' }, { "threads", required_argument, NULL, 't' },
		{ "ops", required_argument, NULL, 'o' },     { "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *designs = NULL;
	long threads = 4, ops = 20000, seed = 1;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			designs = optarg;
			break;
		case 't':
			if ((threads = number(optarg, 1, 64)) < 0)
				return die("--threads wants 1..64", optarg);
			break;
		case 'o':
			if ((ops = number(optarg, 1, 100000000)) < 0)
				return die("--ops wants 1..100000000", optarg);
			break;
		case 's':
			if ((seed = number(optarg, 0, 0xffffffffL)) < 0)
				return die("--seed wants 0..4294967295", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return die("unexpected argument", argv[optind]);
	int failed = 0;

	if (!designs) {
		struct nw_design_info info;

		for (int i = 0; nw_design_info(i, &info) == 0; i++)
			if (run_one(info.name, (int)threads, (unsigned long)ops, (unsigned)seed))
				failed = 1;
		if (run_self_deadlock())
			failed = 1;
		return failed;
	}
	char *copy = strdup(designs), *save = NULL;

	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int r = run_one(name, (int)threads, (unsigned long)ops, (unsigned)seed);

		if (r == 2) {	/* an unknown design is a usage error */
			free(copy);
			return 2;
		}
		if (r)
			failed = 1;
	}
	free(copy);
	return failed;
}
