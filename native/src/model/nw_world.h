/* SPDX-License-Identifier: MIT */
/* What api.h's opaque struct nw_world is: the C world itself. Only the model's own files include this. */
#ifndef IOU_NW_WORLD_H
#define IOU_NW_WORLD_H

#include "world.h"

struct nw_world {
	struct world w;
};

#endif
