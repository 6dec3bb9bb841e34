// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "struct_ops.h"

/* Newer than some distributions' uapi headers: include/uapi/linux/bpf.h. */
#define IOU_BPF_F_LINK (1U << 13)
#define IOU_BPF_STRUCT_OPS 44	/* enum bpf_attach_type, after BPF_LSM_CGROUP (43) */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* r0 = 2; exit: a cwnd for ssthresh/undo_cwnd, ignored by cong_avoid (void). */
static const struct bpf_insn return_two[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 2 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static char verifier_log[16384];

/* The verifier's verdict: the last line of its log that is not its closing statistics. */
static const char *last_line(char *log)
{
	char *line = log, *save = NULL;

	for (char *tok = strtok_r(log, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save))
		if (strncmp(tok, "processed ", 10) != 0 && strncmp(tok, "verification time", 17) != 0 &&
		    strncmp(tok, "stack depth", 11) != 0)
			line = tok;
	return line;
}

static int prog_load(struct tcp_ca_ops *s, const struct tcp_ca_btf *btf, int member)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_STRUCT_OPS;
	a.expected_attach_type = (__u32)btf->member_index[member];
	a.attach_btf_id = (__u32)btf->ops_type;
	a.insns = (__u64)(unsigned long)return_two;
	a.insn_cnt = sizeof(return_two) / sizeof(return_two[0]);
	a.license = (__u64)(unsigned long)"GPL";
	verifier_log[0] = '\0';
	a.log_buf = (__u64)(unsigned long)verifier_log;
	a.log_size = sizeof(verifier_log);
	a.log_level = 1;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);

	if (fd < 0) {
		int e = errno;

		snprintf(s->error, sizeof(s->error), "struct_ops program load refused: %s%s%.160s", strerror(e),
			 verifier_log[0] ? ": " : "", last_line(verifier_log));
		return -e;
	}
	return fd;
}

/*
 * The smallest BTF the kernel takes (one 32-bit int): map_create() wants a
 * program BTF fd with every btf_vmlinux_value_type_id ("the bpf_prog.o must
 * have BTF to begin with", kernel/bpf/syscall.c), though a struct_ops map
 * uses only the kernel's types.
 */
static int btf_load_minimal(void)
{
	struct {
		__u16 magic;
		__u8 version, flags;
		__u32 hdr_len, type_off, type_len, str_off, str_len;
		__u32 int_name, int_info, int_size, int_bits;
		char strings[5];
	} __attribute__((packed)) blob = {
		.magic = 0xeb9f, .version = 1, .hdr_len = 24, .type_off = 0, .type_len = 16, .str_off = 16,
		.str_len = 5, .int_name = 1, .int_info = 1u << 24 /* BTF_KIND_INT */, .int_size = 4,
		.int_bits = 32, .strings = "\0int",
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.btf = (__u64)(unsigned long)&blob;
	a.btf_size = sizeof(blob);
	int fd = sys_bpf(BPF_BTF_LOAD, &a);

	return fd < 0 ? -errno : fd;
}

int tcp_ca_open(struct tcp_ca_ops *s, const struct tcp_ca_btf *btf)
{
	union bpf_attr a;
	int ret;

	memset(s, 0, sizeof(*s));
	s->map_fd = s->link_fd = s->btf_fd = -1;
	for (int i = 0; i < 3; i++)
		s->prog_fds[i] = -1;
	/* tcp_ca names are global: the pid and a sequence number, so two opens never collide (TCP_CA_NAME_MAX 16). */
	static int seq;

	snprintf(s->name, sizeof(s->name), "iou_%d_%d", (int)getpid() % 100000, seq++ % 100);
	for (int i = 0; i < 3; i++) {
		s->prog_fds[i] = prog_load(s, btf, i);
		if (s->prog_fds[i] < 0) {
			ret = s->prog_fds[i];
			goto fail;
		}
	}
	s->btf_fd = btf_load_minimal();
	if (s->btf_fd < 0) {
		ret = s->btf_fd;
		snprintf(s->error, sizeof(s->error), "BTF load refused: %s", strerror(-ret));
		goto fail;
	}
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_STRUCT_OPS;
	a.btf_fd = (__u32)s->btf_fd;
	a.key_size = 4;
	a.value_size = (__u32)btf->value_size;
	a.max_entries = 1;
	a.map_flags = IOU_BPF_F_LINK;
	a.btf_vmlinux_value_type_id = (__u32)btf->value_type;
	s->map_fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (s->map_fd < 0) {
		ret = -errno;
		snprintf(s->error, sizeof(s->error), "struct_ops map create refused: %s", strerror(-ret));
		goto fail;
	}
	unsigned char *value = calloc(1, (size_t)btf->value_size);
	unsigned key = 0;

	if (!value) {
		ret = -ENOMEM;
		goto fail;
	}
	/* The value's tcp_congestion_ops: the name and three program fds; everything else must be zero. */
	memcpy(value + btf->data_off + btf->name_off, s->name, strlen(s->name) + 1);
	for (int i = 0; i < 3; i++) {
		__u64 fd = (__u64)s->prog_fds[i];

		memcpy(value + btf->data_off + btf->member_off[i], &fd, sizeof(fd));
	}
	memset(&a, 0, sizeof(a));
	a.map_fd = (__u32)s->map_fd;
	a.key = (__u64)(unsigned long)&key;
	a.value = (__u64)(unsigned long)value;
	ret = sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0 ? -errno : 0;
	free(value);
	if (ret < 0) {
		snprintf(s->error, sizeof(s->error), "struct_ops map update refused: %s", strerror(-ret));
		goto fail;
	}
	s->detach_cmd = 1;
	return 0;
fail:
	tcp_ca_close(s);
	return ret;
}

void tcp_ca_close(struct tcp_ca_ops *s)
{
	if (s->link_fd >= 0)
		close(s->link_fd);
	if (s->map_fd >= 0)
		close(s->map_fd);
	if (s->btf_fd >= 0)
		close(s->btf_fd);
	for (int i = 0; i < 3; i++)
		if (s->prog_fds[i] >= 0)
			close(s->prog_fds[i]);
	s->link_fd = s->map_fd = s->btf_fd = -1;
	for (int i = 0; i < 3; i++)
		s->prog_fds[i] = -1;
}

int tcp_ca_attach(struct tcp_ca_ops *s)
{
	union bpf_attr a;

	if (s->link_fd >= 0)
		return -EBUSY;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)s->map_fd;	/* map_fd for struct_ops: the same field */
	a.link_create.attach_type = IOU_BPF_STRUCT_OPS;
	s->link_fd = sys_bpf(BPF_LINK_CREATE, &a);
	if (s->link_fd < 0) {
		int e = errno;

		s->link_fd = -1;
		snprintf(s->error, sizeof(s->error), "struct_ops link create refused: %s", strerror(e));
		return -e;
	}
	return 0;
}

int tcp_ca_detach(struct tcp_ca_ops *s)
{
	union bpf_attr a;
	int ret = 0;

	if (s->link_fd < 0)
		return -ENOENT;
	if (s->detach_cmd) {
		memset(&a, 0, sizeof(a));
		a.link_detach.link_fd = (__u32)s->link_fd;
		if (sys_bpf(BPF_LINK_DETACH, &a) < 0) {
			ret = -errno;
			/* Older kernels have no ->detach for struct_ops links: the close below detaches. */
			if (ret == -EOPNOTSUPP || ret == -EINVAL) {
				s->detach_cmd = 0;
				ret = 0;
			}
		}
	}
	close(s->link_fd);
	s->link_fd = -1;
	return ret;
}

int tcp_ca_listed(const struct tcp_ca_ops *s)
{
	char buf[4096], *tok, *save = NULL;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "r");

	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, s->name) == 0)
			return 1;
	return 0;
}

int tcp_ca_time(struct tcp_ca_ops *s, int reps, double *attach_ns, double *detach_ns)
{
	for (int i = 0; i < reps; i++) {
		long long t0 = clock_now_ns();
		int ret = tcp_ca_attach(s);
		long long t1 = clock_now_ns();

		if (ret < 0)
			return ret;
		ret = tcp_ca_detach(s);
		long long t2 = clock_now_ns();

		if (ret < 0)
			return ret;
		attach_ns[i] = (double)(t1 - t0);
		detach_ns[i] = (double)(t2 - t1);
	}
	return 0;
}
