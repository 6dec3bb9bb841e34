/* SPDX-License-Identifier: MIT */
/* iou-patched --memory (memory.c): the kernel's own memory per registration. */
#ifndef IOU_PATCHED_MEMORY_H
#define IOU_PATCHED_MEMORY_H

#include <signal.h>

#define MEM_MAX_RINGS 256

/* The posted version's UAPI, the object to load and the rings' setup flag. */
struct memory_target {
	const char *version;
	const char *object;
	unsigned setup_flags;
};

/*
 * Measures every ring count in both modes and prints one JSON object on
 * stdout; returns the exit status (128 + the signal once *stop is set).
 */
int memory_main(const struct memory_target *t, const int *ring_counts, int n, volatile sig_atomic_t *stop);

#endif
