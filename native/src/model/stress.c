// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "nw_world.h"
#include "stress.h"

#define SHARED 4	/* programs every ring uses */
#define OWN_MAX 8	/* registrations one thread holds at once, on its own ring or others' */
#define OWN_IDS 32	/* width of the id range threads contend for */
#define BATCH_MAX 8
#define RINGS_MAX 64	/* threads whose ring others can find */
/* A cross registration's program returns CROSS_RES + its id: whoever put it there. */
#define CROSS_RES 1000000

/* Issue results: shared programs 1000.., every other program its own value. */
static atomic_int next_res = 2000;

struct own {
	bool used;
	int prog_fd;
	int ring_ref_fd;	/* a cross registration's own fd of its ring, or -1 */
	struct registration reg;
	int res;
};

struct thread {
	struct world *w;
	const struct design_def *d;
	struct process *proc;
	unsigned rng;
	int ring_fd;
	int ring_slot;			/* its index in shared_state.ring_fds, or -1 */
	struct own own[OWN_MAX];
	struct own cross[OWN_MAX];	/* registrations on whatever ring another thread had */
	struct registration shared[SHARED];	/* this ring's names for the shared programs */
	struct nw_stress_stats *stats;
};

/*
 * The shared programs' fds in process 0 and, for a global namespace, their
 * registrations; and every thread's current ring fd, so that with names per
 * ring one thread can register and unregister on a ring another thread is
 * submitting to (v3's ring_fd in the struct_ops value, a fixed-file update
 * from a sibling): the ring's table, its uring_lock and per-ctx's wait for
 * in-flight requests are then contended. The registrant first takes its
 * own fd of the ring (SCM_RIGHTS to itself) and keeps it until it has
 * unregistered: the fd it read may already be stale, and per-ctx's ->unreg()
 * resolves ring_fd again, so without that fd a reused number would send the
 * unregister to another ring (a design flaw the fuzzer reports, not an
 * implementation bug for this stress to find).
 */
struct shared_state {
	int fds[SHARED];
	struct registration regs[SHARED];
	atomic_int nrings;
	atomic_int ring_fds[RINGS_MAX];		/* -1 while that thread has no ring */
};

static unsigned next_rand(struct thread *t)
{
	/* xorshift32: cheap, per thread, reproducible from the seed */
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 17;
	t->rng ^= t->rng << 5;
	return t->rng;
}

static long capacity(const struct design_def *d)
{
	return d->id_max < 0 ? 1L << 30 : d->id_max - d->id_min + 1;
}

/* Shared programs sit at the top of a bounded namespace; threads contend below them. */
static long shared_first(const struct design_def *d)
{
	return d->id_max < 0 ? -1 : d->id_max - SHARED + 1;
}

/*
 * Names per ring: [0, cross_first) for the ring's own thread, then
 * [cross_first, shared_first) for any thread on any ring; every program in
 * that range returns CROSS_RES + id, so a request names a slot, not a program.
 */
static long cross_first(const struct design_def *d)
{
	return (capacity(d) - SHARED) / 2;
}

static long own_first(const struct design_def *d)
{
	long lo = capacity(d) - SHARED - OWN_IDS;

	/* array-xarray: straddle the array/xarray boundary at 256. */
	return d->id_min + (lo < 240 ? (lo < 0 ? 0 : lo) : 240);
}

static struct prog_spec spec_with(int res)
{
	return (struct prog_spec){
		.has_prep = true, .has_issue = true, .issue_res = res, .has_fail = true, .has_cleanup = true,
	};
}

int nw_stress_prepare(struct nw_world *nw)
{
	struct world *w = &nw->w;
	struct shared_state *s = world_alloc(w, sizeof(*s));

	for (int i = 0; i < RINGS_MAX; i++)
		atomic_init(&s->ring_fds[i], -1);
	for (int i = 0; i < SHARED; i++) {
		struct prog_spec spec = spec_with(1000 + i);

		s->fds[i] = sys_load(w, &w->procs[0], &spec);
		if (s->fds[i] < 0)
			return s->fds[i];
		if (w->design->scope != SCOPE_GLOBAL)
			continue;
		struct reg_args args = {
			.prog_fd = s->fds[i], .ring_fd = -1, .id = w->design->kernel_ids ? -1 : shared_first(w->design) + i,
		};
		int ret = sys_register(w, &w->procs[0], &args, &s->regs[i]);

		if (ret < 0)
			return ret;
	}
	w->stress = s;
	return 0;
}

/* This ring's names for the shared programs: registered on it when names are per ring. */
static int name_shared(struct thread *t)
{
	struct shared_state *s = t->w->stress;

	for (int i = 0; i < SHARED; i++) {
		if (t->d->scope == SCOPE_GLOBAL) {
			t->shared[i] = s->regs[i];
		} else if (t->d->scope == SCOPE_PROCESS) {
			t->shared[i] = (struct registration){ .name = { NAME_FD, s->fds[i] }, .link_fd = -1, .ring_fd = -1 };
		} else {
			struct reg_args args = { .prog_fd = s->fds[i], .ring_fd = t->ring_fd, .id = shared_first(t->d) + i };
			int ret = sys_register(t->w, t->proc, &args, &t->shared[i]);

			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static struct own *free_entry(struct own *entries)
{
	for (int i = 0; i < OWN_MAX; i++)
		if (!entries[i].used)
			return &entries[i];
	return NULL;
}

/* Loads a program returning `res` and registers it on `ring_fd` at `id`; false when refused. */
static bool load_and_register(struct thread *t, struct own *o, int res, int ring_fd, long id)
{
	struct prog_spec spec = spec_with(res);

	o->res = res;
	o->ring_ref_fd = -1;
	o->prog_fd = sys_load(t->w, t->proc, &spec);
	if (o->prog_fd < 0)
		return false;
	struct reg_args args = { .prog_fd = o->prog_fd, .ring_fd = ring_fd, .id = id };

	if (sys_register(t->w, t->proc, &args, &o->reg) < 0) {
		/* -EBUSY: another thread (or this one) holds the id. Exclusive protocol: give up. */
		t->stats->refused++;
		sys_close(t->w, t->proc, o->prog_fd);
		return false;
	}
	o->used = true;
	t->stats->registered++;
	return true;
}

static void register_own(struct thread *t)
{
	struct own *o = free_entry(t->own);

	if (!o)
		return;
	long id = own_first(t->d) + (long)(next_rand(t) % OWN_IDS);

	if (t->d->scope == SCOPE_RING)
		id = (long)(next_rand(t) % (unsigned long)cross_first(t->d));
	/* A fixed slot is overwritten by an update, never refused: each entry keeps its own slot. */
	if (t->d->name_kind == NAME_FIXED)
		id = o - t->own;
	/* Names userspace does not pick: fds and kernel-chosen ids. */
	if (t->d->scope == SCOPE_PROCESS || t->d->kernel_ids)
		id = -1;
	load_and_register(t, o, atomic_fetch_add(&next_res, 1), t->ring_fd, id);
}

/* Names per ring: register on the ring some thread (maybe this one) last published. */
static void register_cross(struct thread *t)
{
	struct shared_state *s = t->w->stress;
	struct own *o = free_entry(t->cross);
	int nrings = atomic_load(&s->nrings);

	if (!o || nrings == 0)
		return;
	int published = atomic_load(&s->ring_fds[next_rand(t) % (unsigned)(nrings < RINGS_MAX ? nrings : RINGS_MAX)]);

	if (published < 0)
		return;
	/* Whatever that number names now: a ring (maybe another one), another file, or nothing. */
	int ring_fd = sys_pass_fd(t->w, t->proc, published, t->proc);

	if (ring_fd < 0)
		return;
	long id = cross_first(t->d) + (long)(next_rand(t) % (unsigned long)(shared_first(t->d) - cross_first(t->d)));

	if (!load_and_register(t, o, CROSS_RES + (int)id, ring_fd, id)) {
		sys_close(t->w, t->proc, ring_fd);
		return;
	}
	o->ring_ref_fd = ring_fd;
	t->stats->cross_registered++;
}

static void unregister_own(struct thread *t, struct own *o)
{
	sys_unregister(t->w, t->proc, &o->reg);
	if (o->reg.link_fd >= 0)
		sys_close(t->w, t->proc, o->reg.link_fd);
	/* per-fd: unregistering was the close */
	if (t->d->scope != SCOPE_PROCESS)
		sys_close(t->w, t->proc, o->prog_fd);
	if (o->ring_ref_fd >= 0)
		sys_close(t->w, t->proc, o->ring_ref_fd);
	o->used = false;
	t->stats->unregistered++;
}

static void submit(struct thread *t)
{
	struct sqe sqes[BATCH_MAX];
	struct cqe cqes[BATCH_MAX];
	int expect[BATCH_MAX];
	bool seen[BATCH_MAX] = { false }, cross[BATCH_MAX] = { false };
	int n = 1 + (int)(next_rand(t) % BATCH_MAX), live[OWN_MAX], nlive = 0;
	/* Names per ring: one pick in SHARED names a cross slot, whatever is there now. */
	int ncross = t->d->scope == SCOPE_RING ? SHARED : 0;

	for (int i = 0; i < OWN_MAX; i++)
		if (t->own[i].used)
			live[nlive++] = i;
	for (int i = 0; i < n; i++) {
		unsigned pick = next_rand(t) % (unsigned)(nlive + SHARED + ncross);
		struct prog_name cross_name;
		const struct prog_name *name;

		if (pick < (unsigned)nlive) {
			name = &t->own[live[pick]].reg.name;
			expect[i] = t->own[live[pick]].res;
		} else if (pick < (unsigned)(nlive + SHARED)) {
			name = &t->shared[pick - (unsigned)nlive].name;
			expect[i] = 1000 + (int)(pick - (unsigned)nlive);
		} else {
			long width = shared_first(t->d) - cross_first(t->d);

			cross_name = (struct prog_name){ t->d->name_kind, cross_first(t->d) + (long)(next_rand(t) % (unsigned long)width) };
			name = &cross_name;
			expect[i] = CROSS_RES + (int)cross_name.value;
			cross[i] = true;
		}
		sqes[i] = (struct sqe){ .user_data = (uint64_t)i, .async = next_rand(t) % 4 == 0 };
		t->d->target(name, &sqes[i]);
	}
	if (sys_submit(t->w, t->proc, t->ring_fd, sqes, (unsigned)n) < 0) {
		t->stats->missing += (unsigned long)n;
		return;
	}
	t->stats->submitted += (unsigned long)n;
	int got = sys_reap(t->w, t->proc, t->ring_fd, cqes, BATCH_MAX);

	for (int i = 0; i < got; i++) {
		uint64_t k = cqes[i].user_data;

		if (k >= (uint64_t)n || seen[k]) {
			t->stats->wrong_program++;
			continue;
		}
		seen[k] = true;
		t->stats->completed++;
		if (cqes[i].res < 0 && cross[k])
			t->stats->cross_empty++;	/* nothing registered in that slot just then */
		else if (cqes[i].res < 0)
			t->stats->failed++;
		else if (cqes[i].res != expect[k])
			t->stats->wrong_program++;
		else if (cross[k])
			t->stats->cross_completed++;
	}
	if (got < n)
		t->stats->missing += (unsigned long)(n - got);
}

static int open_ring(struct thread *t)
{
	struct shared_state *s = t->w->stress;

	t->ring_fd = sys_setup(t->w, t->proc, t->d->setup_flag);
	if (t->ring_fd < 0)
		return t->ring_fd;
	int ret = name_shared(t);

	if (ret == 0 && t->ring_slot >= 0)
		atomic_store(&s->ring_fds[t->ring_slot], t->ring_fd);
	return ret;
}

static void close_ring(struct thread *t)
{
	struct shared_state *s = t->w->stress;

	if (t->ring_slot >= 0)
		atomic_store(&s->ring_fds[t->ring_slot], -1);
	for (int i = 0; i < OWN_MAX; i++)
		if (t->own[i].used)
			unregister_own(t, &t->own[i]);
	if (t->d->scope == SCOPE_RING)
		for (int i = 0; i < SHARED; i++) {
			sys_unregister(t->w, t->proc, &t->shared[i]);
			if (t->shared[i].link_fd >= 0)
				sys_close(t->w, t->proc, t->shared[i].link_fd);
		}
	sys_close(t->w, t->proc, t->ring_fd);
}

void nw_stress_thread(struct nw_world *nw, unsigned seed, unsigned long ops, struct nw_stress_stats *stats)
{
	struct shared_state *s = nw->w.stress;
	struct thread t = {
		.w = &nw->w, .d = nw->w.design, .proc = &nw->w.procs[0], .rng = seed ? seed : 1, .stats = stats,
	};
	unsigned long waits_before = ring_waits_blocked;

	t.ring_slot = t.d->scope == SCOPE_RING ? atomic_fetch_add(&s->nrings, 1) : -1;
	if (t.ring_slot >= RINGS_MAX)
		t.ring_slot = -1;
	if (open_ring(&t) < 0) {
		stats->missing++;
		return;
	}
	for (unsigned long op = 0; op < ops; op++) {
		unsigned r = next_rand(&t) % 64;

		if (r < 12) {
			register_own(&t);
		} else if (r < 20) {
			struct own *o = &t.own[next_rand(&t) % OWN_MAX];

			if (o->used)
				unregister_own(&t, o);
		} else if (r < 26 && t.d->scope == SCOPE_RING) {
			/* Half registers on a published ring, half unregisters an earlier one. */
			struct own *o = &t.cross[next_rand(&t) % OWN_MAX];

			if (r < 23)
				register_cross(&t);
			else if (o->used)
				unregister_own(&t, o);
		} else if (r == 63) {
			close_ring(&t);
			stats->ring_restarts++;
			if (open_ring(&t) < 0) {
				stats->missing++;
				return;
			}
		} else {
			submit(&t);
		}
	}
	close_ring(&t);
	for (int i = 0; i < OWN_MAX; i++)
		if (t.cross[i].used)
			unregister_own(&t, &t.cross[i]);
	stats->unregister_waits += ring_waits_blocked - waits_before;
}

/*
 * The table's own read side, for the global designs: one thread submits on a
 * ring without the setup flag, whose prep fails with -EACCES and whose
 * ->fail() then reads the table at op 0 holding no lock the table's writers
 * take; meanwhile this thread registers two programs and unregisters them,
 * so that a kernel-allocated table grows a node at index 0 and shrinks
 * back, freeing the node after its grace period. The programs stay loaded:
 * only the table's memory is at stake here, and ASan watches it.
 */
struct unlisted_arg {
	struct world *w;
	atomic_bool started, stop;
	struct nw_stress_stats stats;
};

static void *unlisted_submitter(void *p)
{
	struct unlisted_arg *a = p;
	struct process *proc = &a->w->procs[1];
	int ring_fd = sys_setup(a->w, proc, false);
	struct sqe sqe = { .fd = -1, .user_data = 1 };
	struct cqe cqe;

	if (ring_fd < 0) {
		a->stats.missing++;
		return NULL;
	}
	while (!atomic_load(&a->stop)) {
		if (sys_submit(a->w, proc, ring_fd, &sqe, 1) < 0) {
			a->stats.missing++;
			break;
		}
		a->stats.submitted++;
		atomic_store(&a->started, true);
		if (sys_reap(a->w, proc, ring_fd, &cqe, 1) != 1)
			a->stats.missing++;
		else if (cqe.res >= 0)
			a->stats.wrong_program++;	/* a ring without the flag ran a program */
		else
			a->stats.completed++;
	}
	sys_close(a->w, proc, ring_fd);
	return NULL;
}

static void stress_unlisted(struct nw_world *nw, unsigned long rounds, struct nw_stress_stats *stats)
{
	struct world *w = &nw->w;
	struct process *proc = &w->procs[0];
	struct unlisted_arg a = { .w = w };
	struct prog_spec spec = spec_with(3000);
	int fds[2] = { sys_load(w, proc, &spec), sys_load(w, proc, &spec) };
	pthread_t tid;

	if (fds[0] < 0 || fds[1] < 0 || pthread_create(&tid, NULL, unlisted_submitter, &a) != 0) {
		stats->missing++;
		return;
	}
	/* Overlap for real: the first failed request is in before the table starts changing. */
	while (!atomic_load(&a.started) && !a.stats.missing)
		sched_yield();
	for (unsigned long i = 0; i < rounds; i++) {
		struct registration regs[2];
		int n = 0;

		for (; n < 2; n++) {
			struct reg_args args = { .prog_fd = fds[n], .ring_fd = -1, .id = w->design->kernel_ids ? -1 : n };

			if (sys_register(w, proc, &args, &regs[n]) < 0)
				break;
			stats->registered++;
		}
		while (n-- > 0) {
			sys_unregister(w, proc, &regs[n]);
			sys_close(w, proc, regs[n].link_fd);
			stats->unregistered++;
		}
	}
	atomic_store(&a.stop, true);
	pthread_join(tid, NULL);
	stats->submitted += a.stats.submitted;
	stats->completed += a.stats.completed;
	stats->missing += a.stats.missing;
	stats->wrong_program += a.stats.wrong_program;
	stats->unlisted_failed += a.stats.completed;
	sys_close(w, proc, fds[0]);
	sys_close(w, proc, fds[1]);
}

struct stress_arg {
	struct nw_world *w;
	unsigned seed;
	unsigned long ops;
	struct nw_stress_stats stats;
};

static void *stress_main(void *p)
{
	struct stress_arg *a = p;

	nw_stress_thread(a->w, a->seed, a->ops, &a->stats);
	return NULL;
}

int nw_stress_run(const char *design, int threads, unsigned long ops, unsigned seed,
		  struct nw_stress_stats *stats, struct nw_violations *violations)
{
	struct nw_world *w = nw_create(design, 4096, 0);

	if (!w)
		return -EINVAL;
	int ret = nw_stress_prepare(w);
	struct stress_arg *args = calloc((size_t)threads, sizeof(*args));
	pthread_t *tids = calloc((size_t)threads, sizeof(*tids));

	if (ret == 0 && (!args || !tids))
		ret = -ENOMEM;
	for (int i = 0; ret == 0 && i < threads; i++) {
		args[i] = (struct stress_arg){ .w = w, .seed = seed * 2654435761u + (unsigned)i + 1, .ops = ops };
		if (pthread_create(&tids[i], NULL, stress_main, &args[i]) != 0)
			abort();
	}
	memset(stats, 0, sizeof(*stats));
	for (int i = 0; ret == 0 && i < threads; i++) {
		pthread_join(tids[i], NULL);
		const unsigned long *from = (const unsigned long *)&args[i].stats;
		unsigned long *to = (unsigned long *)stats;

		for (size_t k = 0; k < sizeof(*stats) / sizeof(unsigned long); k++)
			to[k] += from[k];
	}
	if (ret == 0 && w->w.design->scope == SCOPE_GLOBAL && w->w.design->setup_flag)
		stress_unlisted(w, ops / 4, stats);
	nw_violations(w, violations);
	free(args);
	free(tids);
	nw_destroy(w);
	return ret;
}
