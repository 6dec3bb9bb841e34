/* SPDX-License-Identifier: MIT */
/*
 * The in-kernel BPF stand-ins (stock kernels, root): real BPF programs on
 * io_uring's per-request tracepoints that find a program the way each
 * design would and tail-call it, so the cost of "find and call a BPF
 * program per request" is measured in the kernel as it is today. Programs
 * are assembled here and loaded with raw bpf(2): no clang, no libbpf.
 *
 * Shapes, each a dispatcher on a raw tracepoint:
 *   none       no program (the baseline)
 *   empty      an attached program that returns at once (tracepoint + BPF entry)
 *   array      an array indexed by the op id (user_data & 0xff): global-array
 *   hash       a hash keyed by an id >= 256: the xarray part of array-xarray
 *   per-ring   a hash keyed by (ring, op id): per-ctx
 *   tail-call  a tail call through a program array with the op id as a variable key
 *   file-none, file-array   on io_uring_file_get, a NOP_FILE request without and
 *              with a program found by its fd: per-fd
 * Found programs are tail-called; the callee counts its invocations.
 */
#ifndef IOU_BPF_STANDINS_H
#define IOU_BPF_STANDINS_H

#include "pool.h"

enum bpf_shape {
	BPF_SHAPE_NONE,
	BPF_SHAPE_EMPTY,
	BPF_SHAPE_ARRAY,
	BPF_SHAPE_HASH,
	BPF_SHAPE_PER_RING,
	BPF_SHAPE_TAIL_CALL,
	BPF_SHAPE_FILE_NONE,
	BPF_SHAPE_FILE_ARRAY,
	BPF_SHAPE_COUNT,
};

struct bpf_shape_def {
	const char *name;
	const char *designs;	/* the designs whose lookup it stands in for */
	const char *what;
	const char *tracepoint;	/* NULL: nothing attached */
	int baseline;		/* the shape it is measured against */
};

extern const struct bpf_shape_def bpf_shape_defs[BPF_SHAPE_COUNT];

/* Byte offsets in struct io_kiocb, from the kernel's BTF. */
struct bpf_offsets {
	int user_data;		/* req->cqe.user_data */
	int ctx;		/* req->ctx */
};

/* Loaded maps and programs; set up once, attached one shape at a time. */
struct bpf_standins {
	struct bpf_offsets off;
	int counts_fd, progs_fd, array_fd, fd_array_fd, hash_fd, per_ring_fd;
	int callee_fd;
	int prog_fd[BPF_SHAPE_COUNT];
	int link_fd;		/* the attached raw tracepoint, or -1 */
	char error[256];	/* why loading failed */
};

/* Loads every map and program. 0, or -errno with st->error saying which step failed and why. */
int bpf_standins_load(struct bpf_standins *st, const struct bpf_offsets *off);
void bpf_standins_unload(struct bpf_standins *st);
/* Attaches `shape`'s program to its tracepoint (nothing for the no-program shapes). 0 or -errno. */
int bpf_standins_attach(struct bpf_standins *st, int shape);
void bpf_standins_detach(struct bpf_standins *st);
/* Invocations of the called program so far. */
long long bpf_standins_count(struct bpf_standins *st);

/* One thread's ring for `shape`: NOPs (NOP_FILE for the file shapes) with the shape's user_data. */
struct bpf_run_opts {
	const int *shapes;
	int nshapes;
	struct pool_plan plan;	/* cells index `shapes` */
};

/* Times the plan; 0, or -1 with `err` set. */
int bpf_standins_run(struct bpf_standins *st, struct bpf_run_opts *o, char *err, size_t errlen);

/* Runs `n` requests of `shape` on a fresh ring on this thread; returns the callee's count for them, or -errno. */
long long bpf_standins_check(struct bpf_standins *st, int shape, int n);

#endif
