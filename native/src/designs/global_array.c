// SPDX-License-Identifier: MIT
/*
 * D1 global-array: v1 as posted (20251104162123.1086035-4-ming.lei@redhat.com),
 * the C twin of designs/global-array.ts. One system-wide bpf_ops[256]; the
 * SQE's op id is the top 8 bits of bpf_op_flags. The u16 id of a
 * registration is not checked against 256 as posted, so ->reg() can write
 * past the end: here that memory is a separate region and every access to
 * it is counted (violations.oob), once per field loaded or written, as
 * designs/global-registry.ts traces them. +bounds-fix adds the check Ming agreed to.
 */
#include <errno.h>
#include <stdlib.h>

#include "global_registry.h"

#define SLOTS 256
#define U16_IDS 65536

struct global_array {
	struct bpf_ops_slot slots[SLOTS];
	struct bpf_ops_slot *beyond;	/* what lies past the array, as far as a u16 reaches */
};

static struct bpf_ops_slot *slot_of(struct global_array *t, unsigned long id)
{
	return id < SLOTS ? &t->slots[id] : &t->beyond[id - SLOTS];
}

static struct ops_ref table_lookup(struct world *w, void *table, unsigned long id)
{
	return (struct ops_ref){ .slot = slot_of(table, id), .past_end = id < SLOTS ? NULL : w };
}

/* bpf_ops[id] = *ops: past the end, every field the copy writes is a bad write. */
static void table_write(struct world *w, void *table, unsigned long id, struct program *prog)
{
	bpf_ops_slot_write(slot_of(table, id), (unsigned short)id, prog);
	for (int field = 0; id >= SLOTS && field < BPF_OPS_FIELDS; field++)
		world_oob(w);
}

static int table_used(void *table, long *ids, int max)
{
	struct global_array *t = table;
	int n = 0;

	for (long id = 0; id < U16_IDS && n < max; id++)
		if (bpf_ops_slot_used(id < SLOTS ? &t->slots[id] : &t->beyond[id - SLOTS]))
			ids[n++] = id;
	return n;
}

static void table_reclaim(void *table)
{
	(void)table;
}

static void table_free(void *table)
{
	struct global_array *t = table;

	free(t->beyond);
	free(t);
}

static int check_id(long id)
{
	return id >= SLOTS ? -EINVAL : 0;
}

static const struct global_table posted = {
	.lookup = table_lookup,
	.write = table_write,
	.used = table_used,
	.reclaim = table_reclaim,
	.free = table_free,
	.sqe_id_shift = 24,
	.sqe_id_bits = 8,
};

static const struct global_table bounds_fix = {
	.lookup = table_lookup,
	.write = table_write,
	.used = table_used,
	.reclaim = table_reclaim,
	.free = table_free,
	.check_id = check_id,
	.sqe_id_shift = 24,
	.sqe_id_bits = 8,
};

static struct global_array *table_new(void)
{
	struct global_array *t = calloc(1, sizeof(*t));

	if (t)
		t->beyond = calloc(U16_IDS - SLOTS, sizeof(*t->beyond));
	if (!t || !t->beyond)
		abort();
	return t;
}

static void *create_posted(struct world *w)
{
	return global_registry_create(w, &posted, table_new());
}

static void *create_bounds_fix(struct world *w)
{
	return global_registry_create(w, &bounds_fix, table_new());
}

#define GLOBAL_ARRAY_DEF(NAME, CREATE)                                                \
	{                                                                             \
		.name = NAME, .name_kind = NAME_ID, .scope = SCOPE_GLOBAL, .id_min = 0, .id_max = SLOTS - 1, \
		.setup_flag = true, .discovery = true, .create = CREATE,              \
		.discover = global_discover, .target = global_target_8,               \
		GLOBAL_REGISTRY_HOOKS,                                                \
	}

const struct design_def global_array_def = GLOBAL_ARRAY_DEF("global-array", create_posted);
const struct design_def global_array_bounds_fix_def =
	GLOBAL_ARRAY_DEF("global-array+bounds-fix", create_bounds_fix);
