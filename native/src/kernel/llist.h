/* SPDX-License-Identifier: MIT */
/*
 * Lock-less singly linked lists (include/linux/llist.h): any thread pushes
 * with one compare-and-swap, the consumer takes the whole list with one
 * exchange, newest first. io_uring's task lists and fallback lists are
 * these, so adding a request to its submitter's task work costs what it
 * costs in the kernel.
 */
#ifndef IOU_LLIST_H
#define IOU_LLIST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	_Atomic(struct llist_node *) first;
};

/* llist_add(): pushes `node`; true when the list was empty before. */
static inline bool llist_add(struct llist_node *node, struct llist_head *head)
{
	struct llist_node *first = atomic_load_explicit(&head->first, memory_order_relaxed);

	do
		node->next = first;
	while (!atomic_compare_exchange_weak_explicit(&head->first, &first, node, memory_order_release,
						      memory_order_relaxed));
	return first == NULL;
}

/* llist_del_all(): the whole list, newest first; the list is empty after. */
static inline struct llist_node *llist_del_all(struct llist_head *head)
{
	return atomic_exchange_explicit(&head->first, NULL, memory_order_acquire);
}

static inline bool llist_empty(struct llist_head *head)
{
	return atomic_load_explicit(&head->first, memory_order_relaxed) == NULL;
}

/* llist_reverse_order(): oldest first. */
static inline struct llist_node *llist_reverse_order(struct llist_node *node)
{
	struct llist_node *reversed = NULL;

	while (node) {
		struct llist_node *next = node->next;

		node->next = reversed;
		reversed = node;
		node = next;
	}
	return reversed;
}

#define llist_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
