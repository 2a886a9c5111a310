#!/usr/bin/env bash
# test_ninep_kernel.sh — the Linux kernel's own 9p client against jobd.
# This machine's kernel has no 9p (/proc/filesystems), so the test boots
# Debian's kernel (package linux-image-amd64) under qemu-system-x86_64
# (TCG, no KVM needed) with a tiny initramfs (a static busybox and the
# kernel's e1000, netfs, fscache, 9pnet, 9pnet_fd and 9p modules).  The
# guest mounts jobd's 9P over qemu's user network (the guest's 10.0.2.2 is
# the host's loopback, so jobd sees a loopback peer):
#   mount -t 9p -o trans=tcp,port=P,version=9p2000.L,aname=TOKEN 10.0.2.2 /mnt
# (the token: a loopback attach without it may not create jobs)
# makes a job through /mnt/clone, starts it with `echo start > ctl`, waits
# for its runs, stops it, reads its log (`timeout 3 cat log`: the read at
# the end blocks), pauses a target, removes the job with rmdir, and prints
# the session on the serial console, which the test captures and checks
# (with jobctl on the host for the effects).  KERNEL_SESSION=FILE keeps the
# session's text (docs/9p.md shows one).
# Needs qemu-system-x86_64; the kernel and busybox-static come from the
# system (/boot, /lib/modules, /bin/busybox when static) or are fetched once
# with `apt-get download` into $JOBD_KERNEL_CACHE (/var/tmp/jobd-kernel).
# Skipped, with the reason, when any of these is missing.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
skip() { echo "note: $*; skipped"; finish; exit 0; }
# the sanitizer pass: the same server code; the emulated boot is what costs
[ "$(basename "${JOBD_BUILD:-build}")" != build-san ] ||
	skip "sanitizer build (the normal pass mounts the kernel)"
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 missing (Debian package qemu-system-x86)"
CACHE=${JOBD_KERNEL_CACHE:-/var/tmp/jobd-kernel}

# ---- the kernel, its modules, a static busybox ----
# fetch PKG: downloads and unpacks PKG into $CACHE/PKG (once)
fetch() {
	[ -d "$CACHE/$1" ] && return 0
	mkdir -p "$CACHE/dl" && (cd "$CACHE/dl" && apt-get download "$1" >/dev/null 2>&1) &&
		dpkg-deb -x "$CACHE/dl/$1"_*.deb "$CACHE/$1.tmp" && mv "$CACHE/$1.tmp" "$CACHE/$1" &&
		rm -f "$CACHE/dl/$1"_*.deb
}
KROOT=""
for v in /boot/vmlinuz-*; do
	ver=${v#/boot/vmlinuz-}
	[ -f "/lib/modules/$ver/kernel/fs/9p/9p.ko" ] && { KROOT=/; KVER=$ver; break; }
done
if [ -z "$KROOT" ]; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	[ -n "$kpkg" ] || skip "no kernel with 9p here and apt-cache knows no linux-image-amd64"
	fetch "$kpkg" || skip "could not fetch $kpkg with apt-get download"
	KROOT=$CACHE/$kpkg
	KVER=$(basename "$(ls -d "$KROOT"/lib/modules/*)")
fi
BUSYBOX=/bin/busybox
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	fetch busybox-static || skip "could not fetch busybox-static with apt-get download"
	BUSYBOX=$CACHE/busybox-static/bin/busybox
fi
MODS=$KROOT/lib/modules/$KVER/kernel

# ---- jobd ----
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=tok$RANDOM$RANDOM
jobd_start "ninep_listen = 127.0.0.1:$PORT
ninep_token = $TOKEN"
retry_until 10 python3 "$HERE/ninep.py" --addr "127.0.0.1:$PORT" ls / ||
	{ fail "jobd's 9P port answers" "$(tail -5 "$T/jobd.log")"; finish; exit 1; }

# ---- the initramfs ----
R=$T/initramfs
mkdir -p "$R/bin" "$R/mods" "$R/proc" "$R/sys" "$R/dev" "$R/mnt" "$R/tmp"
cp "$BUSYBOX" "$R/bin/busybox"
for m in drivers/net/ethernet/intel/e1000/e1000 fs/netfs/netfs fs/fscache/fscache \
	net/9p/9pnet net/9p/9pnet_fd fs/9p/9p; do
	cp "$MODS/$m.ko" "$R/mods/" || skip "module $m missing from kernel $KVER"
done
cat >"$R/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in e1000 netfs fscache 9pnet 9pnet_fd 9p; do insmod /mods/$m.ko; done
ip link set lo up; ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
PORT=$(sed -n 's/.*ninep_port=\([0-9]*\).*/\1/p' /proc/cmdline)
TOKEN=$(sed -n 's/.*ninep_token=\([a-z0-9]*\).*/\1/p' /proc/cmdline)
say() { echo "# $*"; sh -c "$*" 2>&1; }
echo "==== session start"
say "mount -t 9p -o trans=tcp,port=$PORT,version=9p2000.L,aname=$TOKEN 10.0.2.2 /mnt"
say "ls /mnt"
say "echo 'kj:* * * * * *:echo hello from a run' > /mnt/clone"
say "ls /mnt/jobs"
say "ls -l /mnt/jobs/kj"
say "cat /mnt/jobs/kj/cmd"
say "cat /mnt/jobs/kj/ctl"
say "echo start > /mnt/jobs/kj/ctl"
say "cat /mnt/jobs/kj/ctl"
say "cat /mnt/jobs/kj/schedule"
i=0
while [ "$(ls /mnt/jobs/kj/runs | wc -l)" -lt 2 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
say "echo stop > /mnt/jobs/kj/ctl"
say "ls /mnt/jobs/kj/runs | head -2"
say 'cat /mnt/jobs/kj/runs/$(ls /mnt/jobs/kj/runs | head -1)/stdout'
say "timeout 3 cat /mnt/jobs/kj/log"
say "echo pause > /mnt/targets/default/ctl"
say "echo 'bad name:* * * * *:true' > /mnt/clone"
say "rmdir /mnt/jobs/kj"
say "ls /mnt/jobs"
say "umount /mnt"
echo "==== session end"
poweroff -f
EOF
chmod +x "$R/init"
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$T/initramfs.gz"

# ---- boot ----
timeout 600 qemu-system-x86_64 -accel tcg -m 256 -smp 1 -no-reboot -display none \
	-kernel "$KROOT/boot/vmlinuz-$KVER" -initrd "$T/initramfs.gz" \
	-append "console=ttyS0 quiet panic=-1 ninep_port=$PORT ninep_token=$TOKEN" \
	-nic user,model=e1000 -serial "file:$T/console.log" -monitor none \
	>"$T/qemu.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "qemu ran to the guest's poweroff" "exit $rc" "$(tail -5 "$T/qemu.log")"
session=$(sed -n '/^==== session start/,/^==== session end/p' "$T/console.log" | tr -d '\r')
echo "$session" | sed 's/^/  guest: /'
[ -z "${KERNEL_SESSION:-}" ] || printf '%s\n' "$session" >"$KERNEL_SESSION"
[ -n "$session" ] || fail "the guest printed its session" "$(tail -30 "$T/console.log")"

# after ANCHOR_LINE, the guest's output up to the next "# " line
after() { awk -v a="# $1" '$0 == a { on = 1; next } /^# / { on = 0 } on' <<<"$session"; }
expect_eq "kernel: mount -t 9p trans=tcp version=9p2000.L" "$(after "mount -t 9p -o trans=tcp,port=$PORT,version=9p2000.L,aname=$TOKEN 10.0.2.2 /mnt")" ""
expect_eq "kernel: ls /mnt" "$(after "ls /mnt" | tr -s ' \n' ' ' | sed 's/ $//')" "clone jobs targets"
expect_eq "kernel: echo > clone" "$(after "echo 'kj:* * * * * *:echo hello from a run' > /mnt/clone")" ""
expect_match "kernel: the job is in ls /mnt/jobs" "$(after "ls /mnt/jobs")" "kj"
expect_match "kernel: ls -l shows ctl rw for all" "$(after "ls -l /mnt/jobs/kj")" '-rw-rw-rw- .* ctl'
expect_eq "kernel: cat cmd" "$(after "cat /mnt/jobs/kj/cmd")" "echo hello from a run"
expect_eq "kernel: echo start > ctl (with its newline)" "$(after "echo start > /mnt/jobs/kj/ctl")" ""
expect_eq "kernel: cat ctl says started" "$(after "cat /mnt/jobs/kj/ctl" | tail -1)" "started"
expect_match "kernel: schedule expr:next" "$(after "cat /mnt/jobs/kj/schedule")" '^\* \* \* \* \* \*:'
expect_match "kernel: a run's stdout" "$(after 'cat /mnt/jobs/kj/runs/$(ls /mnt/jobs/kj/runs | head -1)/stdout')" "^hello from a run$"
log=$(after "timeout 3 cat /mnt/jobs/kj/log")
expect_match "kernel: log: started" "$log" ':started'
expect_match "kernel: log: a run's line" "$log" ':hello from a run'
expect_match "kernel: log: completed" "$log" ':completed'
# docs/9p.md: Linux's client reads on past the end-of-file a read at the
# end gives once, so through a kernel mount `cat log` follows the log as
# tail -f does: the job is stopped, no line comes, timeout ends it
expect_eq "kernel: cat log follows the log (a read at its end waits)" "$(grep -c Terminated <<<"$log")" "1"
expect_match "kernel: a bad clone write: the error reaches the shell" \
	"$(after "echo 'bad name:* * * * *:true' > /mnt/clone")" '.'
expect_eq "kernel: rmdir of the job" "$(after "rmdir /mnt/jobs/kj")" ""
expect_code 4 "kernel: rmdir deleted the job (jobctl show)" jobctl show kj
expect_eq "kernel: pause through the target's ctl (jobctl targets)" \
	"$(jobctl targets | awk '$1 == "default" { print $5 }')" "yes"

finish
