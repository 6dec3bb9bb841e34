// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	struct task *task;		/* this thread, a task of `proc` */
	unsigned rng;
	int ring_fd;
	bool flagged;			/* the ring has the design's setup flag (or the design has none) */
	bool named;			/* the shared programs have names on this ring */
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
		} else if (!t->flagged) {
			return 0;	/* per-ctx refuses a ring without the flag (-EINVAL): nothing to name */
		} else {
			struct reg_args args = { .prog_fd = s->fds[i], .ring_fd = t->ring_fd, .id = shared_first(t->d) + i };
			int ret = sys_register(t->w, t->proc, &args, &t->shared[i]);

			if (ret < 0)
				return ret;
		}
	}
	t->named = true;
	return 0;
}

/* Before an unregister that sleeps until requests are freed: this thread's own must be (stress.h). */
static void before_unregister(struct thread *t)
{
	if (t->d->unreg_waits_for_requests)
		world_drain_requests(t->w, t->proc);
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
	before_unregister(t);
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
	/* A ring without names for the shared programs names its own registrations, or slot 0. */
	int nshared = t->named ? SHARED : 0;

	if (!t->named)
		ncross = 0;
	for (int i = 0; i < n; i++) {
		unsigned total = (unsigned)(nlive + nshared + ncross);
		unsigned pick = total ? next_rand(t) % total : 0;
		struct prog_name none = { t->d->name_kind, 0 };
		struct prog_name cross_name;
		const struct prog_name *name;

		if (total == 0) {
			name = &none;
			expect[i] = -1;
		} else if (pick < (unsigned)nlive) {
			name = &t->own[live[pick]].reg.name;
			expect[i] = t->own[live[pick]].res;
		} else if (pick < (unsigned)(nlive + nshared)) {
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
	/* io_uring_enter(GETEVENTS): io-wq posts the async ones' CQEs later. */
	int got = sys_wait_cqes(t->w, t->proc, t->ring_fd, n, cqes, BATCH_MAX);

	for (int i = 0; i < got; i++) {
		uint64_t k = cqes[i].user_data;

		if (k >= (uint64_t)n || seen[k]) {
			t->stats->wrong_program++;
			continue;
		}
		seen[k] = true;
		t->stats->completed++;
		if (!t->flagged) {
			/* No setup flag: prep refuses every request (v1 -EACCES, v2/v3 -EOPNOTSUPP). */
			if (cqes[i].res < 0)
				t->stats->unflagged_failed++;
			else
				t->stats->wrong_program++;
		} else if (expect[k] < 0 && cqes[i].res < 0) {
			continue;	/* named nothing: slot 0 of a ring where nothing was registered */
		} else if (cqes[i].res < 0 && cross[k])
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
	/* One ring in eight without the design's setup flag (item 5: rings of both kinds coexist). */
	struct ring_options opts = { .bpf = t->d->setup_flag && next_rand(t) % 8 != 0 };

	t->flagged = opts.bpf || !t->d->setup_flag;
	t->named = false;
	t->ring_fd = sys_setup(t->w, t->proc, &opts);
	if (t->ring_fd < 0)
		return t->ring_fd;
	if (!t->flagged)
		t->stats->unflagged_rings++;
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
	if (t->d->scope == SCOPE_RING && t->named)
		for (int i = 0; i < SHARED; i++) {
			before_unregister(t);
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

	t.task = world_task_new(t.w, t.proc);
	current = t.task;
	t.ring_slot = t.d->scope == SCOPE_RING ? atomic_fetch_add(&s->nrings, 1) : -1;
	if (t.ring_slot >= RINGS_MAX)
		t.ring_slot = -1;
	if (open_ring(&t) < 0) {
		stats->missing++;
		world_task_exit(t.w, t.task);
		current = NULL;
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
				break;
			}
		} else {
			submit(&t);
		}
	}
	if (t.ring_fd >= 0)
		close_ring(&t);
	for (int i = 0; i < OWN_MAX; i++)
		if (t.cross[i].used)
			unregister_own(&t, &t.cross[i]);
	stats->unregister_waits += ring_waits_blocked - waits_before;
	world_task_exit(t.w, t.task);
	current = NULL;
}

/*
 * The table's own read side, for the global designs: one thread submits on a
 * ring without the setup flag, whose prep fails with -EACCES and whose
 * ->fail() then reads the table at the op its recycled requests hold (the
 * ring's residue: prep never writes it there), holding no lock the table's
 * writers take; meanwhile this thread registers two programs and
 * unregisters them, so that an xarray grows a node under that op and
 * shrinks back, freeing the node after its grace period. The programs stay
 * loaded: only the table's memory is at stake here, and ASan watches it.
 * v1's array slots are copied field by field, so a reader of a slot being
 * rewritten can call through a torn or NULL pointer (a flaw of the posted
 * code, which the fuzzer reports): the writers there stay off the slot read.
 */
struct unlisted_plan {
	unsigned reader_op;
	long ids[2];		/* -1: the kernel picks */
};

static struct unlisted_plan unlisted_plan(const struct design_def *d)
{
	if (d->kernel_ids)
		return (struct unlisted_plan){ .reader_op = 0, .ids = { -1, -1 } };	/* cyclic from 0 */
	if (d->id_max > 0xff)
		return (struct unlisted_plan){ .reader_op = 300, .ids = { 300, 301 } };	/* array-xarray: the xarray */
	return (struct unlisted_plan){ .reader_op = 0, .ids = { 1, 2 } };
}

struct unlisted_arg {
	struct world *w;
	unsigned reader_op;
	atomic_bool started, stop;
	struct nw_stress_stats stats;
};

static void *unlisted_submitter(void *p)
{
	struct unlisted_arg *a = p;
	struct process *proc = &a->w->procs[1];
	struct task *task = world_task_new(a->w, proc);
	struct ring_options opts = { .bpf = false, .residue = { .op = a->reader_op } };
	struct sqe sqe = { .fd = -1, .user_data = 1 };
	struct cqe cqe;

	current = task;
	int ring_fd = sys_setup(a->w, proc, &opts);

	if (ring_fd < 0) {
		a->stats.missing++;
		world_task_exit(a->w, task);
		current = NULL;
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
	world_task_exit(a->w, task);
	current = NULL;
	return NULL;
}

static void stress_unlisted(struct nw_world *nw, unsigned long rounds, struct nw_stress_stats *stats)
{
	struct world *w = &nw->w;
	struct process *proc = &w->procs[0];
	struct unlisted_plan plan = unlisted_plan(w->design);
	struct unlisted_arg a = { .w = w, .reader_op = plan.reader_op };
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
			struct reg_args args = { .prog_fd = fds[n], .ring_fd = -1, .id = plan.ids[n] };

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

/* ---- the per-ctx self-deadlock, pinned (stress.h) ---- */

#define WATCHDOG_NS (10LL * 1000 * 1000 * 1000)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct watchdog {
	struct task *victim;
	atomic_bool armed;
	int caught;
};

static void *watchdog_main(void *p)
{
	struct watchdog *wd = p;
	long long deadline = now_ns() + WATCHDOG_NS;

	while (!atomic_load(&wd->armed))
		sched_yield();
	/* Asleep in ->unreg()'s wait, with the free that would end it in its own task work. */
	while (!(atomic_load(&wd->victim->uninterruptible) && task_work_pending(wd->victim))) {
		if (now_ns() > deadline)
			break;
		sched_yield();
	}
	wd->caught = atomic_load(&wd->victim->uninterruptible) && task_work_pending(wd->victim);
	/* Only the victim could run this; it never will while asleep. Run it for it. */
	task_work_run_for(wd->victim);
	return NULL;
}

int nw_self_deadlock(struct nw_self_deadlock *out)
{
	/* io-wq held until the submit has returned, so that the free cannot be run by the submit's own exit. */
	struct world_options wopts = { .fd_limit = 64, .iowq_workers = 1, .iowq_gated = true };
	const struct design_def *d = design_find("per-ctx");
	struct nw_world *nw = d ? (struct nw_world *)world_create(d, &wopts) : NULL;
	struct prog_spec spec = spec_with(7);
	struct registration reg;
	struct cqe cqe = { 0 };
	struct watchdog wd = { 0 };
	pthread_t tid;

	memset(out, 0, sizeof(*out));
	if (!nw)
		return -EINVAL;
	struct world *w = &nw->w;
	struct process *proc = &w->procs[0];
	struct ring_options opts = { .bpf = true };
	struct task *task = world_task_new(w, proc);

	current = task;
	int ring_fd = sys_setup(w, proc, &opts);
	int prog_fd = sys_load(w, proc, &spec);
	struct reg_args args = { .prog_fd = prog_fd, .ring_fd = ring_fd, .id = 0 };
	int ret = ring_fd < 0 ? ring_fd : prog_fd < 0 ? prog_fd : sys_register(w, proc, &args, &reg);

	if (ret < 0) {
		world_task_exit(w, task);
		current = NULL;
		nw_destroy(nw);
		return ret;
	}
	struct sqe sqe = { .async = true, .user_data = 1 };

	w->design->target(&reg.name, &sqe);
	sys_submit(w, proc, ring_fd, &sqe, 1);
	/* Back in user space: the worker issues the request, posts its CQE and queues its free as our task work. */
	wq_flush(&w->iowq);
	/* User space reads the CQ ring without entering the kernel (no task work runs). */
	struct io_ring_ctx *ring = fd_peek(&proc->fds, ring_fd)->payload;

	out->completed = io_reap(ring, &cqe, 1) == 1 && cqe.user_data == 1 && cqe.res == 7;
	wd.victim = task;
	if (pthread_create(&tid, NULL, watchdog_main, &wd) != 0)
		abort();
	atomic_store(&wd.armed, true);
	/* BPF_LINK_DETACH: ->unreg() drops the slot's own reference and sleeps until the request drops its. */
	out->unregister_ret = sys_unregister(w, proc, &reg);
	pthread_join(tid, NULL);
	out->caught = wd.caught;
	out->freed = world_task_requests(task) == 0;
	sys_close(w, proc, reg.link_fd);
	sys_close(w, proc, prog_fd);
	sys_close(w, proc, ring_fd);
	world_task_exit(w, task);
	current = NULL;
	nw_violations(nw, &out->violations);
	nw_destroy(nw);
	return 0;
}
