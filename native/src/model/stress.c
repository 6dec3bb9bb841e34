// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "nw_world.h"
#include "stress.h"

#define SHARED 4	/* programs every ring uses */
#define OWN_MAX 8	/* registrations one thread holds at once */
#define OWN_IDS 32	/* width of the id range threads contend for */
#define BATCH_MAX 8


/* Issue results: shared programs 1000.., every other program its own value. */
static atomic_int next_res = 2000;

struct own {
	bool used;
	int prog_fd;
	struct registration reg;
	int res;
};

struct thread {
	struct world *w;
	const struct design_def *d;
	struct process *proc;
	unsigned rng;
	int ring_fd;
	struct own own[OWN_MAX];
	struct registration shared[SHARED];	/* this ring's names for the shared programs */
	struct nw_stress_stats *stats;
};

/* The shared programs' fds in process 0 and, for a global namespace, their registrations. */
struct shared_state {
	int fds[SHARED];
	struct registration regs[SHARED];
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

static void register_own(struct thread *t)
{
	int slot = -1;

	for (int i = 0; i < OWN_MAX && slot < 0; i++)
		if (!t->own[i].used)
			slot = i;
	if (slot < 0)
		return;
	struct own *o = &t->own[slot];

	o->res = atomic_fetch_add(&next_res, 1);
	struct prog_spec spec = spec_with(o->res);

	o->prog_fd = sys_load(t->w, t->proc, &spec);
	if (o->prog_fd < 0)
		return;
	long id = own_first(t->d) + (long)(next_rand(t) % OWN_IDS);

	if (t->d->scope == SCOPE_RING)
		id = (long)(next_rand(t) % (unsigned long)(capacity(t->d) - SHARED));
	/* Names userspace does not pick: fds, kernel-chosen ids, and fixed slots, which an
	 * update would silently replace (the ring's owner hands out its own free slots). */
	if (t->d->scope == SCOPE_PROCESS || t->d->kernel_ids || t->d->name_kind == NAME_FIXED)
		id = -1;
	struct reg_args args = { .prog_fd = o->prog_fd, .ring_fd = t->ring_fd, .id = id };

	if (sys_register(t->w, t->proc, &args, &o->reg) < 0) {
		/* -EBUSY: another thread (or this one) holds the id. Exclusive protocol: give up. */
		t->stats->refused++;
		sys_close(t->w, t->proc, o->prog_fd);
		return;
	}
	o->used = true;
	t->stats->registered++;
}

static void unregister_own(struct thread *t, struct own *o)
{
	sys_unregister(t->w, t->proc, &o->reg);
	if (o->reg.link_fd >= 0)
		sys_close(t->w, t->proc, o->reg.link_fd);
	/* per-fd: unregistering was the close */
	if (t->d->scope != SCOPE_PROCESS)
		sys_close(t->w, t->proc, o->prog_fd);
	o->used = false;
	t->stats->unregistered++;
}

static void submit(struct thread *t)
{
	struct sqe sqes[BATCH_MAX];
	struct cqe cqes[BATCH_MAX];
	int expect[BATCH_MAX];
	bool seen[BATCH_MAX] = { false };
	int n = 1 + (int)(next_rand(t) % BATCH_MAX), live[OWN_MAX], nlive = 0;

	for (int i = 0; i < OWN_MAX; i++)
		if (t->own[i].used)
			live[nlive++] = i;
	for (int i = 0; i < n; i++) {
		unsigned pick = next_rand(t) % (unsigned)(nlive + SHARED);
		const struct registration *reg;

		if (pick < (unsigned)nlive) {
			reg = &t->own[live[pick]].reg;
			expect[i] = t->own[live[pick]].res;
		} else {
			reg = &t->shared[pick - (unsigned)nlive];
			expect[i] = 1000 + (int)(pick - (unsigned)nlive);
		}
		sqes[i] = (struct sqe){ .user_data = (uint64_t)i, .async = next_rand(t) % 4 == 0 };
		t->d->target(&reg->name, &sqes[i]);
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
		if (cqes[i].res < 0)
			t->stats->failed++;
		else if (cqes[i].res != expect[k])
			t->stats->wrong_program++;
	}
	if (got < n)
		t->stats->missing += (unsigned long)(n - got);
}

static int open_ring(struct thread *t)
{
	t->ring_fd = sys_setup(t->w, t->proc, t->d->setup_flag);
	if (t->ring_fd < 0)
		return t->ring_fd;
	return name_shared(t);
}

static void close_ring(struct thread *t)
{
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
	struct thread t = {
		.w = &nw->w, .d = nw->w.design, .proc = &nw->w.procs[0], .rng = seed ? seed : 1, .stats = stats,
	};

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
	nw_violations(w, violations);
	free(args);
	free(tids);
	nw_destroy(w);
	return ret;
}
