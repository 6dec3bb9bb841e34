// struct file and a process's fd table (fs/file.c), as the designs need them:
// refcounted files whose release runs when the last reference goes, the
// lowest-free-fd rule, fget that takes a reference, dup, and a table that an
// exiting task detaches (exit_files) before it closes the files. After that
// the task's current->files is NULL, and fget() (fs/file.c
// __fget_files_rcu) dereferences it: an oops, not an EBADF.

import { oops } from './oops.js';
import { Refcount } from './refcount.js';
import type { Op } from './step.js';
import type { Trace } from './trace.js';

/** A struct file: a label for traces, a payload naming what it refers to, and its release. */
export class KFile<P> {
  readonly refs: Refcount;
  released = false;

  constructor(
    readonly id: number,
    readonly label: string,
    readonly payload: P,
    trace: Trace,
    /** What __fput() does once the last reference is gone (->release of the file). */
    readonly release: () => Op<void>,
  ) {
    this.refs = new Refcount(`file:${label}`, 1, true, trace);
  }
}

/** The first fd a process gets: 0, 1 and 2 are taken by stdio in every real process. */
export const FIRST_FREE_FD = 3;

export class FdTable<P> {
  private readonly fds = new Map<number, KFile<P>>();
  /** files->next_fd: no fd below it is free, so the search starts here. */
  private nextFd = FIRST_FREE_FD;
  /** Set by exit_files(): the task no longer has a table to look fds up in. */
  detached = false;

  constructor(
    readonly pid: number,
    private readonly trace: Trace,
    /** RLIMIT_NOFILE: installing an fd at or above it fails with EMFILE. */
    readonly limit = 1024,
  ) {}

  /** Installs `file` at the lowest free fd (the caller's reference moves in); null when the table is full. */
  install(file: KFile<P>): number | null {
    let fd = this.nextFd;
    while (this.fds.has(fd)) fd++;
    if (fd >= this.limit) return null;
    this.fds.set(fd, file);
    this.nextFd = fd + 1;
    this.trace.emit({ kind: 'fd-install', pid: this.pid, fd, file: file.label });
    return fd;
  }

  /** The file at `fd` without taking a reference (fcheck), or undefined. */
  peek(fd: number): KFile<P> | undefined {
    return this.detached ? undefined : this.fds.get(fd);
  }

  /**
   * fget() by the task that owns this table: the file at `fd` with a new
   * reference, or undefined (EBADF). After exit_files() the task has no
   * table at all, and the lookup dereferences NULL.
   */
  fget(fd: number): KFile<P> | undefined {
    if (this.detached) oops(this.trace, `fget(${fd}) by pid ${this.pid} after exit_files()`);
    const file = this.peek(fd);
    // Planted bug: the lookup forgets to take its reference.
    if (!this.trace.mutations.has('fget-no-ref')) file?.refs.get();
    return file;
  }

  /** Removes `fd` from the table and returns its file, whose reference the caller now owns. */
  remove(fd: number): KFile<P> | undefined {
    const file = this.fds.get(fd);
    if (file === undefined || this.detached) return undefined;
    this.fds.delete(fd);
    if (fd < this.nextFd) this.nextFd = fd;
    this.trace.emit({ kind: 'fd-close', pid: this.pid, fd, file: file.label });
    return file;
  }

  /**
   * dup_fd() (fs/file.c, from kernel/fork.c copy_files() on fork without
   * CLONE_FILES): this empty table becomes a copy of `parent`'s, each file
   * with one more reference.
   */
  copyFrom(parent: FdTable<P>): void {
    if (this.fds.size > 0) throw new Error('BUG: copyFrom into a table in use');
    for (const [fd, file] of parent.list()) {
      file.refs.get();
      this.fds.set(fd, file);
      this.trace.emit({ kind: 'fd-install', pid: this.pid, fd, file: file.label });
    }
    this.nextFd = parent.nextFd;
  }

  /** Detaches the table for exit and returns every file it held, lowest fd first. */
  detachAll(): KFile<P>[] {
    this.detached = true;
    const files = [...this.fds.entries()].sort(([a], [b]) => a - b);
    this.fds.clear();
    for (const [fd, file] of files)
      this.trace.emit({ kind: 'fd-close', pid: this.pid, fd, file: file.label });
    return files.map(([, file]) => file);
  }

  /** Open fds, lowest first. */
  list(): [number, KFile<P>][] {
    return [...this.fds.entries()].sort(([a], [b]) => a - b);
  }
}
