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
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null

project=$(sed -n 's/.*iou_project=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /tmp/iou-out
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 iou_out /tmp/iou-out; then
	echo "iou-vm: the writable share did not mount"
	finish 125
fi
if [ -z "$project" ] || [ ! -d "$project" ]; then
	echo "iou-vm: project directory '$project' is not visible in the guest"
	finish 125
fi
mkdir -p /tmp/overlay/upper /tmp/overlay/work /tmp/home
if ! mount -t overlay overlay -o "lowerdir=$project,upperdir=/tmp/overlay/upper,workdir=/tmp/overlay/work" "$project"; then
	echo "iou-vm: the overlay over $project did not mount (CONFIG_OVERLAY_FS?)"
	finish 125
fi

HOME=/tmp/home
NO_UPDATE_NOTIFIER=1
npm_config_update_notifier=false
npm_config_fund=false
npm_config_audit=false
npm_config_cache=/tmp/home/.npm
CI=true
export HOME NO_UPDATE_NOTIFIER npm_config_update_notifier npm_config_fund npm_config_audit npm_config_cache CI
# IOU_VM_ACCEL, IOU_LIBBPF and the like, as the host chose them.
[ -f /tmp/iou-out/.vm/env ] && . /tmp/iou-out/.vm/env

cd "$project" || finish 125
echo "IOU-VM-UP"
sh /tmp/iou-out/.vm/command
status=$?
while read -r dir; do
	[ -n "$dir" ] && [ -e "$dir" ] && cp -r "$dir" /tmp/iou-out/.vm/collected/
done < /tmp/iou-out/.vm/collect
finish "$status"
