/* SPDX-License-Identifier: MIT */
/*
 * A real struct_ops attach and detach on the stock kernel, for the
 * registration lane: tcp_congestion_ops, the struct_ops type a stock
 * kernel lets root load and attach through a link. Its ->reg() is
 * tcp_register_congestion_control() (net/ipv4/bpf_tcp_ca.c): a global list
 * keyed by name under a spinlock; its ->unreg(),
 * tcp_unregister_congestion_control() (net/ipv4/tcp_cong.c), deletes from
 * that list and waits in synchronize_rcu(). So it is a global registry
 * with a grace period on unregister: v1's shape without the ring locks.
 * Raw bpf(2), no libbpf: three minimal programs (ssthresh, cong_avoid,
 * undo_cwnd, the members tcp_validate_congestion_control() requires), a
 * BPF_MAP_TYPE_STRUCT_OPS map with BPF_F_LINK holding them, then
 * BPF_LINK_CREATE (->reg) and BPF_LINK_DETACH + close (->unreg), timed.
 */
#ifndef IOU_STRUCT_OPS_H
#define IOU_STRUCT_OPS_H

#include <stddef.h>

/* What the kernel's BTF says about tcp_congestion_ops (lib/btf.ts reads it). */
struct tcp_ca_btf {
	int ops_type;		/* type id of struct tcp_congestion_ops: the programs' attach_btf_id */
	int value_type;		/* type id of struct bpf_struct_ops_tcp_congestion_ops: the map's value */
	int value_size;
	int data_off;		/* offset of `data` (the tcp_congestion_ops) in the value */
	int name_off;		/* offset of `name` in tcp_congestion_ops */
	int member_index[3];	/* ssthresh, cong_avoid, undo_cwnd: the programs' expected_attach_type */
	int member_off[3];
};

struct tcp_ca_ops {
	int prog_fds[3];
	int map_fd;
	int btf_fd;		/* a minimal program BTF the map create wants */
	int link_fd;		/* while attached, else -1 */
	int detach_cmd;		/* 1: BPF_LINK_DETACH works; 0: close alone detaches */
	char name[16];
	char error[256];
};

/* Loads the programs and fills the map; 0, or -errno with `error` set. */
int tcp_ca_open(struct tcp_ca_ops *s, const struct tcp_ca_btf *btf);
void tcp_ca_close(struct tcp_ca_ops *s);
/* BPF_LINK_CREATE: the ->reg(). 0 or -errno. */
int tcp_ca_attach(struct tcp_ca_ops *s);
/* BPF_LINK_DETACH (when the kernel has it for struct_ops) and close of the link: the ->unreg(). 0 or -errno. */
int tcp_ca_detach(struct tcp_ca_ops *s);
/* Whether the name is in /proc/sys/net/ipv4/tcp_available_congestion_control: 1, 0, or -errno. */
int tcp_ca_listed(const struct tcp_ca_ops *s);
/* `reps` attach/detach cycles, each timed alone; 0 or the first -errno. */
int tcp_ca_time(struct tcp_ca_ops *s, int reps, double *attach_ns, double *detach_ns);

#endif
