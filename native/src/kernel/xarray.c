// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "xarray.h"

#define XA_CHUNK_MASK (XA_CHUNK_SIZE - 1)

/* Internal entries: a node pointer tagged with bit 1, as xa_mk_node() does. */
static int is_node(const void *entry)
{
	return ((uintptr_t)entry & 3) == 2;
}

static struct xa_node *to_node(void *entry)
{
	return (struct xa_node *)((uintptr_t)entry - 2);
}

static void *mk_node(struct xa_node *node)
{
	return (void *)((uintptr_t)node + 2);
}

static void *load(_Atomic(void *) *slot)
{
	return atomic_load_explicit(slot, memory_order_acquire);
}

static void publish(_Atomic(void *) *slot, void *entry)
{
	atomic_store_explicit(slot, entry, memory_order_release);
}

static unsigned long max_index(void *head)
{
	if (!is_node(head))
		return 0;
	return (1ul << (to_node(head)->shift + XA_CHUNK_SHIFT)) - 1;
}

static struct xa_node *node_alloc(struct xarray *xa, unsigned shift)
{
	struct xa_node *node = calloc(1, sizeof(*node));

	if (!node) {
		fprintf(stderr, "iou-dispatch: out of memory for an xarray node\n");
		abort();
	}
	node->shift = shift;
	xa->nodes++;
	return node;
}

static void node_park(struct xarray *xa, struct xa_node *node)
{
	node->parked = xa->parked;
	xa->parked = node;
	xa->nodes--;
}

void xa_init(struct xarray *xa)
{
	atomic_init(&xa->head, NULL);
	xa->nodes = 0;
	xa->entries = 0;
	xa->next_cyclic = 0;
	xa->parked = NULL;
}

static void free_tree(void *entry)
{
	if (!is_node(entry))
		return;
	struct xa_node *node = to_node(entry);

	for (unsigned i = 0; i < XA_CHUNK_SIZE; i++)
		free_tree(load(&node->slots[i]));
	free(node);
}

void xa_destroy(struct xarray *xa)
{
	free_tree(load(&xa->head));
	xa_reclaim(xa);
	xa_init(xa);
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	void *entry = load(&xa->head);

	if (index > max_index(entry))
		return NULL;
	while (is_node(entry)) {
		struct xa_node *node = to_node(entry);

		entry = load(&node->slots[(index >> node->shift) & XA_CHUNK_MASK]);
	}
	return entry;
}

unsigned xa_height(struct xarray *xa)
{
	void *head = load(&xa->head);

	return is_node(head) ? to_node(head)->shift / XA_CHUNK_SHIFT + 1 : 0;
}

void *xa_store(struct xarray *xa, unsigned long index, void *entry)
{
	void *head = load(&xa->head);

	if (!is_node(head) && index == 0) {
		if (!head)
			xa->entries++;
		publish(&xa->head, entry);
		return head;
	}
	if (!head) {
		/* xas_expand() on an empty tree: one node, tall enough for the index. */
		unsigned shift = 0;

		while (index >= (1ul << (shift + XA_CHUNK_SHIFT)))
			shift += XA_CHUNK_SHIFT;
		head = mk_node(node_alloc(xa, shift));
		publish(&xa->head, head);
	}
	while (!is_node(head) || index > max_index(head)) {
		struct xa_node *top = node_alloc(xa, is_node(head) ? to_node(head)->shift + XA_CHUNK_SHIFT : 0);

		if (head) {
			atomic_init(&top->slots[0], head);
			top->count = 1;
		}
		head = mk_node(top);
		publish(&xa->head, head);
	}
	struct xa_node *node = to_node(head);

	while (node->shift > 0) {
		_Atomic(void *) *slot = &node->slots[(index >> node->shift) & XA_CHUNK_MASK];
		void *child = load(slot);

		if (!is_node(child)) {
			child = mk_node(node_alloc(xa, node->shift - XA_CHUNK_SHIFT));
			publish(slot, child);
			node->count++;
		}
		node = to_node(child);
	}
	_Atomic(void *) *slot = &node->slots[index & XA_CHUNK_MASK];
	void *old = load(slot);

	if (!old) {
		node->count++;
		xa->entries++;
	}
	publish(slot, entry);
	return old;
}

/* xas_shrink(): while the head node only uses slot 0, replace it by that slot. */
static void shrink(struct xarray *xa)
{
	for (;;) {
		void *head = load(&xa->head);

		if (!is_node(head))
			return;
		struct xa_node *node = to_node(head);
		void *only = load(&node->slots[0]);

		if (node->count != 1 || !only || (!is_node(only) && node->shift != 0))
			return;
		publish(&xa->head, only);
		node_park(xa, node);
	}
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	void *head = load(&xa->head);

	if (index > max_index(head))
		return NULL;
	if (!is_node(head)) {
		if (head)
			xa->entries--;
		publish(&xa->head, NULL);
		return head;
	}
	struct xa_node *path[12];
	int depth = 0;
	void *entry = head;

	while (is_node(entry)) {
		struct xa_node *node = to_node(entry);

		path[depth++] = node;
		entry = load(&node->slots[(index >> node->shift) & XA_CHUNK_MASK]);
	}
	if (!entry)
		return NULL;
	xa->entries--;
	for (int i = depth - 1; i >= 0; i--) {
		struct xa_node *node = path[i];

		publish(&node->slots[(index >> node->shift) & XA_CHUNK_MASK], NULL);
		if (--node->count > 0)
			break;
		node_park(xa, node);
		if (i == 0)
			publish(&xa->head, NULL);
	}
	shrink(xa);
	return entry;
}

static long first_free(struct xarray *xa, unsigned long from, unsigned long to)
{
	for (unsigned long i = from; i <= to && from <= to; i++)
		if (!xa_load(xa, i))
			return (long)i;
	return -1;
}

long xa_alloc_cyclic(struct xarray *xa, void *entry, unsigned long min, unsigned long max)
{
	unsigned long start = xa->next_cyclic < min ? min : xa->next_cyclic;

	if (start > max)
		start = max;
	long found = first_free(xa, start, max);

	if (found < 0 && start > min)
		found = first_free(xa, min, start - 1);
	if (found < 0)
		return -EBUSY;
	xa_store(xa, (unsigned long)found, entry);
	xa->next_cyclic = (unsigned long)found + 1 > max ? min : (unsigned long)found + 1;
	return found;
}

void xa_reclaim(struct xarray *xa)
{
	while (xa->parked) {
		struct xa_node *node = xa->parked;

		xa->parked = node->parked;
		free(node);
	}
}

static void walk(void *entry, unsigned long base, void (*fn)(unsigned long, void *, void *), void *arg)
{
	if (!entry)
		return;
	if (!is_node(entry)) {
		fn(base, entry, arg);
		return;
	}
	struct xa_node *node = to_node(entry);

	for (unsigned i = 0; i < XA_CHUNK_SIZE; i++)
		walk(load(&node->slots[i]), base + ((unsigned long)i << node->shift), fn, arg);
}

void xa_for_each(struct xarray *xa, void (*fn)(unsigned long, void *, void *), void *arg)
{
	walk(load(&xa->head), 0, fn, arg);
}
