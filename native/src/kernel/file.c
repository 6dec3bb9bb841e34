// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "file.h"
#include "workqueue.h"

void file_init(struct kfile *file, int kind, void *payload, void (*release)(struct kfile *))
{
	atomic_init(&file->magic, FILE_LIVE);
	file->kind = kind;
	file->payload = payload;
	file_ref_init(&file->refs, 1);
	file->release = release;
	file->all_next = NULL;
}

static void fput_work(void *arg)
{
	struct kfile *file = arg;

	atomic_store_explicit(&file->magic, FILE_POISON, memory_order_release);
	file->release(file);
}

void fput(struct kfile *file)
{
	struct task *t = current;

	if (!file_ref_put(&file->refs))
		return;
	if (!t) {
		fprintf(stderr, "iou-dispatch: BUG: fput() outside any task\n");
		abort();
	}
	/* fs/file_table.c fput(): task work unless a kthread, or once exit_task_work() refuses more. */
	if (t->kind != TASK_KWORKER && task_work_add(t, fput_work, file) == 0)
		return;
	wq_queue(t->domain->kworker, fput_work, file);	/* delayed_fput */
}

int fd_table_init(struct fd_table *t, int limit)
{
	t->fds = calloc((size_t)limit, sizeof(*t->fds));
	if (!t->fds)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->limit = limit;
	t->next_fd = FIRST_FREE_FD;
	atomic_init(&t->detached, false);
	return 0;
}

void fd_table_destroy(struct fd_table *t)
{
	pthread_mutex_destroy(&t->lock);
	free(t->fds);
	t->fds = NULL;
}

static struct kfile *slot(struct fd_table *t, int fd)
{
	return atomic_load_explicit(&t->fds[fd], memory_order_acquire);
}

int fd_install(struct fd_table *t, struct kfile *file)
{
	int fd;

	pthread_mutex_lock(&t->lock);
	for (fd = t->next_fd; fd < t->limit && slot(t, fd); fd++)
		;
	if (fd >= t->limit) {
		pthread_mutex_unlock(&t->lock);
		fput(file);
		return -EMFILE;
	}
	atomic_store_explicit(&t->fds[fd], file, memory_order_release);
	t->next_fd = fd + 1;
	pthread_mutex_unlock(&t->lock);
	return fd;
}

struct kfile *fget(int fd)
{
	struct fd_table *files = current ? atomic_load_explicit(&current->files, memory_order_relaxed) : NULL;

	if (!files)
		task_oops();	/* __fget_files_rcu(current->files == NULL, ...) */
	return fget_from(files, fd);
}

struct kfile *fget_from(struct fd_table *t, int fd)
{
	if (fd < 0 || fd >= t->limit || atomic_load_explicit(&t->detached, memory_order_relaxed))
		return NULL;
	for (;;) {
		struct kfile *file = slot(t, fd);

		if (!file)
			return NULL;
		if (!file_ref_get(&file->refs))
			return NULL;
		/* __fget_files_rcu(): the fd may have been closed and reused meanwhile. */
		if (slot(t, fd) == file)
			return file;
		fput(file);
	}
}

struct kfile *fd_peek(struct fd_table *t, int fd)
{
	if (fd < 0 || fd >= t->limit)
		return NULL;
	return slot(t, fd);
}

struct kfile *fd_remove(struct fd_table *t, int fd)
{
	struct kfile *file = NULL;

	if (fd < 0 || fd >= t->limit)
		return NULL;
	pthread_mutex_lock(&t->lock);
	if (!atomic_load_explicit(&t->detached, memory_order_relaxed)) {
		file = slot(t, fd);
		if (file) {
			atomic_store_explicit(&t->fds[fd], NULL, memory_order_release);
			if (fd < t->next_fd)
				t->next_fd = fd;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return file;
}

int fd_detach_all(struct fd_table *t, struct kfile **out, int max)
{
	int n = 0;

	pthread_mutex_lock(&t->lock);
	atomic_store_explicit(&t->detached, true, memory_order_relaxed);
	for (int fd = 0; fd < t->limit; fd++) {
		struct kfile *file = slot(t, fd);

		if (!file)
			continue;
		atomic_store_explicit(&t->fds[fd], NULL, memory_order_release);
		if (n < max)
			out[n++] = file;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}
