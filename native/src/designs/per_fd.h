/* SPDX-License-Identifier: MIT */
/* What per-fd-fixed shares with per-fd: no setup flag, and the SQE fields of an fd or slot name. */
#ifndef IOU_PER_FD_H
#define IOU_PER_FD_H

#include "../model/design.h"

int per_fd_ring_created(struct world *w, struct io_ring_ctx *ring);
void per_fd_target(const struct prog_name *name, struct sqe *sqe);

#endif
