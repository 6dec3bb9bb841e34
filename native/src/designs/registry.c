// SPDX-License-Identifier: MIT
/*
 * The one list of C designs and variants, in the order of designs/registry.ts.
 * Adding a design is one file in this directory (binding.gyp builds every
 * .c here) and one X(...) line below naming its struct design_def.
 */
#include <string.h>

#include "../model/design.h"

#define DESIGN_DEFS(X)				\
	X(global_array_def)			\
	X(global_array_bounds_fix_def)		\
	X(array_xarray_def)			\
	X(per_ctx_def)				\
	X(per_ctx_unregistering_bit_def)	\
	X(per_fd_def)				\
	X(per_fd_fixed_def)			\
	X(global_alloc_def)

#define DECLARE_DEF(def) extern const struct design_def def;
#define LIST_DEF(def) &def,

DESIGN_DEFS(DECLARE_DEF)

const struct design_def *const design_defs[] = { DESIGN_DEFS(LIST_DEF) };

const int design_count = sizeof(design_defs) / sizeof(design_defs[0]);

const struct design_def *design_find(const char *name)
{
	for (int i = 0; i < design_count; i++)
		if (strcmp(design_defs[i]->name, name) == 0)
			return design_defs[i];
	return NULL;
}
