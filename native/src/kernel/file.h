/* SPDX-License-Identifier: MIT */
/*
 * struct file and a process's fd table (fs/file.c, fs/file_table.c) as the
 * C designs need them: an atomic f_count, fget() on current->files that
 * finds the file without a lock and takes its reference only if the count
 * is not already zero (get_file_rcu), the lowest-free-fd rule with the
 * next_fd hint, and fput() whose last reference defers the release: to the
 * dropping task's task work (____fput), or, from a kernel thread or a task
 * past exit_task_work(), to the kworker (delayed_fput), so that ->release
 * never runs under a lock the dropper holds.
 *
 * fget() reads current->files; exit_files() has set it to NULL for an
 * exiting task, and __fget_files_rcu() then dereferences NULL: an oops
 * (task_oops()). A kernel thread's files are init_files, with no user fds,
 * so its fget() fails cleanly (EBADF).
 *
 * Released files are poisoned, not freed, until their owner frees them in
 * bulk (the world does at teardown): a lookup that races with the last
 * fput() reads poisoned memory instead of freed memory, and says so.
 */
#ifndef IOU_FILE_H
#define IOU_FILE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "kref.h"
#include "task.h"

#define FILE_LIVE 0x66696c65u	/* "file" */
#define FILE_POISON 0xdeadf11eu

/* The first fd a process gets: 0, 1 and 2 are stdio in every real process. */
#define FIRST_FREE_FD 3

struct kfile {
	atomic_uint magic;
	int kind;			/* the owner's tag: what `payload` is */
	void *payload;
	struct file_ref refs;
	void (*release)(struct kfile *file);	/* ->release, from task work */
	struct kfile *all_next;		/* owner's list of every file, for bulk freeing */
};

struct fd_table {
	pthread_mutex_t lock;		/* files->file_lock: install and remove */
	_Atomic(struct kfile *) *fds;
	int limit;			/* RLIMIT_NOFILE */
	int next_fd;
	atomic_bool detached;		/* exit_files(): no more lookups */
};

void file_init(struct kfile *file, int kind, void *payload, void (*release)(struct kfile *));

/* Drops a reference; the last one queues ->release on current's task work, or on the kworker. */
void fput(struct kfile *file);

int fd_table_init(struct fd_table *t, int limit);
void fd_table_destroy(struct fd_table *t);
/* Installs `file` at the lowest free fd (the caller's reference moves in); -EMFILE when full. */
int fd_install(struct fd_table *t, struct kfile *file);
/* fget(): the file at `fd` in current->files with a new reference, or NULL (EBADF); oopses without files. */
struct kfile *fget(int fd);
/* The same lookup in a table the caller names (another process's, for SCM_RIGHTS-like helpers). */
struct kfile *fget_from(struct fd_table *t, int fd);
/* Removes `fd` and returns its file, whose reference the caller now owns; NULL when not open. */
struct kfile *fd_remove(struct fd_table *t, int fd);
/* The file at `fd` without a reference, for a snapshot taken while nothing runs. */
struct kfile *fd_peek(struct fd_table *t, int fd);
/*
 * exit_files(): detaches the table (lookups fail from now on) and hands
 * every open file to the caller, lowest fd first, in `out` (at most `max`);
 * returns how many. Each comes with the table's reference.
 */
int fd_detach_all(struct fd_table *t, struct kfile **out, int max);

#endif
