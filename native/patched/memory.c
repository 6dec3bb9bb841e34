// SPDX-License-Identifier: MIT
/*
 * iou-patched --memory: the kernel's own memory per IORING_OP_BPF
 * registration on v2/v3 (per-ring registrations), programs shared or each
 * registration's own. See "Memory" below; runner.c parses the options.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../src/clock.h"
#include "../src/ring.h"
#include "memory.h"
#include "uring_ops.h"

/* What memory_main was asked to measure, and the flag a signal sets. */
static const struct memory_target *target;
static volatile sig_atomic_t *stop;

/*
 * Memory: the kernel's own growth per registration, from /proc/meminfo.
 * For each ring count R and each mode, R rings are set up with the
 * version's flag and each gets MEM_OPS registrations (op ids 0..15, one
 * struct_ops map and one link each), all naming the no-op programs. Slab
 * and VmallocUsed (kB) are read, once they settle, before the first
 * registration, after the last, and after tearing them down; the rings
 * (and in shared mode the programs) exist at all three readings, so only
 * the registrations differ. Two modes:
 *   shared: what a ublk server would do: the programs are loaded once, and
 *           every registration is a struct_ops map made by hand with the
 *           low-level API (its value laid out from the kernel's BTF) whose
 *           slots hold the already-loaded programs' fds, attached with
 *           BPF_LINK_CREATE.
 *   own:    every registration opens and loads the object itself and
 *           attaches one map. The object has three maps (nop, array,
 *           result) that would share its programs; rather than adding 16
 *           maps, each (ring, op) opens its own copy of the object and keeps
 *           only nop_ops, with that op's id and ring_fd (the other maps are
 *           not created, so their programs and the array map are not
 *           loaded): per registration, one object's BTF, prep and
 *           nop_issue, one struct_ops map and one link, none shared.
 * Every registration is then checked to have taken effect: one
 * IORING_OP_BPF request per (ring, op) must complete with res 0 (after
 * the second reading; the rings' request caches are filled with NOPs
 * before the first, so the check allocates nothing counted).
 */
#define MEM_OPS 16		/* IO_RING_MAX_BPF_OPS: op ids 0..15 */
#define SETTLE_STEP_MS 250
#define SETTLE_SAME 4		/* unchanged over this many steps (1 s): settled */
#define SETTLE_MAX_MS 10000
#define SETTLE_TEARDOWN_MAX_MS 20000	/* freeing struct_ops maps waits for RCU grace periods */

#ifndef BPF_F_LINK
#define BPF_F_LINK (1U << 13)
#endif
/* enum bpf_attach_type's BPF_STRUCT_OPS (6.4); older <linux/bpf.h> lack it. */
#define IOU_BPF_STRUCT_OPS 44

enum mem_mode { MEM_SHARED, MEM_OWN, MEM_MODES };
static const char *const mem_mode_names[MEM_MODES] = { "shared", "own" };

enum { MI_SLAB, MI_SUNRECLAIM, MI_VMALLOC, MI_PERCPU, MI_COUNT };
static const char *const mi_keys[MI_COUNT] = { "Slab", "SUnreclaim", "VmallocUsed", "Percpu" };

struct meminfo {
	long long kb[MI_COUNT];	/* -1 when /proc/meminfo has no such line */
	long long threads;	/* every task in the system (/proc/loadavg), -1 when unread */
};

/* Where the hand-made map's value puts each field, from vmlinux BTF. */
struct field {
	unsigned off, size;
};

struct value_layout {
	int type_id;		/* struct bpf_struct_ops_uring_bpf_ops */
	unsigned size;
	struct field id, ring_fd, prep, issue;	/* offsets within the whole value */
};

struct mem_reg {
	struct bpf_object *obj;	/* own */
	struct bpf_link *link;	/* own */
	int map_fd, link_fd;	/* shared */
};

struct mem_result {
	int rings;
	enum mem_mode mode;
	int registered, not_effective;
	char error[320];
	struct meminfo before, after, teardown;
	int have_before, have_after, have_teardown;
	int settled[3];
	double register_ms;
};

static int meminfo_read(struct meminfo *m)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];

	if (!f)
		return -errno;
	for (int i = 0; i < MI_COUNT; i++)
		m->kb[i] = -1;
	while (fgets(line, sizeof(line), f))
		for (int i = 0; i < MI_COUNT; i++) {
			size_t n = strlen(mi_keys[i]);

			if (strncmp(line, mi_keys[i], n) == 0 && line[n] == ':')
				m->kb[i] = strtoll(line + n + 1, NULL, 10);
		}
	fclose(f);
	/*
	 * Tasks, kernel workers included: freeing struct_ops maps and programs
	 * waits for RCU grace periods in workqueue items, and the workers
	 * spawned for them (a vmalloc'ed stack and a task_struct each) stay
	 * for minutes, so the teardown reading includes them.
	 */
	m->threads = -1;
	if ((f = fopen("/proc/loadavg", "r"))) {
		if (fscanf(f, "%*s %*s %*s %*d/%lld", &m->threads) != 1)
			m->threads = -1;
		fclose(f);
	}
	return m->kb[MI_SLAB] < 0 || m->kb[MI_VMALLOC] < 0 ? -ENOENT : 0;
}

/*
 * Reads /proc/meminfo every SETTLE_STEP_MS until Slab and VmallocUsed stay
 * unchanged for SETTLE_SAME steps, for at most max_ms; `m` is the last
 * reading. 1 when they settled, 0 when not, -errno when unreadable.
 */
static int meminfo_settle(struct meminfo *m, int max_ms)
{
	const struct timespec step = { .tv_nsec = SETTLE_STEP_MS * 1000000L };
	struct meminfo prev;
	int same = 0, ret = meminfo_read(&prev);

	if (ret < 0)
		return ret;
	*m = prev;
	for (int waited = 0; waited < max_ms; waited += SETTLE_STEP_MS) {
		nanosleep(&step, NULL);
		if ((ret = meminfo_read(m)) < 0)
			return ret;
		if (m->kb[MI_SLAB] == prev.kb[MI_SLAB] && m->kb[MI_VMALLOC] == prev.kb[MI_VMALLOC]) {
			if (++same >= SETTLE_SAME)
				return 1;
		} else {
			same = 0;
		}
		prev = *m;
	}
	return 0;
}

/* Byte offset, size and (resolved) type of `t`'s member `name`. */
static int btf_field(const struct btf *btf, const struct btf_type *t, const char *name, struct field *f,
		     __u32 *type_id)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < (int)btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), name) != 0)
			continue;
		if (btf_member_bitfield_size(t, i))
			return -ENOTSUP;
		__s64 size = btf__resolve_size(btf, m->type);

		if (size <= 0)
			return size < 0 ? (int)size : -EINVAL;
		f->off = btf_member_bit_offset(t, i) / 8;
		f->size = (unsigned)size;
		if (type_id)
			*type_id = (__u32)btf__resolve_type(btf, m->type);
		return 0;
	}
	return -ENOENT;
}

/* The kernel's struct_ops value for uring_bpf_ops, from vmlinux BTF; 0 or -errno with `why`. */
static int value_layout(struct value_layout *l, char *why, size_t n)
{
	static const char value_type[] = "bpf_struct_ops_uring_bpf_ops";
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t, *ops;
	struct field data;
	__u32 ops_id = 0;
	int ret;

	if (!btf) {
		ret = -errno;
		snprintf(why, n, "reading vmlinux BTF: %s", strerror(-ret));
		return ret;
	}
	l->type_id = btf__find_by_name_kind(btf, value_type, BTF_KIND_STRUCT);
	if (l->type_id < 0) {
		snprintf(why, n, "vmlinux BTF has no struct %s", value_type);
		btf__free(btf);
		return -ENOENT;
	}
	t = btf__type_by_id(btf, (__u32)l->type_id);
	l->size = t->size;
	ret = btf_field(btf, t, "data", &data, &ops_id);
	ops = ret == 0 ? btf__type_by_id(btf, ops_id) : NULL;
	if (ret == 0 && (!ops || !btf_is_struct(ops)))
		ret = -EINVAL;
	static const char *const names[] = { "id", "ring_fd", "prep_fn", "issue_fn" };
	struct field *fields[] = { &l->id, &l->ring_fd, &l->prep, &l->issue };
	const char *missing = "data";

	for (int i = 0; ret == 0 && i < 4; i++) {
		missing = names[i];
		ret = btf_field(btf, ops, names[i], fields[i], NULL);
		fields[i]->off += data.off;
	}
	if (ret == 0 && (l->prep.size != sizeof(unsigned long) || l->issue.size != sizeof(unsigned long)))
		ret = -EINVAL, missing = "prep_fn/issue_fn as pointers";
	if (ret < 0)
		snprintf(why, n, "struct %s in vmlinux BTF: no usable member %s", value_type, missing);
	btf__free(btf);
	return ret;
}

static int put_uint(unsigned char *buf, struct field f, unsigned long long v)
{
	__u16 v16 = (__u16)v;
	__u32 v32 = (__u32)v;
	__u64 v64 = v;

	switch (f.size) {
	case 2: memcpy(buf + f.off, &v16, 2); return 0;
	case 4: memcpy(buf + f.off, &v32, 4); return 0;
	case 8: memcpy(buf + f.off, &v64, 8); return 0;
	default: return -EINVAL;
	}
}

/*
 * Opens the object with only nop_ops to be created, its id and ring_fd
 * set; libbpf then loads only the programs nop_ops names (prep,
 * nop_issue). The other maps, and the array map only array_issue uses,
 * are left out.
 */
static int open_nop_only(int ring_fd, int op, struct bpf_object **objp, struct bpf_map **mapp)
{
	struct bpf_object *obj = bpf_object__open_file(target->object, NULL);
	struct bpf_map *map, *keep = NULL;
	struct ops_value *value = NULL;
	size_t size = 0;

	if (!obj)
		return -errno;
	bpf_object__for_each_map(map, obj) {
		if (strcmp(bpf_map__name(map), NOP_OPS_MAP) == 0)
			keep = map;
		else
			bpf_map__set_autocreate(map, false);
	}
	if (keep)
		value = (struct ops_value *)bpf_map__initial_value(keep, &size);
	if (!value || size < sizeof(*value)) {
		bpf_object__close(obj);
		return -ENOENT;
	}
	value->id = (unsigned short)op;
	value->ring_fd = ring_fd;
	int ret = bpf_object__load(obj);

	if (ret < 0) {
		bpf_object__close(obj);
		return ret;
	}
	*objp = obj;
	*mapp = keep;
	return 0;
}

struct shared_progs {
	struct bpf_object *obj;
	int prep_fd, issue_fd;
	struct value_layout layout;
};

static int shared_load(struct shared_progs *s, char *why, size_t n)
{
	struct bpf_map *unused;
	int ret = open_nop_only(-1, 0, &s->obj, &unused);

	if (ret < 0) {
		snprintf(why, n, "loading the programs once: %s", strerror(-ret));
		return ret;
	}
	s->prep_fd = bpf_program__fd(bpf_object__find_program_by_name(s->obj, "prep"));
	s->issue_fd = bpf_program__fd(bpf_object__find_program_by_name(s->obj, "nop_issue"));
	if (s->prep_fd < 0 || s->issue_fd < 0) {
		snprintf(why, n, "the object's prep and nop_issue programs did not load");
		return -ENOENT;
	}
	return value_layout(&s->layout, why, n);
}

/* shared: one struct_ops map by hand naming the loaded programs, and its link. */
static int shared_register(const struct shared_progs *s, int ring_fd, int op, struct mem_reg *r, char *why,
			   size_t n)
{
	/*
	 * The value type is the kernel's, but BPF_MAP_CREATE still wants a
	 * program BTF (btf_fd 0 is EINVAL): the loaded object's, as libbpf
	 * passes it; the map only takes a reference to it.
	 */
	LIBBPF_OPTS(bpf_map_create_opts, mo, .btf_fd = (__u32)bpf_object__btf_fd(s->obj),
		    .btf_vmlinux_value_type_id = (__u32)s->layout.type_id, .map_flags = BPF_F_LINK);
	const struct value_layout *l = &s->layout;
	unsigned char *value = calloc(1, l->size);
	const char *step = "bpf_map_create";
	__u32 zero = 0;
	int ret;

	if (!value)
		return -ENOMEM;
	r->map_fd = r->link_fd = -1;
	ret = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "iou_mem_ops", sizeof(__u32), l->size, 1, &mo);
	if (ret >= 0) {
		r->map_fd = ret;
		step = "filling the value";
		ret = put_uint(value, l->id, (unsigned)op);
		ret = ret ?: put_uint(value, l->ring_fd, (unsigned)ring_fd);
		ret = ret ?: put_uint(value, l->prep, (unsigned long)s->prep_fd);
		ret = ret ?: put_uint(value, l->issue, (unsigned long)s->issue_fd);
	}
	if (ret >= 0) {
		step = "bpf_map_update_elem";
		ret = bpf_map_update_elem(r->map_fd, &zero, value, 0);
	}
	if (ret >= 0) {
		step = "bpf_link_create";
		ret = bpf_link_create(r->map_fd, 0, IOU_BPF_STRUCT_OPS, NULL);
		if (ret >= 0)
			r->link_fd = ret;
	}
	free(value);
	if (ret < 0) {
		snprintf(why, n, "%s: %s (errno %d)", step, strerror(-ret), -ret);
		if (r->map_fd >= 0)
			close(r->map_fd);
		r->map_fd = -1;
		return ret;
	}
	return 0;
}

/* own: this registration's own copy of the object, loaded, and nop_ops attached. */
static int own_register(int ring_fd, int op, struct mem_reg *r, char *why, size_t n)
{
	struct bpf_map *map;
	int ret = open_nop_only(ring_fd, op, &r->obj, &map);

	if (ret < 0) {
		snprintf(why, n, "opening and loading the object: %s (errno %d)", strerror(-ret), -ret);
		return ret;
	}
	r->link = bpf_map__attach_struct_ops(map);
	if (!r->link) {
		ret = -errno;
		snprintf(why, n, "bpf_map__attach_struct_ops: %s (errno %d)", strerror(-ret), -ret);
		bpf_object__close(r->obj);
		r->obj = NULL;
		return ret;
	}
	return 0;
}

/* Drops a registration: the link first (->unreg() resolves ring_fd, still open), then its map and programs. */
static void mem_unregister(struct mem_reg *r)
{
	if (r->link)
		bpf_link__destroy(r->link);
	if (r->obj)
		bpf_object__close(r->obj);
	if (r->link_fd >= 0)
		close(r->link_fd);
	if (r->map_fd >= 0)
		close(r->map_fd);
	*r = (struct mem_reg){ .map_fd = -1, .link_fd = -1 };
}

/* Submits `nr` SQEs prepared by the caller and reaps their CQEs into `cqes`; 0 or -errno. */
static int submit_reap(struct ring *ring, unsigned nr, struct iou_cqe *cqes)
{
	int ret = ring_submit_and_wait(ring, nr);

	for (unsigned done = 0; ret >= 0 && done < nr;) {
		unsigned got = ring_reap(ring, cqes + done, nr - done);

		done += got;
		if (got == 0 && done < nr)
			ret = ring_submit_and_wait(ring, nr - done);
	}
	return ret < 0 ? ret : 0;
}

/* One request per op on `ring`: NOPs (prime) or IORING_OP_BPF naming each op id; 0 or -errno. */
static int ring_ops_requests(struct ring *ring, int bpf, int *res)
{
	struct iou_cqe cqes[MEM_OPS];

	for (int op = 0; op < MEM_OPS; op++) {
		struct iou_sqe *sqe = ring_get_sqe(ring);

		if (!sqe)
			return -EBUSY;
		sqe->opcode = bpf ? IORING_OP_BPF : IORING_OP_NOP;
		sqe->fd = -1;
		sqe->bpf_op_flags = bpf ? (unsigned)op << 24 : 0;
		sqe->user_data = (unsigned long long)op;
	}
	int ret = submit_reap(ring, MEM_OPS, cqes);

	for (int op = 0; op < MEM_OPS; op++)
		res[op] = -ENODATA;
	for (int i = 0; ret == 0 && i < MEM_OPS; i++)
		if (cqes[i].user_data < MEM_OPS)
			res[cqes[i].user_data] = cqes[i].res;
	return ret;
}

static void mem_measure(int nrings, enum mem_mode mode, struct mem_result *res)
{
	struct ring *rings = calloc((size_t)nrings, sizeof(*rings));
	struct mem_reg *regs = calloc((size_t)nrings * MEM_OPS, sizeof(*regs));
	struct shared_progs shared = { .prep_fd = -1, .issue_fd = -1 };
	int nregs = 0, ready = 0, ret = 0, results[MEM_OPS];
	char why[256] = "";

	memset(res, 0, sizeof(*res));
	res->rings = nrings;
	res->mode = mode;
	if (!rings || !regs) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	for (int i = 0; i < nrings * MEM_OPS; i++)
		regs[i] = (struct mem_reg){ .map_fd = -1, .link_fd = -1 };
	/* The rings, their request caches filled, and (shared) the programs: before the first reading. */
	for (; ready < nrings; ready++) {
		if ((ret = ring_init(&rings[ready], 32, target->setup_flags, 0)) < 0) {
			snprintf(res->error, sizeof(res->error), "setting up ring %d: %s", ready, strerror(-ret));
			goto out;
		}
		if ((ret = ring_ops_requests(&rings[ready], 0, results)) < 0) {
			snprintf(res->error, sizeof(res->error), "NOPs on ring %d: %s", ready, strerror(-ret));
			ready++;
			goto out;
		}
	}
	if (mode == MEM_SHARED && shared_load(&shared, why, sizeof(why)) < 0) {
		snprintf(res->error, sizeof(res->error), "%s", why);
		goto out;
	}
	if ((ret = meminfo_settle(&res->before, SETTLE_MAX_MS)) < 0) {
		snprintf(res->error, sizeof(res->error), "/proc/meminfo has no Slab or VmallocUsed line");
		goto out;
	}
	res->settled[0] = ret;
	res->have_before = 1;
	long long start = clock_now_ns();

	for (int r = 0; r < nrings; r++)
		for (int op = 0; op < MEM_OPS; op++, nregs++) {
			struct mem_reg *reg = &regs[nregs];

			if (*stop) {
				snprintf(res->error, sizeof(res->error), "*stop");
				goto unregister;
			}
			ret = mode == MEM_SHARED ? shared_register(&shared, rings[r].fd, op, reg, why, sizeof(why))
						 : own_register(rings[r].fd, op, reg, why, sizeof(why));
			if (ret < 0) {
				/* One line: which registration failed, where, and how. */
				snprintf(res->error, sizeof(res->error), "registration %d of %d (ring %d, op %d) failed: %s",
					 nregs + 1, nrings * MEM_OPS, r, op, why);
				goto unregister;
			}
		}
	res->register_ms = (double)(clock_now_ns() - start) / 1e6;
	res->registered = nregs;
	res->settled[1] = meminfo_settle(&res->after, SETTLE_MAX_MS);
	res->have_after = res->settled[1] >= 0;
	/* Did each registration take effect? One request per (ring, op), res 0 from nop_issue. */
	for (int r = 0; r < nrings; r++) {
		if ((ret = ring_ops_requests(&rings[r], 1, results)) < 0) {
			snprintf(res->error, sizeof(res->error), "IORING_OP_BPF requests on ring %d: %s", r,
				 strerror(-ret));
			goto unregister;
		}
		for (int op = 0; op < MEM_OPS; op++)
			if (results[op] != 0 && res->not_effective++ == 0)
				snprintf(why, sizeof(why), "ring %d op %d completed with res %d (%s)", r, op,
					 results[op], strerror(results[op] < 0 ? -results[op] : EPROTO));
	}
	if (res->not_effective > 0)
		snprintf(res->error, sizeof(res->error), "%d of %d registrations did not take effect; first: %s",
			 res->not_effective, nregs, why);
unregister:
	res->registered = nregs;
	for (int i = 0; i < nregs; i++)
		mem_unregister(&regs[i]);
	if (res->have_before && nregs > 0) {
		res->settled[2] = meminfo_settle(&res->teardown, SETTLE_TEARDOWN_MAX_MS);
		res->have_teardown = res->settled[2] >= 0;
	}
out:
	if (shared.obj)
		bpf_object__close(shared.obj);
	for (int i = 0; i < ready; i++)
		ring_exit(&rings[i]);
	free(regs);
	free(rings);
}

/* Room for every fd the largest run holds (own: libbpf keeps 8 per object: its BTF, maps, programs, the link). */
static int raise_nofile(int max_rings, char *why, size_t n)
{
	rlim_t need = (rlim_t)max_rings * MEM_OPS * 12 + (rlim_t)max_rings + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(why, n, "raising RLIMIT_NOFILE to %llu: %s", (unsigned long long)need, strerror(errno));
		return -errno;
	}
	return 0;
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_meminfo(const char *name, const struct meminfo *m, int have)
{
	printf(",\"%s\":", name);
	if (!have) {
		printf("null");
		return;
	}
	putchar('{');
	for (int i = 0; i < MI_COUNT; i++) {
		printf("%s\"%s\":", i ? "," : "", mi_keys[i]);
		if (m->kb[i] < 0)
			printf("null");
		else
			printf("%lld", m->kb[i]);
	}
	if (m->threads < 0)
		printf(",\"threads\":null}");
	else
		printf(",\"threads\":%lld}", m->threads);
}

int memory_main(const struct memory_target *t, const int *ring_counts, int n, volatile sig_atomic_t *stop_flag)
{
	target = t;
	stop = stop_flag;
	struct mem_result res;
	char why[256];
	int max_rings = 0;

	for (int i = 0; i < n; i++)
		if (ring_counts[i] > max_rings)
			max_rings = ring_counts[i];
	if (raise_nofile(max_rings, why, sizeof(why)) < 0) {
		fprintf(stderr, "iou-patched: %s\n", why);
		return 1;
	}
	printf("{\"version\":\"%s\",\"ops\":%d,\"settleStepMs\":%d,\"memory\":[", target->version, MEM_OPS, SETTLE_STEP_MS);
	for (int i = 0, first = 1; i < n && !*stop; i++)
		for (int mode = 0; mode < MEM_MODES && !*stop; mode++, first = 0) {
			mem_measure(ring_counts[i], (enum mem_mode)mode, &res);
			printf("%s{\"mode\":\"%s\",\"rings\":%d,\"registrations\":%d,\"notEffective\":%d,\"error\":",
			       first ? "" : ",", mem_mode_names[mode], res.rings, res.registered, res.not_effective);
			if (res.error[0])
				print_json_string(res.error);
			else
				printf("null");
			printf(",\"registerMs\":%.1f", res.register_ms);
			printf(",\"settled\":{\"before\":%s,\"after\":%s,\"teardown\":%s}",
			       res.settled[0] > 0 ? "true" : "false", res.settled[1] > 0 ? "true" : "false",
			       res.settled[2] > 0 ? "true" : "false");
			print_meminfo("before", &res.before, res.have_before);
			print_meminfo("after", &res.after, res.have_after);
			print_meminfo("teardown", &res.teardown, res.have_teardown);
			putchar('}');
			fflush(stdout);
		}
	printf("]}\n");
	return *stop ? 128 + *stop : 0;
}
