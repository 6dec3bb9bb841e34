/* SPDX-License-Identifier: MIT */
/*
 * Concurrent stress on one C design instance: threads that register,
 * submit (inline and IOSQE_ASYNC) and unregister at random on their own
 * rings while sharing a few programs. Every program's issue sets a result
 * unique to it, so each CQE says which program ran; the world's violation
 * counters catch calls on freed (poisoned) programs, NULL callbacks,
 * refcount underflows and bad request states. Callers use it with correct
 * userspace protocols, so every counter must stay 0.
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

#endif
