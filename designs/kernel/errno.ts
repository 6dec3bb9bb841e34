// Linux errno values the models can return. Values are the x86-64/generic ones
// from include/uapi/asm-generic/errno-base.h and errno.h.

/** Every errno a model can produce, by name. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  EBADFD: 77,
  EOPNOTSUPP: 95,
  ECONNREFUSED: 111,
  ECANCELED: 125,
  EOWNERDEAD: 130,
  // Kernel-internal: io_uring's IOU_ISSUE_SKIP_COMPLETE is -EIOCBQUEUED.
  EIOCBQUEUED: 529,
} as const;

export type Errno = keyof typeof ERRNO;

/** A syscall-level result: a value, or the errno the kernel code returns. */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errno: Errno };

/** Wraps a value as a successful result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Wraps an errno as a failed result. */
export function fail<T = never>(errno: Errno): Result<T> {
  return { ok: false, errno };
}

/** Returns the negative kernel return code for an errno name (-EINVAL is -22). */
export function neg(errno: Errno): number {
  return -ERRNO[errno];
}

const BY_VALUE = new Map<number, Errno>(
  (Object.entries(ERRNO) as [Errno, number][]).map(([name, value]) => [value, name]),
);

/** Returns the errno name of a negative kernel return code, or null when it is not one we know. */
export function errnoName(ret: number): Errno | null {
  return ret < 0 ? (BY_VALUE.get(-ret) ?? null) : null;
}

/** Turns a kernel return code into a Result: ok for >= 0, the errno otherwise. */
export function fromRet(ret: number): Result<number> {
  if (ret >= 0) return ok(ret);
  const name = errnoName(ret);
  if (name === null) throw new Error(`BUG: return code ${ret} is not an errno the models know`);
  return fail(name);
}
