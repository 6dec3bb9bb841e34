// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpf_standins.h"
#include "pool.h"
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
#define RSH64_IMM(d, k) insn(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, k)
#define LDX(size, d, s, off) insn(BPF_LDX | (size) | BPF_MEM, d, s, off, 0)
#define STX(size, d, s, off) insn(BPF_STX | (size) | BPF_MEM, d, s, off, 0)
#define ST(size, d, off, k) insn(BPF_ST | (size) | BPF_MEM, d, 0, off, k)
#define JEQ_IMM(d, k, off) insn(BPF_JMP | BPF_JEQ | BPF_K, d, 0, off, k)
#define JNE_IMM(d, k, off) insn(BPF_JMP | BPF_JNE | BPF_K, d, 0, off, k)
#define CALL(fn) insn(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* ld_imm64 of a map fd: two instruction slots. */
#define LD_MAP(d, fd) insn(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), insn(0, 0, 0, 0, 0)

#define PROGRAM_MAX 96

struct program {
	struct bpf_insn insns[PROGRAM_MAX];
	int n;
	int overflow;		/* more instructions were emitted than fit: refuse to load */
};

static void emit(struct program *p, int count, const struct bpf_insn *insns)
{
	for (int i = 0; i < count; i++) {
		if (p->n == PROGRAM_MAX) {
			p->overflow = 1;
			return;
		}
		p->insns[p->n++] = insns[i];
	}
}

#define EMIT(p, ...)                                                                   \
	do {                                                                           \
		const struct bpf_insn batch_[] = { __VA_ARGS__ };                      \
		emit(p, (int)(sizeof(batch_) / sizeof(batch_[0])), batch_);            \
	} while (0)

/* The tracepoint of each hook, as the shapes name it. */
static const char *const hook_tracepoints[BPF_HOOK_COUNT] = {
	[BPF_HOOK_SUBMIT_REQ] = "io_uring_submit_req",
	[BPF_HOOK_FILE_GET] = "io_uring_file_get",
};

static enum bpf_hook hook_of(int shape)
{
	return strcmp(bpf_shape_defs[shape].tracepoint, hook_tracepoints[BPF_HOOK_FILE_GET]) == 0
		       ? BPF_HOOK_FILE_GET
		       : BPF_HOOK_SUBMIT_REQ;
}

/*
 * r6 = ctx (the tracepoint's u64 args[]), r2 = args[0] = the request (a
 * BTF pointer: its fields are plain loads), r7 = req->cqe.user_data.
 */
static void load_request(struct program *p, const struct bpf_btf *btf)
{
	EMIT(p, MOV64_REG(BPF_REG_6, BPF_REG_1), LDX(BPF_DW, BPF_REG_2, BPF_REG_6, 0),
	     LDX(BPF_DW, BPF_REG_7, BPF_REG_2, btf->user_data));
}

/* With the found value at r0 (or NULL): tail call progs[*(u32 *)r0]; then return 0. */
static void call_found(struct program *p, int progs_fd)
{
	EMIT(p, JEQ_IMM(BPF_REG_0, 0, 5), LDX(BPF_W, BPF_REG_3, BPF_REG_0, 0), MOV64_REG(BPF_REG_1, BPF_REG_6),
	     LD_MAP(BPF_REG_2, progs_fd), CALL(BPF_FUNC_tail_call), MOV64_IMM(BPF_REG_0, 0), EXIT());
}

static void build(struct program *p, int shape, const struct bpf_standins *st)
{
	int progs_fd = st->progs_fd[hook_of(shape)];

	*p = (struct program){ .n = 0 };
	switch (shape) {
	case BPF_SHAPE_EMPTY:
		EMIT(p, MOV64_IMM(BPF_REG_0, 0), EXIT());
		break;
	case BPF_SHAPE_ARRAY:
		load_request(p, &st->btf);
		EMIT(p, AND64_IMM(BPF_REG_7, 0xff), STX(BPF_W, BPF_REG_10, BPF_REG_7, -16),
		     MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -16), LD_MAP(BPF_REG_1, st->array_fd),
		     CALL(BPF_FUNC_map_lookup_elem));
		call_found(p, progs_fd);
		break;
	case BPF_SHAPE_HASH:
		load_request(p, &st->btf);
		EMIT(p, STX(BPF_DW, BPF_REG_10, BPF_REG_7, -8), MOV64_REG(BPF_REG_2, BPF_REG_10),
		     ADD64_IMM(BPF_REG_2, -8), LD_MAP(BPF_REG_1, st->hash_fd), CALL(BPF_FUNC_map_lookup_elem));
		call_found(p, progs_fd);
		break;
	case BPF_SHAPE_PER_RING:
		/* key = { ring (req->ctx) at fp-24, op id at fp-16 } */
		load_request(p, &st->btf);
		EMIT(p, LDX(BPF_DW, BPF_REG_8, BPF_REG_2, st->btf.ctx), AND64_IMM(BPF_REG_7, 0xff),
		     STX(BPF_DW, BPF_REG_10, BPF_REG_8, -24), STX(BPF_DW, BPF_REG_10, BPF_REG_7, -16),
		     MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -24), LD_MAP(BPF_REG_1, st->per_ring_fd),
		     CALL(BPF_FUNC_map_lookup_elem), JNE_IMM(BPF_REG_0, 0, 11),
		     /* A ring's first request registers its table entry, as ->reg() would. */
		     ST(BPF_W, BPF_REG_10, -32, CALLEE_SLOT), MOV64_REG(BPF_REG_2, BPF_REG_10),
		     ADD64_IMM(BPF_REG_2, -24), MOV64_REG(BPF_REG_3, BPF_REG_10), ADD64_IMM(BPF_REG_3, -32),
		     LD_MAP(BPF_REG_1, st->per_ring_fd), MOV64_IMM(BPF_REG_4, BPF_ANY),
		     CALL(BPF_FUNC_map_update_elem), MOV64_IMM(BPF_REG_0, 0), EXIT());
		call_found(p, progs_fd);
		break;
	case BPF_SHAPE_TAIL_CALL:
		load_request(p, &st->btf);
		EMIT(p, AND64_IMM(BPF_REG_7, 0xff), MOV64_REG(BPF_REG_3, BPF_REG_7), MOV64_REG(BPF_REG_1, BPF_REG_6),
		     LD_MAP(BPF_REG_2, progs_fd), CALL(BPF_FUNC_tail_call), MOV64_IMM(BPF_REG_0, 0), EXIT());
		break;
	case BPF_SHAPE_FILE_ARRAY:
		/* io_uring_file_get(req, fd): the fd is args[1] */
		EMIT(p, MOV64_REG(BPF_REG_6, BPF_REG_1), LDX(BPF_DW, BPF_REG_7, BPF_REG_6, 8),
		     AND64_IMM(BPF_REG_7, 0xff), STX(BPF_W, BPF_REG_10, BPF_REG_7, -16),
		     MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -16), LD_MAP(BPF_REG_1, st->fd_array_fd),
		     CALL(BPF_FUNC_map_lookup_elem));
		call_found(p, progs_fd);
		break;
	}
}

/* The program every shape finds: this CPU's counts[0] += 1 when this process submitted. */
static void build_callee(struct program *p, int counts_fd, int tgid)
{
	*p = (struct program){ .n = 0 };
	EMIT(p, CALL(BPF_FUNC_get_current_pid_tgid), RSH64_IMM(BPF_REG_0, 32), JNE_IMM(BPF_REG_0, tgid, 10),
	     ST(BPF_W, BPF_REG_10, -4, 0), MOV64_REG(BPF_REG_2, BPF_REG_10), ADD64_IMM(BPF_REG_2, -4),
	     LD_MAP(BPF_REG_1, counts_fd), CALL(BPF_FUNC_map_lookup_elem), JEQ_IMM(BPF_REG_0, 0, 3),
	     LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0), ADD64_IMM(BPF_REG_1, 1), STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
	     MOV64_IMM(BPF_REG_0, 0), EXIT());
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

/* The verifier's log of the last load, for the error line: st->log holds this many bytes. */
#define VERIFIER_LOG_SIZE 65536

/* Loads `p` as a tp_btf program on the tracepoint whose btf_trace_ typedef is `btf_type`: its fd or -errno. */
static int prog_load(struct bpf_standins *st, const struct program *p, int btf_type)
{
	union bpf_attr a;

	if (p->overflow)
		return -E2BIG;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_TRACING;
	a.expected_attach_type = BPF_TRACE_RAW_TP;
	a.attach_btf_id = (__u32)btf_type;
	a.insns = (__u64)(unsigned long)p->insns;
	a.insn_cnt = (__u32)p->n;
	a.license = (__u64)(unsigned long)"GPL";
	st->log[0] = '\0';
	a.log_buf = (__u64)(unsigned long)st->log;
	a.log_size = VERIFIER_LOG_SIZE;
	a.log_level = 1;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);

	return fd < 0 ? -errno : fd;
}

/* Whether a verifier log line is its closing statistics rather than its verdict. */
static int is_log_summary(const char *line, size_t len)
{
	static const char *const prefixes[] = { "processed ", "verification time", "stack depth" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (len >= strlen(prefixes[i]) && strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* The verifier log's last line that is not its statistics (why it refused), or "". */
static const char *verifier_verdict(const char *log, char *buf, size_t len)
{
	size_t end = strnlen(log, VERIFIER_LOG_SIZE);

	buf[0] = '\0';
	while (end > 0) {
		while (end > 0 && (log[end - 1] == '\n' || log[end - 1] == ' '))
			end--;
		size_t start = end;

		while (start > 0 && log[start - 1] != '\n')
			start--;
		if (end > start && !is_log_summary(log + start, end - start)) {
			snprintf(buf, len, "%.*s", (int)(end - start), log + start);
			break;
		}
		end = start;
	}
	return buf;
}

/* Possible CPUs (/sys/devices/system/cpu/possible, "0-3" or "0,2-5"): a per-CPU value's width. */
static int possible_cpus(void)
{
	char text[256] = "";
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int n = 0;

	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	for (char *t = text; *t && *t != '\n';) {
		char *end;
		long lo = strtol(t, &end, 10), hi = lo;

		if (end == t)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (hi + 1 > n)
			n = (int)hi + 1;
		t = *end == ',' ? end + 1 : end;
	}
	return n > 0 ? n : (int)sysconf(_SC_NPROCESSORS_CONF);
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
	for (int h = 0; h < BPF_HOOK_COUNT; h++) {
		close_fd(&st->callee_fd[h]);
		close_fd(&st->progs_fd[h]);
	}
	close_fd(&st->counts_fd);
	close_fd(&st->array_fd);
	close_fd(&st->fd_array_fd);
	close_fd(&st->hash_fd);
	close_fd(&st->per_ring_fd);
	free(st->log);
	st->log = NULL;
}

static int fail(struct bpf_standins *st, int err, const char *what)
{
	snprintf(st->error, sizeof(st->error), "%s: %s", what, strerror(-err));
	bpf_standins_unload(st);
	return err;
}

/* A failed program load: the errno and, when the verifier refused it, its verdict. */
static int fail_load(struct bpf_standins *st, int err, const char *what)
{
	char verdict[160];

	if (err == -E2BIG)
		snprintf(st->error, sizeof(st->error), "%s: more than %d instructions", what, PROGRAM_MAX);
	else if (*verifier_verdict(st->log, verdict, sizeof(verdict)))
		snprintf(st->error, sizeof(st->error), "%s: %s (verifier: %s)", what, strerror(-err), verdict);
	else
		snprintf(st->error, sizeof(st->error), "%s: %s", what, strerror(-err));
	bpf_standins_unload(st);
	return err;
}

int bpf_standins_load(struct bpf_standins *st, const struct bpf_btf *btf)
{
	const int hook_types[BPF_HOOK_COUNT] = { btf->submit_req_type, btf->file_get_type };
	struct program p;
	__u32 slot = CALLEE_SLOT, op = OP_ID;
	__u64 hash_id = HASH_ID;
	int ret;

	memset(st, 0, sizeof(*st));
	st->btf = *btf;
	st->ncpus = possible_cpus();
	st->link_fd = -1;
	st->counts_fd = st->array_fd = st->fd_array_fd = st->hash_fd = st->per_ring_fd = -1;
	for (int h = 0; h < BPF_HOOK_COUNT; h++)
		st->progs_fd[h] = st->callee_fd[h] = -1;
	for (int s = 0; s < BPF_SHAPE_COUNT; s++)
		st->prog_fd[s] = -1;
	if (!(st->log = malloc(VERIFIER_LOG_SIZE)))
		return fail(st, -ENOMEM, "allocating the verifier log");
	/* Per CPU: two threads counting calls must not bounce one line (the kernel's own counters do not). */
	if ((st->counts_fd = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1)) < 0)
		return fail(st, st->counts_fd, "creating a BPF per-CPU array map");
	if ((st->array_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 256)) < 0)
		return fail(st, st->array_fd, "creating a BPF array map");
	if ((st->fd_array_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 256)) < 0)
		return fail(st, st->fd_array_fd, "creating a BPF array map");
	if ((st->hash_fd = map_create(BPF_MAP_TYPE_HASH, 8, 4, 1024)) < 0)
		return fail(st, st->hash_fd, "creating a BPF hash map");
	/* One entry per ring that ran the shape: up to POOL_MAX_THREADS workers' rings, the check's, and reused ones. */
	if ((st->per_ring_fd = map_create(BPF_MAP_TYPE_HASH, 16, 4, 4 * POOL_MAX_THREADS)) < 0)
		return fail(st, st->per_ring_fd, "creating a BPF hash map");
	for (int h = 0; h < BPF_HOOK_COUNT; h++) {
		char what[96];

		if ((st->progs_fd[h] = map_create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 256)) < 0)
			return fail(st, st->progs_fd[h], "creating a BPF program array");
		build_callee(&p, st->counts_fd, (int)getpid());
		snprintf(what, sizeof(what), "loading the callee on %s (tp_btf)", hook_tracepoints[h]);
		if ((st->callee_fd[h] = prog_load(st, &p, hook_types[h])) < 0)
			return fail_load(st, st->callee_fd[h], what);
		if ((ret = map_update(st->progs_fd[h], &slot, &st->callee_fd[h])) < 0)
			return fail(st, ret, "filling the program array");
	}
	/* Op id 7 and id 300 name the callee's slot; every other entry is 0, an empty slot. */
	if ((ret = map_update(st->array_fd, &op, &slot)) < 0 || (ret = map_update(st->hash_fd, &hash_id, &slot)) < 0)
		return fail(st, ret, "filling the lookup maps");
	for (int s = 0; s < BPF_SHAPE_COUNT; s++) {
		if (!bpf_shape_defs[s].tracepoint)
			continue;
		build(&p, s, st);
		st->prog_fd[s] = prog_load(st, &p, hook_types[hook_of(s)]);
		if (st->prog_fd[s] < 0) {
			char what[96];

			snprintf(what, sizeof(what), "loading the '%s' program", bpf_shape_defs[s].name);
			return fail_load(st, st->prog_fd[s], what);
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
	/* A tp_btf program names its tracepoint by attach_btf_id: no name here. */
	memset(&a, 0, sizeof(a));
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
	__u64 *values = calloc((size_t)st->ncpus, sizeof(*values));
	long long sum = 0;

	if (!values)
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)st->counts_fd;
	a.key = (__u64)(unsigned long)&key;
	a.value = (__u64)(unsigned long)values;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) < 0)
		sum = -errno;
	for (int i = 0; sum >= 0 && i < st->ncpus; i++)
		sum += (long long)values[i];
	free(values);
	return sum;
}

int bpf_standins_name_fd(struct bpf_standins *st, int fd, int named)
{
	__u32 key = (__u32)fd, value = named ? CALLEE_SLOT : 0;

	if (fd < 0 || fd > 255)
		return -EBADF;
	return map_update(st->fd_array_fd, &key, &value);
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
	if (ret < 0)
		return ret;
	/* The fd a request carries is its program's name: this ring's file names the callee. */
	if (ra->shapes[v] == BPF_SHAPE_FILE_ARRAY && (ret = bpf_standins_name_fd(ra->st, ctx->file_fd, 1)) < 0) {
		standin_pool_teardown(arg, ctx);
		return ret;
	}
	ctx->user_data = user_data_of(ra->shapes[v]);
	*ctxp = ctx;
	return 0;
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

/* run_cnt of `prog_fd` (counted only while BPF_ENABLE_STATS is on), or -errno. */
static long long run_count(int prog_fd)
{
	struct bpf_prog_info info;
	union bpf_attr a;

	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)prog_fd;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return -errno;
	return (long long)info.run_cnt;
}

#define CHECK_RINGS 2

struct bpf_check bpf_standins_check(struct bpf_standins *st, int shape, int n)
{
	struct standin_ctx ctx[CHECK_RINGS];
	struct bpf_check out = { 0, 0 };
	int has_prog = bpf_shape_defs[shape].tracepoint != NULL, ret = 0, stats_fd = -1, set_up = 0;

	for (; set_up < CHECK_RINGS && ret == 0; set_up++) {
		standin_setup(&ctx[set_up], ring_def(shape), -1);
		ctx[set_up].user_data = user_data_of(shape);
		ret = ctx[set_up].error;
		/* Only the fds of this check name the callee: a request that reads the wrong argument misses. */
		if (ret == 0 && shape == BPF_SHAPE_FILE_ARRAY)
			ret = bpf_standins_name_fd(st, ctx[set_up].file_fd, 1);
	}
	long long calls_before = bpf_standins_count(st), runs_before = 0;

	if (ret == 0 && calls_before < 0)
		ret = (int)calls_before;
	if (ret == 0 && has_prog) {
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.enable_stats.type = BPF_STATS_RUN_TIME;
		stats_fd = sys_bpf(BPF_ENABLE_STATS, &a);
		out.runs = stats_fd < 0 ? -errno : 0;
		runs_before = stats_fd < 0 ? 0 : run_count(st->prog_fd[shape]);
	}
	if (ret == 0)
		ret = bpf_standins_attach(st, shape);
	/* Alternate the rings, so a table keyed by the ring sees two keys in turn. */
	for (int i = 0; ret == 0 && i < n; i++)
		for (int r = 0; ret == 0 && r < CHECK_RINGS; r++)
			ret = standin_batch(&ctx[r], 1);
	bpf_standins_detach(st);
	if (ret == 0) {
		long long calls = bpf_standins_count(st);

		out.calls = calls < 0 ? calls : calls - calls_before;
		if (stats_fd >= 0) {
			long long runs = run_count(st->prog_fd[shape]);

			out.runs = runs_before < 0 ? runs_before : runs < 0 ? runs : runs - runs_before;
		}
	} else {
		out.calls = ret;
	}
	if (stats_fd >= 0)
		close(stats_fd);
	for (int r = 0; r < set_up; r++) {
		if (shape == BPF_SHAPE_FILE_ARRAY && ctx[r].error == 0)
			bpf_standins_name_fd(st, ctx[r].file_fd, 0);
		standin_teardown(&ctx[r]);
	}
	return out;
}
