// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring.h"

const unsigned ring_fast_flags[3] = {
	IORING_SETUP_SINGLE_ISSUER,
	IORING_SETUP_COOP_TASKRUN,
	IORING_SETUP_DEFER_TASKRUN,
};

int sys_io_uring_setup(unsigned entries, struct iou_params *p)
{
	long ret = syscall(__NR_io_uring_setup, entries, p);

	return ret < 0 ? -errno : (int)ret;
}

static int sys_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	long ret = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);

	return ret < 0 ? -errno : (int)ret;
}

int ring_register(struct ring *r, unsigned opcode, void *arg, unsigned nr)
{
	long ret = syscall(__NR_io_uring_register, r->fd, opcode, arg, nr);

	return ret < 0 ? -errno : (int)ret;
}

static int ring_map(struct ring *r, const struct iou_params *p)
{
	size_t cqe_size = sizeof(struct iou_cqe) << r->cqe_shift;

	r->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
	r->cq_map_len = p->cq_off.cqes + p->cq_entries * cqe_size;
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_map_len > r->sq_map_len)
			r->sq_map_len = r->cq_map_len;
		r->cq_map_len = r->sq_map_len;
	}
	r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		return -errno;
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		r->cq_map = r->sq_map;
	} else {
		r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
				 r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED) {
			r->cq_map = NULL;
			return -errno;
		}
	}
	r->sqes_len = p->sq_entries * sizeof(struct iou_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED) {
		r->sqes = NULL;
		return -errno;
	}

	char *sq = r->sq_map, *cq = r->cq_map;

	r->sq_head = (unsigned *)(sq + p->sq_off.head);
	r->sq_tail = (unsigned *)(sq + p->sq_off.tail);
	r->sq_mask = *(unsigned *)(sq + p->sq_off.ring_mask);
	r->sq_entries = *(unsigned *)(sq + p->sq_off.ring_entries);
	r->sq_array = (unsigned *)(sq + p->sq_off.array);
	r->cq_head = (unsigned *)(cq + p->cq_off.head);
	r->cq_tail = (unsigned *)(cq + p->cq_off.tail);
	r->cq_mask = *(unsigned *)(cq + p->cq_off.ring_mask);
	r->cqes = (struct iou_cqe *)(cq + p->cq_off.cqes);
	/* SQ index i always holds SQE i: the array is an identity map. */
	for (unsigned i = 0; i < r->sq_entries; i++)
		r->sq_array[i] = i;
	return 0;
}

static int ring_try(struct ring *r, unsigned entries, unsigned flags)
{
	struct iou_params p;
	int fd, ret;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	fd = sys_io_uring_setup(entries, &p);
	if (fd < 0)
		return fd;
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->enter_fd = fd;
	r->setup_flags = flags;
	r->features = p.features;
	r->cqe_shift = (flags & IORING_SETUP_CQE32) ? 1 : 0;
	ret = ring_map(r, &p);
	if (ret < 0)
		ring_exit(r);
	return ret;
}

int ring_init(struct ring *r, unsigned entries, unsigned flags, int fast)
{
	unsigned extra = 0;
	int n = fast ? 3 : 0, ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	for (int i = 0; i < n; i++)
		extra |= ring_fast_flags[i];
	/* Refused with EINVAL: drop the newest fast flag and try again. */
	while ((ret = ring_try(r, entries, flags | extra)) == -EINVAL && n > 0)
		extra &= ~ring_fast_flags[--n];
	if (ret < 0)
		return ret;

	struct iou_rsrc_update up = { .offset = (unsigned)-1, .data = (unsigned long long)r->fd };

	if (ring_register(r, IORING_REGISTER_RING_FDS, &up, 1) == 1) {
		r->enter_fd = (int)up.offset;
		r->enter_flags = IORING_ENTER_REGISTERED_RING;
	}
	return 0;
}

void ring_exit(struct ring *r)
{
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_len);
	if (r->sq_map && r->sq_map != MAP_FAILED)
		munmap(r->sq_map, r->sq_map_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

struct iou_sqe *ring_get_sqe(struct ring *r)
{
	/* The kernel advances sq_head as it consumes SQEs: acquire pairs with its release. */
	unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	struct iou_sqe *sqe;

	if (r->sqe_tail - head >= r->sq_entries)
		return NULL;
	sqe = &r->sqes[r->sqe_tail & r->sq_mask];
	r->sqe_tail++;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

int ring_submit_and_wait(struct ring *r, unsigned wait_nr)
{
	unsigned tail = *r->sq_tail;
	unsigned to_submit = r->sqe_tail - tail;
	unsigned flags = r->enter_flags;

	/* Publish the SQE contents before the tail: release pairs with the kernel's acquire. */
	__atomic_store_n(r->sq_tail, r->sqe_tail, __ATOMIC_RELEASE);
	if (wait_nr)
		flags |= IORING_ENTER_GETEVENTS;
	return sys_io_uring_enter(r->enter_fd, to_submit, wait_nr, flags);
}

unsigned ring_reap(struct ring *r, struct iou_cqe *out, unsigned max)
{
	unsigned head = *r->cq_head;
	/* CQE contents are visible once we see the tail: acquire pairs with the kernel's release. */
	unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	while (head != tail && n < max) {
		out[n++] = r->cqes[(head & r->cq_mask) << r->cqe_shift];
		head++;
	}
	/* Hand the slots back only after reading them: release pairs with the kernel's acquire. */
	__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	return n;
}
