/* SPDX-License-Identifier: MIT */
/*
 * The native lane: each C design's per-request path (prep -> issue ->
 * completion -> cleanup, a batch under one uring_lock as io_submit_sqes()
 * takes it) timed on the shared pool (pool.c), either alone ("pure") or
 * inside a real io_uring submission loop that also submits the batch as
 * NOPs to a real ring ("ring"). Plain types only: the addon includes it.
 */
#ifndef IOU_NW_LANE_H
#define IOU_NW_LANE_H

#include <stddef.h>

#include "../pool.h"

enum nw_loop {
	NW_LOOP_PURE,		/* the design's path only */
	NW_LOOP_RING,		/* the design's path plus a real NOP batch */
	NW_LOOP_RING_ONLY,	/* the real NOP batch only: the ring loop's baseline */
	/*
	 * The design's path with IOSQE_ASYNC: issue without uring_lock, then the
	 * CQE and the final put through task work, as on io-wq; the submitting
	 * thread plays the worker once the batch is in (the world's io-wq is
	 * inline here), so the loop times the design's unlocked path, not a
	 * thread handoff.
	 */
	NW_LOOP_IOWQ,
};

/* What one variant runs. */
struct nw_workload {
	const char *design;	/* a registry name, or "core" for the io_uring core without any lookup */
	int programs;		/* programs registered; requests name the last (deepest) one */
	int loop;		/* enum nw_loop */
	int own;		/* 0: every ring uses the same programs; 1: each ring its own */
};

/* The name of the core-only baseline design. */
#define NW_CORE_DESIGN "core"

/* Runs `plan` (cells index `workloads`); returns 0, or -1 with `err` set. */
int nw_lane_run(const struct nw_workload *workloads, int nworkloads, struct pool_plan *plan,
		char *err, size_t errlen);

#endif
