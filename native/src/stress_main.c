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
		     "then (without --designs) runs exit()'s oops and hang and pins per-ctx's\n"
		     "self-deadlock with a watchdog.\n");
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

/* io_uring.h: IOU_ISSUE_SKIP_COMPLETE, an issue return that leaves the request for the op to complete. */
#define IOU_ISSUE_SKIP_COMPLETE (-529)

/*
 * exit() in sequential worlds, the paths the differential test compares,
 * run here under the sanitizers: per-ctx's link ->unreg() oopses in
 * exit_task_work() (an fget() after exit_files()), and the task's unrun
 * task work goes with it; a request parked for good keeps global-array's
 * exit waiting (-EDEADLK). A second exit finds the process gone (-ESRCH).
 * One line; 1 unless everything went so.
 */
static int run_exit_paths(void)
{
	struct nw_spec plain = { .has_prep = 1, .has_fail = 1, .has_cleanup = 1 };
	struct nw_spec parks = { .has_prep = 1, .has_issue = 1, .issue_ret = IOU_ISSUE_SKIP_COMPLETE, .has_fail = 1,
				 .has_cleanup = 1 };
	struct nw_registration reg;
	struct nw_violations v;
	struct nw_world *w = nw_create("per-ctx", 64, 1);
	int ring = nw_setup(w, 0, 1, NULL), prog = nw_load(w, 0, &plain);
	int setup_ok = ring >= 0 && prog >= 0 && nw_register(w, 0, prog, ring, 0, &reg) == 0;
	int oops_exit = nw_exit(w, 0);

	nw_settle(w);
	nw_violations(w, &v);
	int oops_again = nw_exit(w, 0);

	nw_destroy(w);
	w = nw_create("global-array", 64, 1);
	ring = nw_setup(w, 0, 1, NULL);
	prog = nw_load(w, 0, &parks);
	setup_ok = setup_ok && ring >= 0 && prog >= 0 && nw_register(w, 0, prog, -1, 1, &reg) == 0;
	struct nw_sqe sqe = { .async = 1, .user_data = 1 };

	nw_target(w, &reg, &sqe);
	setup_ok = setup_ok && nw_submit(w, 0, ring, &sqe, 1) == 1;
	nw_settle(w);
	int parked_exit = nw_exit(w, 0), parked_again = nw_exit(w, 0);

	nw_destroy(w);
	int bad = !setup_ok || oops_exit != 0 || v.null_derefs != 1 || oops_again != -ESRCH ||
		  parked_exit != -EDEADLK || parked_again != -ESRCH;

	printf("exit-paths per-ctx, global-array  %s  oops %lu  parked exit %d\n", bad ? "FAIL" : "ok  ",
	       v.null_derefs, parked_exit);
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
		if (run_exit_paths())
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
