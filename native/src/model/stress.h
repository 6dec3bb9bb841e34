/* SPDX-License-Identifier: MIT */
/*
 * Concurrent stress on one C design instance: threads that register,
 * submit (inline and IOSQE_ASYNC, issued by real io-wq workers) and
 * unregister at random on their own rings while sharing a few programs;
 * some rings are made without the design's setup flag. Every program's
 * issue sets a result unique to it, so each CQE says which program ran; the
 * world's violation counters catch calls on freed (poisoned) programs, NULL
 * callbacks, refcount underflows and bad request states. Callers use it
 * with correct userspace protocols, so every counter must stay 0.
 *
 * One protocol needs the model's help: with per-ctx, ->unreg() sleeps
 * uninterruptibly until the requests on the slot are freed, and the free of
 * an io-wq request is the submitter's task work, which a sleeping task
 * never runs. A thread that unregisters while a request of its own is
 * pending deadlocks itself (nw_self_deadlock() pins it). So before any
 * unregister a stress thread waits until its own requests are freed
 * (world_drain_requests()): what a careful caller must do, and cannot see
 * from user space, where the CQE comes before the free.
 */
#ifndef IOU_NW_STRESS_H
#define IOU_NW_STRESS_H

#include "api.h"

struct nw_stress_stats {
	unsigned long registered, refused, unregistered;
	unsigned long submitted, completed;
	unsigned long wrong_program;	/* a CQE from a program other than the one named */
	unsigned long failed;		/* a CQE with an error for a live registration */
	unsigned long missing;		/* requests without a CQE */
	unsigned long ring_restarts;
	/* Names per ring only: registrations on a ring another thread submits to, */
	unsigned long cross_registered;
	/* CQEs of requests naming such a slot that ran its program, */
	unsigned long cross_completed;
	/* and those that found the slot empty just then (an error, as it should be). */
	unsigned long cross_empty;
	/* Unregisters that slept until in-flight requests were done (per-ctx). */
	unsigned long unregister_waits;
	/* Global designs, after the threads: requests on a ring without the setup flag, failed as they must. */
	unsigned long unlisted_failed;
	/* Designs with a setup flag: rings the threads made without it, and their requests, all failed. */
	unsigned long unflagged_rings, unflagged_failed;
};

/* What nw_self_deadlock() saw. */
struct nw_self_deadlock {
	int completed;		/* the request's CQE, read from the CQ ring before unregistering (1) */
	int caught;		/* the watchdog found the unregister asleep with its own free pending (1) */
	int unregister_ret;	/* what the unregister returned once unblocked (0) */
	int freed;		/* the request was freed in the end (1) */
	struct nw_violations violations;
};

/* Loads the shared programs into `w` (and registers them in a global namespace). 0 or -errno. */
int nw_stress_prepare(struct nw_world *w);
/* One stress thread on the calling thread: `ops` random operations drawn from `seed`; adds to *stats. */
void nw_stress_thread(struct nw_world *w, unsigned seed, unsigned long ops, struct nw_stress_stats *stats);
/*
 * `threads` pthreads on a new world of `design`, then, for the global designs,
 * the table read by ->fail() on a ring without the setup flag while it
 * shrinks; 0, or -EINVAL for an unknown design.
 */
int nw_stress_run(const char *design, int threads, unsigned long ops, unsigned seed,
		  struct nw_stress_stats *stats, struct nw_violations *violations);
/*
 * The per-ctx self-deadlock, pinned: a thread submits an IOSQE_ASYNC
 * request on its slot, reads the CQE the io-wq worker posts, waits (as only
 * a test can) until the request's free is queued as its own task work, and
 * unregisters the slot. ->unreg() then sleeps until the request is freed,
 * and only the sleeping thread could free it. A watchdog thread sees the
 * sleep with the thread's own work pending, counts it, and runs that work
 * for it, which ends the test. Bounded: the watchdog gives up after 10 s.
 * 0, or -errno when the world could not be set up.
 */
int nw_self_deadlock(struct nw_self_deadlock *out);

#endif
