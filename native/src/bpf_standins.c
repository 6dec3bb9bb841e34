// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf_standins.h"
#include "standins.h"

/* The op id every request names, and the id >= 256 the hash shape uses. */
#define OP_ID 7
#define HASH_ID 300
/* The program-array slot the found program sits in. */
#define CALLEE_SLOT 7

const struct bpf_shape_def bpf_shape_defs[BPF_SHAPE_COUNT] = {
	[BPF_SHAPE_NONE] = { "none", "", "NOP, no program attached", NULL, BPF_SHAPE_NONE },
	[BPF_SHAPE_EMPTY] = { "empty", "", "a program that returns at once on io_uring_submit_req",
			      "io_uring_submit_req", BPF_SHAPE_NONE },
	[BPF_SHAPE_ARRAY] = { "array", "global-array", "array lookup by op id, then a tail call",
			      "io_uring_submit_req", BPF_SHAPE_NONE },
	[BPF_SHAPE_HASH] = { "hash", "array-xarray global-alloc", "hash lookup of an id >= 256, then a tail call",
			     "io_uring_submit_req", BPF_SHAPE_NONE },
	[BPF_SHAPE_PER_RING] = { "per-ring", "per-ctx", "hash lookup by (ring, op id), then a tail call",
				 "io_uring_submit_req", BPF_SHAPE_NONE },
	[BPF_SHAPE_TAIL_CALL] = { "tail-call", "global-array", "tail call through a program array, op id as key",
				  "io_uring_submit_req", BPF_SHAPE_NONE },
	[BPF_SHAPE_FILE_NONE] = { "file-none", "", "NOP_FILE on a plain fd, no program attached", NULL,
				  BPF_SHAPE_FILE_NONE },
	[BPF_SHAPE_FILE_ARRAY] = { "file-array", "per-fd per-fd-fixed",
				   "array lookup by the request's fd on io_uring_file_get, then a tail call",
				   "io_uring_file_get", BPF_SHAPE_FILE_NONE },
};

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* ---- instruction encoding (include/uapi/linux/bpf.h, struct bpf_insn) ---- */

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

#define MOV64_REG(d, s) insn(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, k) insn(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define ADD64_IMM(d, k) insn(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, k)
#define AND64_IMM(d, k) insn(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, k)
#define LDX(size, d, s, off) insn(BPF_LDX | (size) | BPF_MEM, d, s, off, 0)
#define STX(size, d, s, off) insn(BPF_STX | (size) | BPF_MEM, d, s, off, 0)
#define ST(size, d, off, k) insn(BPF_ST | (size) | BPF_MEM, d, 0, off, k)
#define ATOMIC_ADD64(d, s, off) insn(BPF_STX | BPF_DW | BPF_ATOMIC, d, s, off, BPF_ADD)
#define JEQ_IMM(d, k, off) insn(BPF_JMP | BPF_JEQ | BPF_K, d, 0, off, k)
#define JNE_IMM(d, k, off) insn(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, k)
#define CALL(fn) insn(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* ld_imm64 of a map fd: two instruction slots. */
#define LD_MAP(d, fd) insn(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), insn(0, 0, 0, 0, 0)

struct program {
	struct bpf_insn insns[64];
	int n;
};

static void emit(struct program *p, int count, const struct bpf_insn *insns)
{
	for (int i = 0; i < count && p->n < 64; i++)
		p->insns[p->n++] = insns[i];
}

#define EMIT(p, ...)                                                                   \
	do {                                                                           \
		const struct bpf_insn batch_[] = { __VA_ARGS__ };                      \
		emit(p, (int)(sizeof(batch_) / sizeof(batch_[0])), batch_);            \
	} while (0)

/* r6 = ctx; fp-8 = probe_read_kernel(args[0] + off): a field of the request; r7 = it. */
static void read_req_field(struct program *p, int off, int slot, int into)
{
	EMIT(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, 0), ADD64_IMM(BPF_REG_3, off), MOV64_REG(BPF_REG_1, BPF_REG_10),
	     ADD64_IMM(BPF_REG_1, slot), MOV64_IMM(BPF_REG_2, 8), CALL(BPF_FUNC_probe_read_kernel),
	     LDX(BPF_DW, into, BPF_REG_10, slot));
}

/* With the found value at r0 (or NULL): tail call progs[*(u32 *)r0]; then return 0. */
static void call_found(struct program *p, int progs_fd)
{
	EMIT(p, JEQ_IMM(BPF_REG_0, 0, 5), LDX(BPF_W, BPF_REG_3, BPF_REG_0, 0), MOV64_REG(BPF_REG_1, BPF_REG_6),
	     LD_MAP(BPF_REG_2, progs_fd), CALL(BPF_FUNC_tail_call), MOV64_IMM(BPF_REG_0, 0), EXIT());
}

static void build(struct program *p, int shape, const struct bpf_standins *st)
{
	p->n = 0;
	if (shape == BPF_SHAPE_EMPTY) {
		EMIT(p, MOV64_IMM(BPF_REG_0, 0), EXIT());
		return;
	}
	EMIT(p, MOV64_REG(BPF_REG_6, BPF_REG_1));
	switch (shape) {
	case BPF_SHAPE_ARRAY:
		read_req_field(p, st->off.user_data, -8, BPF_REG_7);
		EMIT(p, AND64_IMM(BPF_REG_7, 0xff), STX(BPF_W, BPF_REG_10, BPF_REG_7, -16),
		     MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -16), LD_MAP(BPF_REG_1, st->array_fd),
		     CALL(BPF_FUNC_map_lookup_elem));
		call_found(p, st->progs_fd);
		break;
	case BPF_SHAPE_HASH:
		read_req_field(p, st->off.user_data, -8, BPF_REG_7);
		EMIT(p, MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -8), LD_MAP(BPF_REG_1, st->hash_fd),
		     CALL(BPF_FUNC_map_lookup_elem));
		call_found(p, st->progs_fd);
		break;
	case BPF_SHAPE_PER_RING:
		/* key = { ring (req->ctx) at fp-24, op id at fp-16 } */
		read_req_field(p, st->off.user_data, -8, BPF_REG_7);
		read_req_field(p, st->off.ctx, -24, BPF_REG_8);
		EMIT(p, AND64_IMM(BPF_REG_7, 0xff), STX(BPF_DW, BPF_REG_10, BPF_REG_7, -16),
		     MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -24), LD_MAP(BPF_REG_1, st->per_ring_fd),
		     CALL(BPF_FUNC_map_lookup_elem), JNE_IMM(BPF_REG_0, 0, 11),
		     /* A ring's first request registers its table entry, as ->reg() would. */
		     ST(BPF_W, BPF_REG_10, -32, CALLEE_SLOT), MOV64_REG(BPF_REG_2, BPF_REG_10),
		     ADD64_IMM(BPF_REG_2, -24), MOV64_REG(BPF_REG_3, BPF_REG_10), ADD64_IMM(BPF_REG_3, -32),
		     LD_MAP(BPF_REG_1, st->per_ring_fd), MOV64_IMM(BPF_REG_4, BPF_ANY),
		     CALL(BPF_FUNC_map_update_elem), MOV64_IMM(BPF_REG_0, 0), EXIT());
		call_found(p, st->progs_fd);
		break;
	case BPF_SHAPE_TAIL_CALL:
		read_req_field(p, st->off.user_data, -8, BPF_REG_7);
		EMIT(p, AND64_IMM(BPF_REG_7, 0xff), MOV64_REG(BPF_REG_3, BPF_REG_7), MOV64_REG(BPF_REG_1, BPF_REG_6),
		     LD_MAP(BPF_REG_2, st->progs_fd), CALL(BPF_FUNC_tail_call), MOV64_IMM(BPF_REG_0, 0), EXIT());
		break;
	case BPF_SHAPE_FILE_ARRAY:
		/* io_uring_file_get(req, fd): the fd is args[1], no read needed */
		EMIT(p, LDX(BPF_DW, BPF_REG_7, BPF_REG_6, 8), AND64_IMM(BPF_REG_7, 0xff),
		     STX(BPF_W, BPF_REG_10, BPF_REG_7, -16), MOV64_REG(BPF_REG_2, BPF_REG_10),
		     ADD64_IMM(BPF_REG_2, -16), LD_MAP(BPF_REG_1, st->fd_array_fd), CALL(BPF_FUNC_map_lookup_elem));
		call_found(p, st->progs_fd);
		break;
	}
}

/* The program every shape finds: counts[0] += 1. */
static void build_callee(struct program *p, int counts_fd)
{
	p->n = 0;
	EMIT(p, ST(BPF_W, BPF_REG_10, -4, 0), MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -4),
	     LD_MAP(BPF_REG_1, counts_fd), CALL(BPF_FUNC_map_lookup_elem), JEQ_IMM(BPF_REG_0, 0, 2),
	     MOV64_IMM(BPF_REG_1, 1), ATOMIC_ADD64(BPF_REG_0, BPF_REG_1, 0), MOV64_IMM(BPF_REG_0, 0), EXIT());
}

static int map_create(enum bpf_map_type type, unsigned key, unsigned value, unsigned max)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key;
	a.value_size = value;
	a.max_entries = max;
	int fd = sys_bpf(BPF_MAP_CREATE, &a);

	return fd < 0 ? -errno : fd;
}

static int map_update(int fd, const void *key, const void *value)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)value;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0 ? -errno : 0;
}

static int prog_load(const struct program *p, char *log, size_t loglen)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	a.insns = (__u64)(unsigned long)p->insns;
	a.insn_cnt = (__u32)p->n;
	a.license = (__u64)(unsigned long)"GPL";
	a.log_buf = (__u64)(unsigned long)log;
	a.log_size = (__u32)loglen;
	a.log_level = log ? 1 : 0;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);

	if (fd >= 0 || !log)
		return fd < 0 ? -errno : fd;
	int err = -errno;

	/* Retry without a log: a full log buffer fails the load with ENOSPC. */
	a.log_buf = 0;
	a.log_size = 0;
	a.log_level = 0;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? err : fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void bpf_standins_unload(struct bpf_standins *st)
{
	bpf_standins_detach(st);
	for (int s = 0; s < BPF_SHAPE_COUNT; s++)
		close_fd(&st->prog_fd[s]);
	close_fd(&st->callee_fd);
	close_fd(&st->counts_fd);
	close_fd(&st->progs_fd);
	close_fd(&st->array_fd);
	close_fd(&st->fd_array_fd);
	close_fd(&st->hash_fd);
	close_fd(&st->per_ring_fd);
}

static int fail(struct bpf_standins *st, int err, const char *what)
{
	snprintf(st->error, sizeof(st->error), "%s: %s", what, strerror(-err));
	bpf_standins_unload(st);
	return err;
}

int bpf_standins_load(struct bpf_standins *st, const struct bpf_offsets *off)
{
	static char log[4096];
	struct program p;
	__u32 slot = CALLEE_SLOT, op = OP_ID;
	__u64 hash_id = HASH_ID;
	int ret;

	memset(st, 0, sizeof(*st));
	st->off = *off;
	st->link_fd = -1;
	st->callee_fd = st->counts_fd = st->progs_fd = st->array_fd = st->fd_array_fd = -1;
	st->hash_fd = st->per_ring_fd = -1;
	for (int s = 0; s < BPF_SHAPE_COUNT; s++)
		st->prog_fd[s] = -1;
	if ((st->counts_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1)) < 0)
		return fail(st, st->counts_fd, "creating a BPF array map");
	if ((st->progs_fd = map_create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 256)) < 0)
		return fail(st, st->progs_fd, "creating a BPF program array");
	if ((st->array_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 256)) < 0)
		return fail(st, st->array_fd, "creating a BPF array map");
	if ((st->fd_array_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 256)) < 0)
		return fail(st, st->fd_array_fd, "creating a BPF array map");
	if ((st->hash_fd = map_create(BPF_MAP_TYPE_HASH, 8, 4, 1024)) < 0)
		return fail(st, st->hash_fd, "creating a BPF hash map");
	if ((st->per_ring_fd = map_create(BPF_MAP_TYPE_HASH, 16, 4, 1024)) < 0)
		return fail(st, st->per_ring_fd, "creating a BPF hash map");
	build_callee(&p, st->counts_fd);
	if ((st->callee_fd = prog_load(&p, log, sizeof(log))) < 0)
		return fail(st, st->callee_fd, "loading a raw tracepoint program");
	if ((ret = map_update(st->progs_fd, &slot, &st->callee_fd)) < 0)
		return fail(st, ret, "filling the program array");
	if ((ret = map_update(st->array_fd, &op, &slot)) < 0 || (ret = map_update(st->hash_fd, &hash_id, &slot)) < 0)
		return fail(st, ret, "filling the lookup maps");
	/* Every fd names the program: the fd a request carries is its name (per-fd). */
	for (__u32 fd = 0; fd < 256; fd++)
		if ((ret = map_update(st->fd_array_fd, &fd, &slot)) < 0)
			return fail(st, ret, "filling the lookup maps");
	for (int s = 0; s < BPF_SHAPE_COUNT; s++) {
		if (!bpf_shape_defs[s].tracepoint)
			continue;
		build(&p, s, st);
		st->prog_fd[s] = prog_load(&p, log, sizeof(log));
		if (st->prog_fd[s] < 0) {
			char what[96];

			snprintf(what, sizeof(what), "loading the '%s' program", bpf_shape_defs[s].name);
			return fail(st, st->prog_fd[s], what);
		}
	}
	return 0;
}

int bpf_standins_attach(struct bpf_standins *st, int shape)
{
	union bpf_attr a;

	bpf_standins_detach(st);
	if (!bpf_shape_defs[shape].tracepoint)
		return 0;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (__u64)(unsigned long)bpf_shape_defs[shape].tracepoint;
	a.raw_tracepoint.prog_fd = (__u32)st->prog_fd[shape];
	st->link_fd = sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
	return st->link_fd < 0 ? -errno : 0;
}

void bpf_standins_detach(struct bpf_standins *st)
{
	close_fd(&st->link_fd);
}

long long bpf_standins_count(struct bpf_standins *st)
{
	union bpf_attr a;
	__u32 key = 0;
	__u64 value = 0;

	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)st->counts_fd;
	a.key = (__u64)(unsigned long)&key;
	a.value = (__u64)(unsigned long)&value;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0)
		return -errno;
	return (long long)value;
}

static int is_file_shape(int shape)
{
	return shape == BPF_SHAPE_FILE_NONE || shape == BPF_SHAPE_FILE_ARRAY;
}

/* The stand-in a shape's requests are: NOP, or NOP_FILE on the thread's own fd for the file shapes. */
static const struct standin_def *ring_def(int shape)
{
	return &standin_defs[standin_find(is_file_shape(shape) ? "file-own" : "nop")];
}

/* The user_data every request of `shape` carries: the id its lookup finds. */
static unsigned long long user_data_of(int shape)
{
	return shape == BPF_SHAPE_HASH ? HASH_ID : OP_ID;
}

struct run_arg {
	struct bpf_standins *st;
	const int *shapes;
};

static int setup(void *arg, int worker, int v, void **ctxp)
{
	struct run_arg *ra = arg;
	struct standin_ctx *ctx;
	int ret = standin_pool_setup(ring_def(ra->shapes[v]), -1, &ctx);

	(void)worker;
	if (ret == 0) {
		ctx->user_data = user_data_of(ra->shapes[v]);
		*ctxp = ctx;
	}
	return ret;
}

static int before(void *arg, int v)
{
	struct run_arg *ra = arg;

	return bpf_standins_attach(ra->st, ra->shapes[v]);
}

static void after(void *arg, int v)
{
	(void)v;
	bpf_standins_detach(((struct run_arg *)arg)->st);
}

int bpf_standins_run(struct bpf_standins *st, struct bpf_run_opts *o, char *err, size_t errlen)
{
	struct run_arg ra = { .st = st, .shapes = o->shapes };
	struct pool_variants v = {
		.count = o->nshapes, .arg = &ra, .setup = setup, .run = standin_pool_run, .teardown = standin_pool_teardown,
		.before = before, .after = after,
	};

	return pool_run(&v, &o->plan, err, errlen);
}

long long bpf_standins_check(struct bpf_standins *st, int shape, int n)
{
	struct standin_ctx ctx;

	standin_setup(&ctx, ring_def(shape), -1);
	ctx.user_data = user_data_of(shape);
	int ret = ctx.error;

	if (ret == 0) {
		long long before_count = bpf_standins_count(st);

		ret = bpf_standins_attach(st, shape);
		for (int i = 0; ret == 0 && i < n; i++)
			ret = standin_batch(&ctx, 1);
		bpf_standins_detach(st);
		if (ret == 0) {
			long long count = bpf_standins_count(st);

			standin_teardown(&ctx);
			return count < 0 ? count : count - before_count;
		}
	}
	standin_teardown(&ctx);
	return ret;
}
