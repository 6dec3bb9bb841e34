/* SPDX-License-Identifier: MIT */
/*
 * The struct_ops value of IORING_OP_BPF as the posted series declares it
 * (20260106101126.4064990-6-ming.lei@redhat.com and its v1/v3): an op id,
 * the four callbacks, and from v2 on the ring the ops are registered on.
 * Shared by the BPF object and the loader, so both see one layout.
 * Built with -DURING_BPF_RING_FD for v2 and v3.
 */
#ifndef IOU_URING_OPS_H
#define IOU_URING_OPS_H

/* The op ids the loader registers, in the order of the programs below. */
#define OP_NOP 0
#define OP_ARRAY 1
#define OP_RESULT 2
/* What the result program's CQE carries. */
#define RESULT_VALUE 42
/* The no-op program's map, the one the memory measurement registers. */
#define NOP_OPS_MAP "nop_ops"

#ifndef __bpf__
/* The struct_ops value as the BPF object lays it out (uring_ops.bpf.c), for the loader. */
struct ops_value {
	unsigned short id;
	void *prep_fn, *issue_fn, *fail_fn, *cleanup_fn;
	int ring_fd;	/* v2, v3 */
};
#endif

#endif
