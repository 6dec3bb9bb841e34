// SPDX-License-Identifier: MIT
#include "design.h"

void *design_no_state(struct world *w)
{
	(void)w;
	return NULL;
}

void design_free_no_state(struct world *w, void *state)
{
	(void)w;
	(void)state;
}

void design_ring_freed_noop(struct world *w, struct io_ring_ctx *ring)
{
	(void)w;
	(void)ring;
}
