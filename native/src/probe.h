/* SPDX-License-Identifier: MIT */
/* What the running kernel's io_uring accepts, found by trying it. */
#ifndef IOU_PROBE_H
#define IOU_PROBE_H

#define PROBE_NOP_FLAG_BITS 6
#define PROBE_SETUP_BITS 22
#define PROBE_UNKNOWN_NOP_FLAG (1U << 30)

struct probe_result {
	int setup_errno;	/* 0 when a ring could be set up, else the errno of io_uring_setup */
	unsigned features;
	unsigned fast_flags;	/* setup flags a fast ring settled on */
	int registered_ring;	/* IORING_REGISTER_RING_FDS worked */
	int probe_errno;	/* 0, or the errno of IORING_REGISTER_PROBE */
	int last_op;
	unsigned char op_supported[256];
	int nop_res[PROBE_NOP_FLAG_BITS];	/* CQE res of a NOP with flag bit i, or -errno of its setup */
	int nop_unknown_res;			/* CQE res of a NOP with an undefined flag */
	int setup_res[PROBE_SETUP_BITS];	/* 0 accepted, -errno refused, 1 not tried */
};

/* Fills `p`; returns 0, or -errno when io_uring cannot be used at all (then only setup_errno is set). */
int probe_run(struct probe_result *p);

/*
 * Submits one NOP with `nop_flags` and `sqe_flags` on a fresh ring, with a
 * registered file (an fd of /dev/null) and a registered buffer at index 0,
 * `len` as the injected result. Returns the CQE res, or -errno of the setup.
 */
int probe_nop_once(unsigned nop_flags, unsigned sqe_flags, unsigned ring_flags, unsigned len);

#endif
