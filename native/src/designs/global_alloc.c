// SPDX-License-Identifier: MIT
/*
 * D6 global-alloc, the control design (designs/global-alloc.ts): one global
 * xarray where the kernel allocates the id (xa_alloc_cyclic over 0..65535)
 * and hands it back; v1's protocol otherwise; no discovery. An entry is a
 * pointer to the struct_ops value, published with one store, as
 * array-xarray's entries above 255.
 */
#include <stdlib.h>

#include "../kernel/xarray.h"
#include "global_registry.h"

#define MAX_ID 0xffff

static struct ops_ref table_lookup(struct world *w, void *table, unsigned long id)
{
	(void)w;
	return (struct ops_ref){ .value = xa_load(table, id) };
}

static void table_write(struct world *w, void *table, unsigned long id, struct program *prog)
{
	(void)w;
	if (prog)
		xa_store(table, id, prog);
	else
		xa_erase(table, id);
}

static long table_allocate(struct world *w, void *table, struct program *prog)
{
	(void)w;
	return xa_alloc_cyclic(table, prog, 0, MAX_ID);
}

static int table_used(void *table, long *ids, int max)
{
	(void)table;
	(void)ids;
	(void)max;
	return 0;	/* never asked: the design has no discovery */
}

static void table_reclaim(void *table)
{
	xa_reclaim(table);
}

static void table_free(void *table)
{
	xa_destroy(table);
	free(table);
}

static const struct global_table ops = {
	.lookup = table_lookup,
	.write = table_write,
	.used = table_used,
	.reclaim = table_reclaim,
	.allocate = table_allocate,
	.free = table_free,
	.sqe_id_shift = 16,
	.sqe_id_bits = 16,
};

static void *create(struct world *w)
{
	struct xarray *xa = malloc(sizeof(*xa));

	if (!xa)
		abort();
	xa_init(xa);
	return global_registry_create(w, &ops, xa);
}

const struct design_def global_alloc_def = {
	.name = "global-alloc",
	.name_kind = NAME_ID,
	.scope = SCOPE_GLOBAL,
	.kernel_ids = true,
	.id_min = 0,
	.id_max = MAX_ID,
	.setup_flag = true,
	.discovery = false,
	.create = create,
	GLOBAL_REGISTRY_HOOKS,
	.discover = NULL,
	.target = global_target_16,
};
