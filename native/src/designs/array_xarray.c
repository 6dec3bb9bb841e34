// SPDX-License-Identifier: MIT
/*
 * D2 array-xarray: Ming's counter-proposal (aTeStJ9_Tu0i5_wH@fedora), the C
 * twin of designs/array-xarray.ts. Ids 0..255 in the v1 array (struct
 * copies, field by field), 256..65535 in a global xarray whose entry is a
 * pointer to the struct_ops value, published with one xa_store(); v1's
 * locking (global_registry.c). Assumed encoding: the 16-bit id is the top
 * 16 bits of bpf_op_flags.
 */
#include <stdlib.h>

#include "../kernel/xarray.h"
#include "global_registry.h"

#define ARRAY_SLOTS 256

struct array_xarray {
	struct bpf_ops_slot array[ARRAY_SLOTS];
	struct xarray xa;
};

static struct ops_ref table_lookup(struct world *w, void *table, unsigned long id)
{
	struct array_xarray *t = table;

	(void)w;
	if (id < ARRAY_SLOTS)
		return (struct ops_ref){ .slot = &t->array[id] };
	return (struct ops_ref){ .value = xa_load(&t->xa, id) };
}

static void table_write(struct world *w, void *table, unsigned long id, struct program *prog)
{
	struct array_xarray *t = table;

	(void)w;
	if (id < ARRAY_SLOTS)
		bpf_ops_slot_write(&t->array[id], (unsigned short)id, prog);
	else if (prog)
		xa_store(&t->xa, id, prog);
	else
		xa_erase(&t->xa, id);
}

struct collect {
	long *ids;
	int n, max;
};

static void collect_one(unsigned long index, void *entry, void *arg)
{
	struct collect *c = arg;

	(void)entry;
	if (c->n < c->max)
		c->ids[c->n++] = (long)index;
}

static int table_used(void *table, long *ids, int max)
{
	struct array_xarray *t = table;
	struct collect c = { .ids = ids, .max = max };

	for (long id = 0; id < ARRAY_SLOTS; id++)
		if (bpf_ops_slot_used(&t->array[id]))
			collect_one((unsigned long)id, NULL, &c);
	xa_for_each(&t->xa, collect_one, &c);
	return c.n;
}

static void table_reclaim(void *table)
{
	xa_reclaim(&((struct array_xarray *)table)->xa);
}

static void table_free(void *table)
{
	struct array_xarray *t = table;

	xa_destroy(&t->xa);
	free(t);
}

static const struct global_table ops = {
	.lookup = table_lookup,
	.write = table_write,
	.used = table_used,
	.reclaim = table_reclaim,
	.free = table_free,
	.sqe_id_shift = 16,
	.sqe_id_bits = 16,
};

static void *create(struct world *w)
{
	struct array_xarray *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	xa_init(&t->xa);
	return global_registry_create(w, &ops, t);
}

const struct design_def array_xarray_def = {
	.name = "array-xarray",
	.name_kind = NAME_ID,
	.scope = SCOPE_GLOBAL,
	.id_min = 0,
	.id_max = 0xffff,
	.setup_flag = true,
	.discovery = true,
	.create = create,
	GLOBAL_REGISTRY_HOOKS,
	.discover = global_discover,
	.target = global_target_16,
};
