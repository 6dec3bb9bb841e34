#!/bin/sh
# The guest's init (PID 1) for `npm run vm -- run`: the host's root is the
# guest's root, read-only over virtio-9p. Mounts what a program needs,
# makes the project writable with an overlay on tmpfs (a build or a
# results directory must not touch the host's copy), runs the command the
# host wrote into the writable share, copies the directories it was asked
# to collect back into that share, prints the status marker the host reads
# and powers off. Markers on the console: IOU-VM-UP once the command can
# start, IOU-VM-STATUS <code> when it ended.
# Kernel command line parameters it reads: iou_project=DIR (the project on
# the host, the same path here).

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

finish() {
	echo "IOU-VM-STATUS $1"
	sync
	# sysrq o: power off at once (nothing to unmount that matters: the shares are the host's).
	echo o > /proc/sysrq-trigger
	sleep 5
	exit "$1"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm 2>/dev/null
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
# Scratch space lives under /run (tmpfs). /tmp becomes writable through an
# overlay that still shows the host's /tmp, where the project, the kernel's
# libbpf or the results directory may well sit.
mkdir -p /run/iou/tmp/upper /run/iou/tmp/work /run/iou/project/upper /run/iou/project/work \
	/run/iou/out /run/iou/home
if ! mount -t overlay overlay -o lowerdir=/tmp,upperdir=/run/iou/tmp/upper,workdir=/run/iou/tmp/work /tmp; then
	echo "iou-vm: /tmp is a plain tmpfs (the overlay did not mount): the host's /tmp is not visible"
	mount -t tmpfs tmpfs /tmp
fi

project=$(sed -n 's/.*iou_project=\([^ ]*\).*/\1/p' /proc/cmdline)
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 iou_out /run/iou/out; then
	echo "iou-vm: the writable share did not mount"
	finish 125
fi
if [ -z "$project" ] || [ ! -d "$project" ]; then
	echo "iou-vm: project directory '$project' is not visible in the guest"
	finish 125
fi
if ! mount -t overlay overlay -o "lowerdir=$project,upperdir=/run/iou/project/upper,workdir=/run/iou/project/work" "$project"; then
	echo "iou-vm: the overlay over $project did not mount (CONFIG_OVERLAY_FS?)"
	finish 125
fi

HOME=/run/iou/home
NO_UPDATE_NOTIFIER=1
npm_config_update_notifier=false
npm_config_fund=false
npm_config_audit=false
npm_config_cache=/run/iou/home/.npm
CI=true
export HOME NO_UPDATE_NOTIFIER npm_config_update_notifier npm_config_fund npm_config_audit npm_config_cache CI
# IOU_VM_ACCEL, IOU_LIBBPF and the like, as the host chose them.
[ -f /run/iou/out/.vm/env ] && . /run/iou/out/.vm/env

cd "$project" || finish 125
echo "IOU-VM-UP"
sh /run/iou/out/.vm/command
status=$?
while read -r dir; do
	[ -n "$dir" ] && [ -e "$dir" ] && cp -r "$dir" /run/iou/out/.vm/collected/
done < /run/iou/out/.vm/collect
finish "$status"
