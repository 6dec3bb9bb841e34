/* SPDX-License-Identifier: MIT */
#ifndef IOU_SECCOMP_H
#define IOU_SECCOMP_H

/*
 * Test hook: makes io_uring_setup/enter/register fail with `err` in every
 * thread of this process, for good (seccomp filter, TSYNC). Returns 0 or
 * -errno (-ENOSYS on an architecture it does not know).
 */
int seccomp_deny_io_uring(int err);

#endif
