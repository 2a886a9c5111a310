#!/usr/bin/env bash
# fault_readonly.sh — a read-only state dir (root's chmod does not stop
# root, so mounts are used; needs root, skipped otherwise).  The state dir
# is a tmpfs:
#   (a) `mount -o remount,ro` under a running jobd: Linux refuses it while
#       jobd holds the store open for writing ("mount point is busy"); the
#       scenario records that, as a note.
#   (b) a read-only bind mount over the live state dir: the store's open
#       files still write, nothing new can be created there (the runs' proc
#       files, unless written through descriptors opened before): jobd
#       stays up, runs still run exactly once, and each failed proc-file
#       write is logged as a WARN naming "Read-only file system".
#   (c) jobd (re)started on the read-only state dir: exits 1 with a message
#       naming the lock file and "Read-only file system" (not "another jobd
#       uses the state directory", exit 75, as before the fix in jobd.c);
#       after the bind mount is gone it starts and every acknowledged run is
#       done exactly once.
. "$(dirname "$0")/lib.sh"

if ! is_root; then
	skip "readonly" "needs root (mount, remount,ro)"; fault_finish; exit 0
fi
mkdir -p "$T/state"
if ! mount -t tmpfs -o size=16m,mode=0700 tmpfs "$T/state" 2>"$T/mount.err"; then
	skip "readonly" "mount -t tmpfs failed: $(cat "$T/mount.err")"; fault_finish; exit 0
fi
trap 'cleanup_all' EXIT
cleanup_all() { [ -z "$JOBD_PID" ] || kill -9 "$JOBD_PID" 2>/dev/null; wait 2>/dev/null
	umount -l "$T/state" 2>/dev/null; umount -l "$T/state" 2>/dev/null; cleanup; }

jobd_start "[targets]
fault = 2"
: >"$T/ledger"
sub() { jobctl submit --target fault -- sh -c "echo $1 >>$T/ledger"; }
pre=(); for i in $(seq 1 5); do pre+=("$(sub pre$i)"); done
all_done() { for j in "$@"; do is_done "$j" || return 1; done; }
retry_until 20 all_done "${pre[@]}" || fail "the first runs end"
ok "pause the target" jobctl pause fault
waiting=(); for i in $(seq 1 5); do waiting+=("$(sub wait$i)"); done

# (a)
if mount -o remount,ro "$T/state" 2>"$T/remount.err"; then
	mount -o remount,rw "$T/state"
	echo "note: the live remount,ro succeeded"
else
	echo "note: the live remount,ro is refused: $(head -1 "$T/remount.err")"
fi
# (b)
mount --bind -o ro "$T/state" "$T/state" || { skip "readonly" "mount --bind -o ro failed"; fault_finish; exit 0; }
out=$(sub ro 2>&1); rc=$?
expect_eq "(b) a submit is acknowledged (the store's open files still write)" "$rc" 0
[ $rc -eq 0 ] && waiting+=("$out")
ok "(b) jobd stays up (status answers)" jobctl status
ok "(b) continue the target" jobctl continue fault
retry_until 20 all_done "${waiting[@]}" && pass "(b) the ${#waiting[@]} waiting runs end" ||
	fail "(b) the ${#waiting[@]} waiting runs end"
okc=0; for j in "${waiting[@]}"; do [ "$(field "$j" result)" = ok ] && okc=$((okc + 1)); done
expect_eq "(b) they are ok" "$okc" "${#waiting[@]}"
# proc files are written through the proc directory's descriptor and kept
# inodes (procfile.c), opened before the bind mount like the store's files:
# they may still be written; any write that fails is logged with its cause
pfw=$(grep 'cannot write proc file' "$T/jobd.log" | tail -1)
if [ -z "$pfw" ]; then
	pass "(b) the proc files are still written (through open descriptors)"
else
	expect_match "(b) the failed proc-file writes are logged" "$pfw" \
		'cannot write proc file .*Read-only file system'
fi
jobd_alive && pass "(b) the jobd process is alive" || fail "(b) the jobd process is alive"
# (c)
jobd_stop || fail "(b) jobd stops cleanly" "see $T/jobd.log"
out=$("$JOBD" -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "(c) jobd on a read-only state dir exits 1" "$rc" 1
expect_match "(c) the message names the lock file and the cause" "$out" \
	"cannot open $T/state/jobd.lock: Read-only file system"
umount "$T/state"
JOBD_KEEP_CONFIG=1 jobd_start
all=("${pre[@]}" "${waiting[@]}")
found=0; for j in "${all[@]}"; do is_done "$j" && found=$((found + 1)); done
expect_eq "(c) after the restart all ${#all[@]} acknowledged runs are done" "$found" "${#all[@]}"
expect_eq "(c) the ledger holds each run exactly once" "$(sort "$T/ledger" | tr '\n' ' ')" \
	"$( (seq 1 5 | sed 's/^/pre/'; seq 1 5 | sed 's/^/wait/'; echo ro) | sort | tr '\n' ' ')"
ok "(c) a new submit works" jobctl submit --wait -- true
fault_finish
