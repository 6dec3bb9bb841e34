// SPDX-License-Identifier: MIT
/*
 * The one list of C designs and variants, in the order of designs/registry.ts.
 * Adding a design is one file in this directory and one line here.
 */
#include <string.h>

#include "../model/design.h"

extern const struct design_def global_array_def, global_array_bounds_fix_def, array_xarray_def,
	per_ctx_def, per_ctx_unregistering_bit_def, per_fd_def, per_fd_fixed_def, global_alloc_def;

const struct design_def *const design_defs[] = {
	&global_array_def,
	&global_array_bounds_fix_def,
	&array_xarray_def,
	&per_ctx_def,
	&per_ctx_unregistering_bit_def,
	&per_fd_def,
	&per_fd_fixed_def,
	&global_alloc_def,
};

const int design_count = sizeof(design_defs) / sizeof(design_defs[0]);

const struct design_def *design_find(const char *name)
{
	for (int i = 0; i < design_count; i++)
		if (strcmp(design_defs[i]->name, name) == 0)
			return design_defs[i];
	return NULL;
}
