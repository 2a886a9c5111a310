#!/usr/bin/env bash
# fault_disk_full.sh — the state dir on a 2 MiB tmpfs, filled until the
# store's writes fail (needs root for the mount; skipped otherwise):
#   - jobd stays up and answers;
#   - a new submit is refused: jobctl exits non-zero with a message that
#     names the store or the disk;
#   - every run acknowledged before (also during the filling) is still
#     found, and after the space is freed runs to done/ok exactly once;
#   - new submits work again.
. "$(dirname "$0")/lib.sh"

if ! is_root; then
	skip "disk_full" "needs root (mount -t tmpfs)"; fault_finish; exit 0
fi
mkdir -p "$T/state"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$T/state" 2>"$T/mount.err"; then
	skip "disk_full" "mount -t tmpfs failed: $(cat "$T/mount.err")"; fault_finish; exit 0
fi
trap 'cleanup_all' EXIT
cleanup_all() { [ -z "$JOBD_PID" ] || kill -9 "$JOBD_PID" 2>/dev/null; wait 2>/dev/null
	umount -l "$T/state" 2>/dev/null; cleanup; }

jobd_start "[targets]
fault = 2"
: >"$T/ledger"
acked=()
sub() { jobctl submit --target fault -- sh -c "echo $1 >>$T/ledger"; }
for i in $(seq 1 10); do acked+=("$(sub pre$i)"); done
ok "pause the target (the later runs wait)" jobctl pause fault
# fill: a file as large as the space left, then submits until one fails
dd if=/dev/zero of="$T/state/filler" bs=64k 2>/dev/null
pre=("${acked[@]}")
refused=""; for i in $(seq 1 50); do
	out=$(sub fill$i 2>&1); rc=$?
	if [ $rc -ne 0 ]; then refused="$rc $out"; break; fi
	acked+=("$out")
done
echo "filled: $(df -k --output=avail "$T/state" | tail -1) KiB left, $((${#acked[@]} - ${#pre[@]})) acked while full, refused: ${refused:-none}"
ok "jobd stays up (status answers)" jobctl status
jobd_alive && pass "the jobd process is alive" || fail "the jobd process is alive"
grep -q 'commit failed: database or disk is full' "$T/jobd.log" &&
	pass "the store's writes do fail (the disk is full)" ||
	fail "the store's writes do fail (the disk is full)"
found=0; for j in "${pre[@]}"; do jobctl lookup "$j" >/dev/null 2>&1 && found=$((found + 1)); done
expect_eq "every run acknowledged before the disk filled is found while full" "$found" "${#pre[@]}"

# A submit whose group commit fails is refused, never acknowledged: the
# reply becomes an error naming the store, the rolled-back run is
# forgotten, and everything acknowledged runs once.
[ -n "$refused" ] && pass "a submit on a full disk is refused" ||
	fail "a submit on a full disk is refused" "50 submits all succeeded"
rc=${refused%% *}; msg=${refused#* }
[ -n "$refused" ] && [ "$rc" != 0 ] && [ "$rc" != 69 ] &&
	pass "the refusal exits non-zero, not 'unreachable' (exit $rc)" ||
	fail "the refusal exits non-zero, not 'unreachable' (exit $rc)" "$msg"
expect_match "the message names the store or the disk" "$msg" \
	'([Ss]tore|[Dd]isk|database|space|full)'
must=("${acked[@]}")

rm -f "$T/state/filler"
out=$(sub after 2>&1); rc=$?
expect_eq "after freeing space a submit is acknowledged" "$rc" 0
[ $rc -eq 0 ] && must+=("$out")
after_jid=$out
ok "continue the target" jobctl continue fault
all_done() { for j in "${must[@]}"; do is_done "$j" || return 1; done; }
retry_until 60 all_done && pass "all ${#must[@]} runs that must run end" ||
	fail "all ${#must[@]} runs that must run end" "$(for j in "${must[@]}"; do is_done "$j" || echo "$j $(field "$j" status)"; done | head)"
okc=0; for j in "${must[@]}"; do [ "$(field "$j" result)" = ok ] && okc=$((okc + 1)); done
expect_eq "they are ok" "$okc" "${#must[@]}"
toks="$(seq 1 10 | sed 's/^/pre/')
$(seq 1 $((${#acked[@]} - ${#pre[@]})) | sed 's/^/fill/')
after"
expect_eq "the ledger holds each acknowledged run exactly once, nothing else" \
	"$(sort "$T/ledger")" "$(grep -v '^$' <<<"$toks" | sort)"
expect_eq "nothing in the ledger twice" "$(sort "$T/ledger" | uniq -d)" ""
[ -z "${FAULT_DEBUG:-}" ] || { jobctl lookup --json "$after_jid"; jobctl runs --limit 100; }
ok "jobd still answers" jobctl status
jobd_stop || fail "jobd exits cleanly" "see $T/jobd.log"
fault_finish
