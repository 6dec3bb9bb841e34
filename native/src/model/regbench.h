/* SPDX-License-Identifier: MIT */
/*
 * The registration lane's C side: one C design's world with N rings in one
 * process and one loaded program, and the registration a user must do so
 * that every one of the N rings can name that program (and its undoing),
 * each run as the design really does it:
 *  - one global table (global-array, array-xarray, global-alloc): one
 *    struct_ops attach; ->reg() takes the global mutex and every flagged
 *    ring's uring_lock, changes the table, synchronize_srcu(), unlocks;
 *  - per ring (per-ctx): one attach per ring, each under that ring's uring_lock;
 *  - per ring fixed-file table (per-fd-fixed): one FILES_UPDATE per ring;
 *  - per process fd (per-fd): nothing to register; the lane times the fd
 *    install a process does when it gets the program fd (a dup), and close().
 * Unregistration detaches and closes each link (a struct_ops link is
 * released by its last close), or clears each fixed slot, or closes the fd.
 * Plain types only: the addon includes it.
 */
#ifndef IOU_NW_REGBENCH_H
#define IOU_NW_REGBENCH_H

/* The issue_res of the bench's program: a CQE with it ran the program. */
#define NW_REGBENCH_RES 4242

struct nw_regbench;

/* A world of design `name` with `nrings` rings; NULL with *err = -errno (-ENOENT: no such design). */
struct nw_regbench *nw_regbench_create(const char *name, int nrings, int *err);
void nw_regbench_destroy(struct nw_regbench *b);

/* Syscalls one registration (and one unregistration) makes: 1 or N. */
int nw_regbench_calls(const struct nw_regbench *b);

/* The registration (all calls); 0 or the first -errno. */
int nw_regbench_register(struct nw_regbench *b);
int nw_regbench_unregister(struct nw_regbench *b);

/*
 * One request naming the program on every ring, run to completion: how many
 * rings' CQEs carry NW_REGBENCH_RES (the program ran); -errno if a submit failed.
 */
int nw_regbench_probe(struct nw_regbench *b);

/*
 * `reps` register/unregister cycles, clock_gettime() around each
 * registration and each unregistration; reg_ns[i], unreg_ns[i] get cycle
 * i's times. 0 or the first -errno.
 */
int nw_regbench_time(struct nw_regbench *b, int reps, double *reg_ns, double *unreg_ns);

#endif
