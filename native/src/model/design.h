/* SPDX-License-Identifier: MIT */
/*
 * The one interface every C design implements, the C twin of
 * designs/design.ts: the IORING_OP_BPF hooks of opdef.c (prep, issue, fail,
 * cleanup), what the design adds to ring setup and teardown, and the
 * userspace registration API. designs/registry.c lists the designs.
 */
#ifndef IOU_DESIGN_H
#define IOU_DESIGN_H

#include <stdbool.h>

#include "world.h"

enum name_kind { NAME_ID, NAME_FD, NAME_FIXED };

/* Whose namespace a name lives in (designs/design.ts `scope`). */
enum scope { SCOPE_GLOBAL, SCOPE_RING, SCOPE_PROCESS };

/* How an SQE names a program. */
struct prog_name {
	enum name_kind kind;
	long value;		/* the id, fd or fixed slot */
};

struct reg_args {
	int prog_fd;
	int ring_fd;		/* -1 when absent */
	long id;		/* -1 when absent: the slot (or kernel-chosen id) is picked for you */
};

struct registration {
	struct prog_name name;
	int link_fd;		/* -1 when the design has no link */
	int ring_fd;		/* -1 when the name is not tied to a ring */
};

struct design_def {
	const char *name;		/* 'per-ctx', 'global-array+bounds-fix': as in designs/registry.ts */
	enum name_kind name_kind;
	enum scope scope;
	long id_min, id_max;		/* names userspace can put in an SQE; id_max -1: fds */
	bool setup_flag;		/* rings need the design's setup flag */
	bool discovery;			/* userspace can list used ids */
	bool kernel_ids;		/* ->reg() picks the id and returns it (global-alloc) */
	/* ->unreg() sleeps, uninterruptibly, until the requests holding the slot are freed (per-ctx). */
	bool unreg_waits_for_requests;

	void *(*create)(struct world *w);
	void (*destroy)(struct world *w, void *state);
	/* io_ring_ctx_alloc()/io_ring_ctx_free(): 0 or -errno. */
	int (*ring_created)(struct world *w, struct io_ring_ctx *ring);
	void (*ring_freed)(struct world *w, struct io_ring_ctx *ring);
	/* Under uring_lock: 0 or -errno. */
	int (*prep)(struct world *w, struct req *req);
	/* Inline under uring_lock, or on io-wq without it when `unlocked`. */
	int (*issue)(struct world *w, struct req *req, bool unlocked);
	void (*fail)(struct world *w, struct req *req);
	void (*cleanup)(struct world *w, struct req *req);
	int (*reg)(struct world *w, struct process *proc, const struct reg_args *args,
		   struct registration *out);
	int (*unreg)(struct world *w, struct process *proc, const struct registration *reg);
	/* Used ids in ascending order (at most `max`); returns the count. NULL: no discovery. */
	int (*discover)(struct world *w, long *ids, int max);
	/* The SQE fields that carry `name`. */
	void (*target)(const struct prog_name *name, struct sqe *sqe);
};

/* The registration syscalls: run as `proc`, then that thread's task work. 0 or -errno. */
int sys_register(struct world *w, struct process *proc, const struct reg_args *args, struct registration *out);
int sys_unregister(struct world *w, struct process *proc, const struct registration *reg);
/* Used ids as userspace can list them (bpftool): the count, or -EOPNOTSUPP without discovery. */
int sys_discover(struct world *w, struct process *proc, long *ids, int max);

/* Hooks for designs with nothing to do there. */
void *design_no_state(struct world *w);
void design_free_no_state(struct world *w, void *state);
void design_ring_freed_noop(struct world *w, struct io_ring_ctx *ring);

extern const struct design_def *const design_defs[];
extern const int design_count;

/* The design called `name`, or NULL. */
const struct design_def *design_find(const char *name);

#endif
