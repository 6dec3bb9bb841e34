// Task work (kernel/task_work.c): callbacks queued on a task and run by that
// task itself, on its way back to user space or in exit_task_work().
// task_work_add() pushes on the head of the task's list; task_work_run()
// takes the whole list at once and runs it from the head, so the newest
// item of a batch runs first (LIFO), and items queued meanwhile wait for the
// next batch. A task blocked in the kernel runs none of it until it returns.

import type { Op } from './step.js';

export type Work = () => Op<void>;

export class TaskWork {
  private readonly lists = new Map<string, Work[]>();

  /** task_work_add(): queues `work` on `task` (a task is named by its actor). */
  add(task: string, work: Work): void {
    const list = this.lists.get(task) ?? [];
    list.push(work);
    this.lists.set(task, list);
  }

  /** Items queued on `task` and not yet taken. */
  pending(task: string): number {
    return this.lists.get(task)?.length ?? 0;
  }

  /** Takes `task`'s whole list, newest first (the batch task_work_run() runs next). */
  takeBatch(task: string): Work[] {
    const list = this.lists.get(task) ?? [];
    this.lists.delete(task);
    return list.reverse();
  }
}
