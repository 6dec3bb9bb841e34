// SPDX-License-Identifier: GPL-2.0
/*
 * The patched lane's struct_ops programs for IORING_OP_BPF: one that does
 * nothing, one that looks up an array map, one that sets the CQE result
 * with the series' kfunc. Compiled with clang -target bpf; loaded by
 * runner.c with libbpf. The kernel must have the struct_ops type
 * uring_bpf_ops (detected before this is built).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "uring_ops.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Complete definitions, not forward declarations: libbpf checks a kfunc
 * extern against the kernel's prototype by kind (bpf_core_types_are_compat),
 * and a pointer to a forward declaration does not match a pointer to the
 * kernel's struct ("func_proto ... incompatible with vmlinux"). The members
 * are v2's (io_uring/bpf_op.h); the programs read none of them, and
 * preserve_access_index would relocate any they did.
 */
struct uring_bpf_ops;

struct uring_bpf_data {
	void *req_data;
	const struct uring_bpf_ops *ops;
	__u32 opf;
	__u8 pdu[44];
} __attribute__((preserve_access_index));

struct io_uring_sqe {
	__u8 opcode;
} __attribute__((preserve_access_index));

struct uring_bpf_ops {
	unsigned short id;
	int (*prep_fn)(struct uring_bpf_data *data, const struct io_uring_sqe *sqe);
	int (*issue_fn)(struct uring_bpf_data *data);
	void (*fail_fn)(struct uring_bpf_data *data);
	void (*cleanup_fn)(struct uring_bpf_data *data);
#ifdef URING_BPF_RING_FD
	int ring_fd;
#endif
};

extern void uring_bpf_set_result(struct uring_bpf_data *data, int res) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("struct_ops/prep")
int BPF_PROG(prep, struct uring_bpf_data *data, const struct io_uring_sqe *sqe)
{
	return 0;
}

SEC("struct_ops/nop_issue")
int BPF_PROG(nop_issue, struct uring_bpf_data *data)
{
	return 0;
}

SEC("struct_ops/array_issue")
int BPF_PROG(array_issue, struct uring_bpf_data *data)
{
	__u32 key = OP_ARRAY;
	__u64 *v = bpf_map_lookup_elem(&values, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("struct_ops/result_issue")
int BPF_PROG(result_issue, struct uring_bpf_data *data)
{
	uring_bpf_set_result(data, RESULT_VALUE);
	return 0;
}

SEC(".struct_ops.link")
struct uring_bpf_ops nop_ops = { .id = OP_NOP, .prep_fn = (void *)prep, .issue_fn = (void *)nop_issue };

SEC(".struct_ops.link")
struct uring_bpf_ops array_ops = { .id = OP_ARRAY, .prep_fn = (void *)prep, .issue_fn = (void *)array_issue };

SEC(".struct_ops.link")
struct uring_bpf_ops result_ops = { .id = OP_RESULT, .prep_fn = (void *)prep, .issue_fn = (void *)result_issue };
