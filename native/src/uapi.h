/* SPDX-License-Identifier: MIT */
/*
 * The io_uring UAPI this suite needs, laid out as include/uapi/linux/io_uring.h
 * lays it out. Debian 12's headers and liburing 2.3 predate the NOP flags
 * (6.10-6.18), so everything is defined here and probed at run time.
 */
#ifndef IOU_UAPI_H
#define IOU_UAPI_H

#include <linux/types.h>
#include <sys/syscall.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

struct iou_sqe {
	__u8 opcode;
	__u8 flags;
	__u16 ioprio;
	__s32 fd;
	__u64 off;
	__u64 addr;
	__u32 len;
	union {
		__u32 rw_flags;
		__u32 nop_flags;	/* IORING_NOP_* (6.10+) */
		__u32 bpf_op_flags;	/* IORING_OP_BPF (patched kernels) */
	};
	__u64 user_data;
	__u16 buf_index;
	__u16 personality;
	__s32 splice_fd_in;
	__u64 addr3;
	__u64 __pad2[1];
};

struct iou_cqe {
	__u64 user_data;
	__s32 res;
	__u32 flags;
};

struct iou_sqring_offsets {
	__u32 head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
	__u64 user_addr;
};

struct iou_cqring_offsets {
	__u32 head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
	__u64 user_addr;
};

struct iou_params {
	__u32 sq_entries;
	__u32 cq_entries;
	__u32 flags;
	__u32 sq_thread_cpu;
	__u32 sq_thread_idle;
	__u32 features;
	__u32 wq_fd;
	__u32 resv[3];
	struct iou_sqring_offsets sq_off;
	struct iou_cqring_offsets cq_off;
};

struct iou_probe_op {
	__u8 op;
	__u8 resv;
	__u16 flags;
	__u32 resv2;
};

struct iou_probe {
	__u8 last_op;
	__u8 ops_len;
	__u16 resv;
	__u32 resv2[3];
	struct iou_probe_op ops[];
};

struct iou_rsrc_update {
	__u32 offset;
	__u32 resv;
	__u64 data;
};

/* io_uring_setup() flags */
#define IORING_SETUP_IOPOLL		(1U << 0)
#define IORING_SETUP_SQPOLL		(1U << 1)
#define IORING_SETUP_COOP_TASKRUN	(1U << 8)
#define IORING_SETUP_TASKRUN_FLAG	(1U << 9)
#define IORING_SETUP_SQE128		(1U << 10)
#define IORING_SETUP_CQE32		(1U << 11)
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#define IORING_SETUP_NO_SQARRAY		(1U << 16)
#define IORING_SETUP_CQE_MIXED		(1U << 18)
/* Bit 20: v1 IORING_SETUP_BPF, v2 IORING_SETUP_BPF_OP, v3's IORING_SETUP_SQ_REWIND. */
#define IORING_SETUP_BIT20		(1U << 20)
/* Bit 21: v3 IORING_SETUP_BPF_EXT. */
#define IORING_SETUP_BIT21		(1U << 21)

/* sqe->flags */
#define IOSQE_FIXED_FILE		(1U << 0)
#define IOSQE_ASYNC			(1U << 4)

/* opcodes */
#define IORING_OP_NOP			0
#define IORING_OP_URING_CMD128		64
#define IORING_OP_BPF			65	/* patched kernels only */

/* sqe->nop_flags */
#define IORING_NOP_INJECT_RESULT	(1U << 0)	/* 6.10 */
#define IORING_NOP_FILE			(1U << 1)	/* 6.13 */
#define IORING_NOP_FIXED_FILE		(1U << 2)	/* 6.13 */
#define IORING_NOP_FIXED_BUFFER		(1U << 3)	/* 6.13 */
#define IORING_NOP_TW			(1U << 4)	/* 6.17 */
#define IORING_NOP_CQE32		(1U << 5)	/* 6.18 */

/* io_uring_enter() flags */
#define IORING_ENTER_GETEVENTS		(1U << 0)
#define IORING_ENTER_REGISTERED_RING	(1U << 4)

/* io_uring_register() opcodes */
#define IORING_REGISTER_BUFFERS		0
#define IORING_REGISTER_FILES		2
#define IORING_REGISTER_PROBE		8
#define IORING_REGISTER_PERSONALITY	9
#define IORING_UNREGISTER_PERSONALITY	10
#define IORING_REGISTER_RING_FDS	20

#define IO_URING_OP_SUPPORTED		(1U << 0)

/* mmap offsets */
#define IORING_OFF_SQ_RING		0ULL
#define IORING_OFF_CQ_RING		0x8000000ULL
#define IORING_OFF_SQES			0x10000000ULL

/* features */
#define IORING_FEAT_SINGLE_MMAP		(1U << 0)
#define IORING_FEAT_BPF			(1U << 18)	/* patched kernels only */

#endif
