#!/usr/bin/env bash
# test_statedir.sh — the state directory is nobody else's business: 0700
# with 0600 files (0750/0640 and the group with socket_group); an older
# install's 0755/0644 is fixed at start with a log line; a local user
# cannot read a run's output or environment.
. "$(dirname "$0")/lib.sh"

mode() { stat -c %a "$1"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

jobd_start
jid=$(jobctl submit --env SECRET=hunter2 -- sleep 30)
retry_until 10 test -s "$T/state/proc/$jid"
expect_eq "state dir is 0700" "$(mode "$T/state")" 700
expect_eq "proc dir is 0700" "$(mode "$T/state/proc")" 700
expect_eq "a proc file is 0600" "$(mode "$T/state/proc/$jid")" 600
expect_eq "jobd.db is 0600" "$(mode "$T/state/jobd.db")" 600
expect_eq "jobd.db-wal is 0600" "$(mode "$T/state/jobd.db-wal")" 600
expect_eq "jobd.lock is 0600" "$(mode "$T/state/jobd.lock")" 600
chmod 0755 "$T"                    # the temp dir itself: open to all
out=$(as_nobody cat "$T/state/proc/$jid" 2>&1); rc=$?
expect_eq "another user cannot read a proc file" "$rc" 1
out=$(as_nobody head -c 16 "$T/state/jobd.db" 2>&1); rc=$?
expect_eq "another user cannot read the store" "$rc" 1
jobctl kill "$jid" >/dev/null
jobd_stop

# an older install: everything readable; fixed at the next start
chmod 0755 "$T/state" "$T/state/proc"
chmod 0644 "$T/state/jobd.db" "$T/state/jobd.lock"
: > "$T/jobd.log"
jobd_start
expect_eq "an old 0755 state dir is fixed" "$(mode "$T/state")" 700
expect_eq "an old 0644 jobd.db is fixed" "$(mode "$T/state/jobd.db")" 600
expect_match "... and the fix is logged" "$(cat "$T/jobd.log")" "state: $T/state was mode 0755, now 0700"
jobd_stop

# socket_group: the group may reach the socket and read, no one else
groupadd -r jobdtst$$ 2>/dev/null
useradd -r -M -N -g nogroup -G jobdtst$$ jobdtu$$ 2>/dev/null
trap 'userdel jobdtu$$ 2>/dev/null; groupdel jobdtst$$ 2>/dev/null; cleanup' EXIT
jobd_start "socket_group = jobdtst$$"
jid=$(jobctl submit -- sleep 30)
retry_until 10 test -s "$T/state/proc/$jid"
expect_eq "with socket_group: state dir 2750" "$(mode "$T/state")" 2750
expect_eq "... its group is socket_group" "$(stat -c %G "$T/state")" "jobdtst$$"
expect_eq "... a proc file 0640 of that group" \
	"$(stat -c '%a %G' "$T/state/proc/$jid")" "640 jobdtst$$"
ok "... a member of the group reaches the socket" \
	setpriv --reuid="jobdtu$$" --regid=nogroup --init-groups "$JOBCTL" status
out=$(as_nobody "$JOBCTL" status 2>&1); rc=$?
expect_eq "... a user outside it does not (exit 77)" "$rc" 77
jobctl kill "$jid" >/dev/null
jobd_stop

# a shared directory is refused, never chmod'ed
mkdir -p "$T/shared"; chmod 1777 "$T/shared"
write_config; sed -i "s|^state_dir = .*|state_dir = $T/shared|" "$T/jobd.conf"
out=$(timeout 10 "$JOBD" -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "a sticky shared state dir is refused (exit 2)" "$rc" 2
expect_match "... saying why" "$out" "shared \(sticky"
expect_eq "... and left as it was" "$(mode "$T/shared")" 1777
finish
