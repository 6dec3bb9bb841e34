/* SPDX-License-Identifier: MIT */
/*
 * Tasks (struct task_struct, reduced to what the models need): which thread
 * of which process is running model code (`current`), its files
 * (current->files), its task work, and the state RCU-tasks looks at.
 *
 * - Task work (kernel/task_work.c): task_work_add() pushes on a list that
 *   task_work_run() takes whole and runs newest first (LIFO), again until
 *   it stays empty. Once exit_task_work() has emptied it for an exiting
 *   task, task_work_add() fails with -ESRCH (work_exited). A task runs its
 *   task work only itself: at the end of a syscall, when an interruptible
 *   sleep is woken (TWA_SIGNAL), or, while idle in user space, when the
 *   world settles (world_settle(): the signal an idle thread gets).
 * - RCU-tasks (kernel/rcu/tasks.h): a grace period waits for every task
 *   that is running in the kernel to pass a voluntary context switch or
 *   return to user space. Here a task's rcu_nest is odd while it runs in
 *   the kernel and even while it is in user space or asleep in a voluntary
 *   wait, so a reader costs nothing at the call site, as in the kernel.
 * - An oops (a NULL dereference) kills the task: what it was doing goes no
 *   further and its remaining task work never runs. A wait that nothing can
 *   end, in a world driven by one thread, is a hang. Both unwind to the
 *   task's kernel entry (task_run_guarded()); the task never runs again.
 *   Neither may happen with a model lock held: the models take fds (the
 *   only oops) before any lock, and sleep with none.
 */
#ifndef IOU_TASK_H
#define IOU_TASK_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>

struct fd_table;
struct workqueue;
struct io_uring_task;

enum task_kind {
	TASK_USER,		/* a thread of a user process */
	TASK_IO_WORKER,		/* an io-wq worker (PF_IO_WORKER): a user thread, so fput() uses its task work */
	TASK_KWORKER,		/* a kernel thread (PF_KTHREAD): init_files, no task work (delayed fput) */
};

struct task_work {
	void (*fn)(void *arg);
	void *arg;
	struct task_work *next;
};

/* A batch task_work_run() took and has not finished: what an oops or a hang leaves unrun. */
struct task_work_batch {
	struct task_work *rest;
	struct task_work_batch *outer;	/* the batch of a task_work_run() this one runs inside */
};

/* What the tasks of one world share. */
struct task_domain {
	pthread_mutex_t lock;		/* the task list */
	struct task *tasks;		/* every task ever made, for the RCU-tasks grace period */
	struct workqueue *kworker;	/* system_wq: delayed fput, fallback task work, RCU callbacks */
	struct fd_table *init_files;	/* kernel threads share init_files: no user fds */
	atomic_ulong oopses;		/* NULL dereferences: fget() with current->files == NULL */
	/*
	 * One thread drives every task (the addon's sequential worlds): a sleep
	 * runs what the others have pending instead (run_others(), true when
	 * anything ran), since no other thread would.
	 */
	bool sequential;
	bool (*run_others)(void *arg);
	void *run_others_arg;
};

struct task {
	struct task_domain *domain;
	enum task_kind kind;
	void *owner;				/* the process; NULL for kernel threads */
	_Atomic(struct fd_table *) files;	/* current->files: NULL once exit_files() ran */
	pthread_mutex_t lock;			/* works, and the sleeps woken through `wake` */
	pthread_cond_t wake;			/* an interruptible sleeper: TWA_SIGNAL, CQEs */
	struct task_work *works;		/* task_works: newest first */
	struct task_work_batch *running;	/* the batches task_work_run() is in, innermost first */
	bool works_exited;			/* exit_task_work() is done: task_work_add() fails */
	bool exiting;				/* PF_EXITING */
	atomic_bool in_syscall;			/* inside a syscall (or running its task work): not idle */
	atomic_bool dead;			/* oopsed or hung: never runs again */
	atomic_bool uninterruptible;		/* asleep in TASK_UNINTERRUPTIBLE */
	atomic_ulong rcu_nest;			/* odd while running in the kernel */
	jmp_buf *unwind;			/* the kernel entry an oops or a hang ends */
	struct io_uring_task *io_uring;		/* current->io_uring, made on first use */
	struct task *next;			/* domain->tasks */
};

/* The task the calling thread runs as, or NULL outside the world. */
extern _Thread_local struct task *current;

void task_domain_init(struct task_domain *d, struct fd_table *init_files, bool sequential);
void task_domain_destroy(struct task_domain *d);

/* Makes `t` a task of `d` (zeroing it first) and lists it for RCU-tasks. `files` NULL: init_files. */
void task_init(struct task *t, struct task_domain *d, enum task_kind kind, void *owner, struct fd_table *files);
/* Frees the task work a dead task left; the task stays listed until the domain goes. */
void task_release(struct task *t);
/* Takes `t` off the domain's list (its memory is about to go). */
void task_unlist(struct task *t);

/* task_work_add(t, work, TWA_SIGNAL): 0, or -ESRCH once t ran exit_task_work(). Wakes an interruptible sleep. */
int task_work_add(struct task *t, void (*fn)(void *arg), void *arg);
bool task_work_pending(struct task *t);
/* task_work_run() for current: newest first, until none is left. */
void task_work_run(void);
/* exit_task_work(): PF_EXITING is set; runs the work until none is left, then refuses more. */
void exit_task_work(void);

/* Wakes `t` if it sleeps interruptibly (wake_up_process()). */
void task_wake(struct task *t);

/* Entering and leaving the kernel (syscall entry and return, a worker's item): RCU-tasks sees them. */
void task_enter_kernel(struct task *t);
void task_leave_kernel(struct task *t);
/*
 * A voluntary sleep: a quiescent state for RCU-tasks while it lasts.
 * task_sleep_begin() says whether `t` (which may be NULL) was in the kernel;
 * hand that to task_sleep_end().
 */
bool task_sleep_begin(struct task *t);
void task_sleep_end(struct task *t, bool was_in_kernel);
/* synchronize_rcu_tasks(): returns once every task that was running in the kernel has left it or slept. */
void synchronize_rcu_tasks(struct task_domain *d);

/*
 * wait_event() for current: returns once done(arg) holds. An interruptible
 * wait sleeps on current->wake and runs the task work that arrives; an
 * uninterruptible one sleeps on `cond` (with `lock`) and runs none. In a
 * sequential domain it runs the others' pending work instead of sleeping,
 * and hangs when that changes nothing.
 */
void task_wait_event(bool (*done)(void *arg), void *arg, pthread_mutex_t *lock, pthread_cond_t *cond,
		     bool interruptible);

enum task_end { TASK_RETURNED, TASK_OOPSED, TASK_HUNG };

/* Runs fn(arg) as `t` on this thread inside the kernel, catching an oops or a hang. */
enum task_end task_run_guarded(struct task *t, void (*fn)(void *arg), void *arg);
/* Runs `t`'s pending task work as `t` (an idle task interrupted by TWA_SIGNAL). */
enum task_end task_run_work_as(struct task *t);

/*
 * Runs `t`'s pending task work on this thread while `t` sleeps in the
 * kernel and cannot: not something the kernel does, but how a test's
 * watchdog ends a self-deadlock it has pinned. RCU-tasks is not told.
 */
void task_work_run_for(struct task *t);

/* A NULL dereference by current: counted, and the task dies. */
_Noreturn void task_oops(void);

#endif
