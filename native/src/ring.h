/* SPDX-License-Identifier: MIT */
/* A minimal io_uring on the raw syscalls: setup, mmap, submit, reap. */
#ifndef IOU_RING_H
#define IOU_RING_H

#include <stddef.h>
#include "uapi.h"

struct ring {
	int fd;
	int enter_fd;		/* registered index when enter_flags has REGISTERED_RING, else fd */
	unsigned enter_flags;
	unsigned setup_flags;	/* the flags the kernel accepted */
	unsigned features;
	unsigned cqe_shift;	/* 1 for CQE32 rings: each CQE takes two slots */

	unsigned *sq_head, *sq_tail, *sq_array, sq_mask, sq_entries;
	unsigned sqe_tail;	/* SQEs handed out, not yet published */
	struct iou_sqe *sqes;

	unsigned *cq_head, *cq_tail, cq_mask;
	struct iou_cqe *cqes;

	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
};

/* Flags a fast ring asks for, dropped one by one (last first) when refused. */
extern const unsigned ring_fast_flags[3];

/*
 * Sets up a ring with `entries` SQEs. Tries `flags | every fast flag`, then
 * drops fast flags one by one while the kernel answers EINVAL. Registers the
 * ring fd when it can. Returns 0 or -errno; `r->setup_flags` says what stuck.
 */
int ring_init(struct ring *r, unsigned entries, unsigned flags, int fast);
void ring_exit(struct ring *r);

/* The next free SQE, zeroed, or NULL when the SQ is full. */
struct iou_sqe *ring_get_sqe(struct ring *r);

/* Publishes pending SQEs and enters the kernel; waits for `wait_nr` CQEs. Returns submitted or -errno. */
int ring_submit_and_wait(struct ring *r, unsigned wait_nr);

/* Copies up to `max` CQEs out and consumes them; returns how many. */
unsigned ring_reap(struct ring *r, struct iou_cqe *out, unsigned max);

/* io_uring_register() on this ring: returns the syscall's result or -errno. */
int ring_register(struct ring *r, unsigned opcode, void *arg, unsigned nr);

/* io_uring_setup() itself: the fd or -errno. */
int sys_io_uring_setup(unsigned entries, struct iou_params *p);

#endif
