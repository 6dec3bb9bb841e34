/* SPDX-License-Identifier: MIT */
/*
 * The in-kernel BPF stand-ins (stock kernels, root): real BPF programs on
 * io_uring's per-request tracepoints that find a program the way each
 * design would and tail-call it, so the cost of "find and call a BPF
 * program per request" is measured in the kernel as it is today. Programs
 * are assembled here and loaded with raw bpf(2): no clang, no libbpf.
 * They are BTF-typed raw tracepoint programs (tp_btf: BPF_PROG_TYPE_TRACING,
 * BPF_TRACE_RAW_TP), so the request's fields are direct loads, as they would
 * be for a program io_uring hands the request to, not bpf_probe_read calls
 * (about 30 ns each here, more than the lookups themselves).
 *
 * Shapes, each a dispatcher on a tracepoint:
 *   none       no program (the baseline)
 *   empty      an attached program that returns at once (tracepoint + BPF entry)
 *   array      an array indexed by the op id (user_data & 0xff): global-array
 *   hash       a hash keyed by an id >= 256: the xarray part of array-xarray
 *   per-ring   a hash keyed by (ring, op id): per-ctx
 *   tail-call  a tail call through a program array with the op id as a variable key
 *   file-none, file-array   on io_uring_file_get, a NOP_FILE request without and
 *              with a program found by its fd: per-fd
 * Found programs are tail-called (a program array per tracepoint: a tail
 * call must stay on one hook); the callee counts, per CPU, the invocations
 * made by this process, so other io_uring users on the machine do not.
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

/* What the programs need from the kernel's BTF. */
struct bpf_btf {
	int user_data;		/* byte offset of req->cqe.user_data in struct io_kiocb */
	int ctx;		/* byte offset of req->ctx */
	int submit_req_type;	/* type id of typedef btf_trace_io_uring_submit_req */
	int file_get_type;	/* type id of typedef btf_trace_io_uring_file_get */
};

/* The two hooks; each has its own callee and program array. */
enum bpf_hook { BPF_HOOK_SUBMIT_REQ, BPF_HOOK_FILE_GET, BPF_HOOK_COUNT };

/* Loaded maps and programs; set up once, attached one shape at a time. */
struct bpf_standins {
	struct bpf_btf btf;
	int ncpus;		/* possible CPUs: the per-CPU counter's width */
	int counts_fd, array_fd, fd_array_fd, hash_fd, per_ring_fd;
	int progs_fd[BPF_HOOK_COUNT], callee_fd[BPF_HOOK_COUNT];
	int prog_fd[BPF_SHAPE_COUNT];
	int link_fd;		/* the attached program's link, or -1 */
	char *log;		/* the verifier's log of the last load (freed by unload) */
	char error[320];	/* why loading failed, with the verifier's last line */
};

/* Loads every map and program. 0, or -errno with st->error saying which step failed and why. */
int bpf_standins_load(struct bpf_standins *st, const struct bpf_btf *btf);
void bpf_standins_unload(struct bpf_standins *st);
/* Attaches `shape`'s program to its tracepoint (nothing for the no-program shapes). 0 or -errno. */
int bpf_standins_attach(struct bpf_standins *st, int shape);
void bpf_standins_detach(struct bpf_standins *st);
/* Invocations of the called program by this process so far, summed over CPUs; or -errno. */
long long bpf_standins_count(struct bpf_standins *st);
/* Makes `fd` name the callee in the per-fd lookup (named) or name nothing. 0 or -errno. */
int bpf_standins_name_fd(struct bpf_standins *st, int fd, int named);

/* One thread's ring for `shape`: NOPs (NOP_FILE for the file shapes) with the shape's user_data. */
struct bpf_run_opts {
	const int *shapes;
	int nshapes;
	struct pool_plan plan;	/* cells index `shapes` */
};

/* Times the plan; 0, or -1 with `err` set. */
int bpf_standins_run(struct bpf_standins *st, struct bpf_run_opts *o, char *err, size_t errlen);

/* What a check saw: calls of the found program by this process, runs of the shape's program (all processes). */
struct bpf_check {
	long long calls;	/* or -errno when the check could not run */
	long long runs;		/* run_cnt with BPF_ENABLE_STATS; 0 without a program; -errno when unknown */
};

/*
 * Runs `n` requests of `shape` on each of two fresh rings on this thread,
 * alternating, so a lookup keyed by the ring must tell them apart.
 */
struct bpf_check bpf_standins_check(struct bpf_standins *st, int shape, int n);

#endif
