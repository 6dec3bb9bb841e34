/* SPDX-License-Identifier: MIT */
/*
 * The C designs as the addon and the standalone binaries see them: plain
 * types only (C++ cannot include the C11 atomics of world.h). A world is
 * one design instance with two processes; every call is one syscall of
 * process 0 or 1, run to completion on the calling thread. In a sequential
 * world io-wq and the kworker run only in nw_settle() (and while a syscall
 * waits), so what a call leaves for them happens there.
 */
#ifndef IOU_NW_API_H
#define IOU_NW_API_H

#include <stdint.h>

struct nw_world;

struct nw_design_info {
	const char *name;
	int name_kind;		/* 0 id, 1 fd, 2 fixed slot */
	int scope;		/* 0 global, 1 per ring, 2 per process */
	long id_min, id_max;	/* id_max -1: fds */
	int setup_flag;
	int discovery;
};

struct nw_spec {
	int has_prep, prep_ret;
	int has_issue, issue_res, issue_ret;
	int has_fail, has_cleanup;
};

struct nw_registration {
	int kind;		/* as name_kind */
	long value;
	int link_fd, ring_fd;
};

struct nw_sqe {
	uint32_t bpf_op_flags;
	int fd;
	int fixed_file, async;
	uint64_t user_data;
};

struct nw_cqe {
	uint64_t user_data;
	int res;
};

struct nw_program {
	int id;
	int released;		/* the last reference is gone */
	int freed;		/* and its grace period too: the memory is poisoned */
	long refs;
	unsigned long calls[4];	/* prep, issue, fail, cleanup */
};

struct nw_fd {
	int fd;
	int kind;		/* 0 program, 1 link, 2 ring */
	int object;		/* the program id (program, link) or ring id */
};

struct nw_violations {
	unsigned long freed_calls, null_calls, ref_underflow, oob, lost_requests;
	unsigned long null_derefs;	/* an oops: fget() after exit_files() */
	/* Of freed_calls, those through a stale ops pointer a recycled request held (world.h). */
	unsigned long stale_freed_calls;
};

/* A fresh request's command area and result (struct req_residue); ops is a program id, 0 for none. */
struct nw_residue {
	unsigned op;
	int ops;
	int res;
};

/* A CQE and the ring (by id) it was posted on. */
struct nw_cqe_seen {
	int ring;
	uint64_t user_data;
	int res;
};

struct nw_log_event {
	int program, callback, null_call, freed;
};

int nw_design_count(void);
/* Fills `out` for design `i`; 0, or -1 when out of range. */
int nw_design_info(int i, struct nw_design_info *out);

/*
 * A new world of the design called `name`, or NULL. `sequential`: driven by
 * one thread, io-wq (one worker) and the kworker gated until nw_settle(),
 * call counts and the callback log on. Otherwise two io-wq workers run
 * freely (the stress).
 */
struct nw_world *nw_create(const char *name, int fd_limit, int sequential);
void nw_destroy(struct nw_world *w);

int nw_load(struct nw_world *w, int proc, const struct nw_spec *spec);
/* `residue` NULL: all zero. */
int nw_setup(struct nw_world *w, int proc, int bpf, const struct nw_residue *residue);
/* ring_fd and id: -1 when absent. */
int nw_register(struct nw_world *w, int proc, int prog_fd, int ring_fd, long id, struct nw_registration *out);
int nw_unregister(struct nw_world *w, int proc, const struct nw_registration *reg);
int nw_submit(struct nw_world *w, int proc, int ring_fd, const struct nw_sqe *sqes, int n);
int nw_reap(struct nw_world *w, int proc, int ring_fd, struct nw_cqe *out, int max);
int nw_close(struct nw_world *w, int proc, int fd);
int nw_pass_fd(struct nw_world *w, int from, int fd, int to);
int nw_discover(struct nw_world *w, int proc, long *ids, int max);
/* exit(): 0, -EDEADLK (a parked request: the task stays stuck in exit), -ESRCH (already gone). */
int nw_exit(struct nw_world *w, int proc);
/* world_settle(): io-wq, the idle tasks' task work, the kworker, until nothing is left. */
void nw_settle(struct nw_world *w);
/* The SQE fields that name `reg` in this design. */
void nw_target(struct nw_world *w, const struct nw_registration *reg, struct nw_sqe *sqe);

/* Snapshots, taken while no call runs. */
int nw_programs(struct nw_world *w, struct nw_program *out, int max);
int nw_fds(struct nw_world *w, int proc, struct nw_fd *out, int max);
void nw_violations(struct nw_world *w, struct nw_violations *out);
/* Moves the callback log out (sequential worlds); returns how many events. */
int nw_take_log(struct nw_world *w, struct nw_log_event *out, int max);
/* Reaps every ring's CQEs, rings in creation order (sequential worlds: the only consumer); returns how many. */
int nw_take_cqes(struct nw_world *w, struct nw_cqe_seen *out, int max);

#endif
