/* SPDX-License-Identifier: MIT */
/* The one clock every native timing uses: CLOCK_MONOTONIC around whole batches (DESIGN.md section 5). */
#ifndef IOU_CLOCK_H
#define IOU_CLOCK_H

#include <time.h>

static inline long long clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
