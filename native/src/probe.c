// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"
#include "ring.h"

/* Setup flags worth reporting, each with what it needs alongside. */
static const struct {
	unsigned bit;
	unsigned with;
} setup_tests[] = {
	{ 0, 0 },		/* IOPOLL */
	{ 1, 0 },		/* SQPOLL */
	{ 8, 0 },		/* COOP_TASKRUN */
	{ 9, IORING_SETUP_COOP_TASKRUN },	/* TASKRUN_FLAG */
	{ 10, 0 },		/* SQE128 */
	{ 11, 0 },		/* CQE32 */
	{ 12, 0 },		/* SINGLE_ISSUER */
	{ 13, IORING_SETUP_SINGLE_ISSUER },	/* DEFER_TASKRUN */
	{ 16, 0 },		/* NO_SQARRAY */
	{ 18, 0 },		/* CQE_MIXED */
	{ 19, 0 },		/* SQE_MIXED */
	{ 20, 0 },		/* v1 BPF / v2 BPF_OP / SQ_REWIND */
	{ 21, 0 },		/* v3 BPF_EXT */
};

int probe_nop_once(unsigned nop_flags, unsigned sqe_flags, unsigned ring_flags, unsigned len)
{
	static char buf[4096];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct iou_cqe cqe;
	struct iou_sqe *sqe;
	struct ring r;
	int fd, ret;

	ret = ring_init(&r, 4, ring_flags, 0);
	if (ret < 0)
		return ret;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	/* Failures here show up as the NOP's own result, which is what we report. */
	ring_register(&r, IORING_REGISTER_FILES, &fd, 1);
	ring_register(&r, IORING_REGISTER_BUFFERS, &iov, 1);
	sqe = ring_get_sqe(&r);
	sqe->opcode = IORING_OP_NOP;
	sqe->nop_flags = nop_flags;
	sqe->flags = sqe_flags;
	sqe->fd = (nop_flags & IORING_NOP_FIXED_FILE) ? 0 : fd;
	sqe->len = len;
	sqe->user_data = 0x10;
	ret = ring_submit_and_wait(&r, 1);
	if (ret >= 0)
		ret = ring_reap(&r, &cqe, 1) == 1 ? cqe.res : -EIO;
	close(fd);
out:
	ring_exit(&r);
	return ret;
}

static void probe_ops(struct probe_result *p, struct ring *r)
{
	size_t len = sizeof(struct iou_probe) + 256 * sizeof(struct iou_probe_op);
	struct iou_probe *probe = calloc(1, len);
	int ret;

	if (!probe) {
		p->probe_errno = ENOMEM;
		return;
	}
	ret = ring_register(r, IORING_REGISTER_PROBE, probe, 256);
	if (ret < 0) {
		p->probe_errno = -ret;
	} else {
		p->last_op = probe->last_op;
		for (unsigned i = 0; i < probe->ops_len; i++)
			if (probe->ops[i].flags & IO_URING_OP_SUPPORTED)
				p->op_supported[probe->ops[i].op] = 1;
	}
	free(probe);
}

int probe_run(struct probe_result *p)
{
	struct ring r;
	int ret;

	memset(p, 0, sizeof(*p));
	p->last_op = -1;
	ret = ring_init(&r, 4, 0, 1);
	if (ret < 0) {
		p->setup_errno = -ret;
		return ret;
	}
	p->features = r.features;
	p->fast_flags = r.setup_flags;
	p->registered_ring = r.enter_flags != 0;
	probe_ops(p, &r);
	ring_exit(&r);

	for (unsigned i = 0; i < PROBE_NOP_FLAG_BITS; i++) {
		unsigned flag = 1U << i, nop = flag, ring_flags = 0;

		if (flag == IORING_NOP_FIXED_FILE)
			nop |= IORING_NOP_FILE;
		if (flag == IORING_NOP_CQE32)
			ring_flags = IORING_SETUP_CQE32;
		p->nop_res[i] = probe_nop_once(nop, 0, ring_flags, 0);
	}
	p->nop_unknown_res = probe_nop_once(PROBE_UNKNOWN_NOP_FLAG, 0, 0, 0);

	for (unsigned i = 0; i < PROBE_SETUP_BITS; i++)
		p->setup_res[i] = 1;
	for (size_t i = 0; i < sizeof(setup_tests) / sizeof(setup_tests[0]); i++) {
		struct iou_params params;
		int fd;

		memset(&params, 0, sizeof(params));
		params.flags = (1U << setup_tests[i].bit) | setup_tests[i].with;
		fd = sys_io_uring_setup(4, &params);
		if (fd >= 0)
			close(fd);
		p->setup_res[setup_tests[i].bit] = fd < 0 ? fd : 0;
	}
	return 0;
}
