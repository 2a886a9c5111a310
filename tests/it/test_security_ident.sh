#!/usr/bin/env bash
# test_security_ident.sh — who a run runs as: a user of the socket may run
# commands only as itself and with its own groups; unknown users and groups
# are refused at create/submit; cwd is entered as the run's user; runs that
# fail before their command starts end `fail` once, also across a restart.
# Needs root (a throw-away user and groups); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; skipped"
	finish
	exit 0
fi
U=jobdid$$; G=jobdidg$$; X=jobdidx$$
trap 'cleanup; userdel "$U" 2>/dev/null; groupdel "$G" 2>/dev/null; groupdel "$X" 2>/dev/null' EXIT
groupadd -r "$G" && groupadd -r "$X" && useradd -M -r -s /bin/sh -G "$G" "$U" ||
	{ fail "make the test user and groups"; finish; exit 1; }
uid=$(id -u "$U"); ggid=$(getent group "$G" | cut -d: -f3)
# the user must reach the socket: the state dir's parent is traversable, the
# socket belongs to the user's group
chmod 711 "$T"
as_user() { setpriv --reuid="$U" --regid="$U" --init-groups "$JOBCTL" "$@"; }
field() { jobctl lookup --json "$1" 2>/dev/null | jq -r ".run.$2"; }
is_ended() { case "$(field "$1" status)" in done|fail|failed|timeout|killed) return 0;; esac; return 1; }

jobd_start "socket_group = $G"
ok "the user reaches jobd" as_user status

# ---- 1. only the caller's own user and groups -------------------------------
for g in root "$X"; do
	expect_code 77 "user: create --group $g (not a member) exits 77" \
		as_user create "g_$g" --group "$g" -- id -g
	expect_match "user: the refusal names group $g" \
		"$(as_user create "g_$g" --group "$g" -- id -g 2>&1)" "group '$g'"
done
expect_code 4 "the refused job was not created" jobctl show g_root
expect_code 77 "user: create --user root exits 77" as_user create u_root --user root -- id -u
expect_match "user: the refusal names the user" \
	"$(as_user create u_root --user root -- id -u 2>&1)" "user 'root'"
expect_code 77 "user: submit --user root exits 77" as_user submit --user root --cwd / -- id -u
ok "user: create --user (itself) is allowed" as_user create u_self --user "$U" --cwd / -- id -u
ok "user: create --group (a member) is allowed" as_user create g_own --group "$G" --cwd / -- id -g
as_user run g_own >/dev/null 2>&1
jid=$(as_user runs g_own --json | jq -r '.runs[0].jid')
expect_eq "the run has the member group as its gid" "$(field "$jid" stdout)" "$ggid"
ok "root may still name any group" jobctl create g_admin --group "$X" --cwd / -- id -g

# ---- 2. unknown users and groups are refused at once ------------------------
expect_code 2 "create --user nosuchuser exits 2" jobctl create nu --user nosuchuser$$ -- true
expect_match "the error names the user" \
	"$(jobctl create nu --user nosuchuser$$ -- true 2>&1)" "nosuchuser$$"
expect_code 2 "create --group nosuchgroup exits 2" jobctl create ng --group nosuchgroup$$ -- true
expect_match "the error names the group" \
	"$(jobctl create ng --group nosuchgroup$$ -- true 2>&1)" "nosuchgroup$$"
expect_code 2 "submit --user nosuchuser exits 2" jobctl submit --user nosuchuser$$ -- true
expect_code 2 "user: create --group nosuchgroup exits 2" as_user create ng --group nosuchgroup$$ -- true
expect_code 4 "the refused job was not created" jobctl show nu
# ---- 2. cwd is entered as the run's user, in the user's own groups ----------
mkdir -p "$T/rootonly/inner"; chmod 700 "$T/rootonly"
jid=$(jobctl submit --user "$U" --cwd "$T/rootonly/inner" -- pwd 2>/dev/null)
retry_until 10 is_ended "$jid"
expect_eq "a run as a user cannot enter a directory only root may" \
	"$(field "$jid" result)" "fail"
expect_match "... the error is the user's (permission denied)" \
	"$(field "$jid" stderr)" "cannot change to directory '$T/rootonly/inner': Permission denied"
jid=$(jobctl submit --user "$U" --cwd "$T/rootonly/nosuch" -- pwd 2>/dev/null)
retry_until 10 is_ended "$jid"
expect_match "... a missing path behind it looks the same (nothing leaks)" \
	"$(field "$jid" stderr)" "cannot change to directory '$T/rootonly/nosuch': Permission denied"
mkdir -p "$T/userdir"; chown "$U" "$T/userdir"; chmod 700 "$T/userdir"
jid=$(jobctl submit --user "$U" --cwd "$T/userdir" -- sh -c 'pwd; id -u; id -G' 2>/dev/null)
retry_until 10 is_ended "$jid"
out=$(field "$jid" stdout)
expect_eq "a run as a user enters a directory only that user may" "$(sed -n 1p <<<"$out")" "$T/userdir"
expect_eq "... runs with the user's uid" "$(sed -n 2p <<<"$out")" "$uid"
expect_match "... in the user's own supplementary groups" "$(sed -n 3p <<<"$out")" "(^| )$ggid( |$)"
expect_eq "... and none of the daemon's" "$(tr ' ' '\n' <<<"$(sed -n 3p <<<"$out")" | grep -cx 0)" 0

# ---- 3. a run that cannot start ends `fail` once, also across a restart -------
jid=$(jobctl submit --cwd /nonexistent$$ -- echo ran-it 2>/dev/null)
retry_until 10 is_ended "$jid"
expect_eq "a run with a missing cwd ends done" "$(field "$jid" status)" "done"
expect_eq "... with result fail" "$(field "$jid" result)" "fail"
expect_match "... and the reason in lookup" "$(jobctl lookup "$jid" 2>&1)" "nonexistent$$"
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
# a later run of the same queue has ended: the old one had its chance
j2=$(jobctl submit -- true 2>/dev/null)
retry_until 10 is_ended "$j2"
expect_eq "after a restart it is still done" "$(field "$jid" status)" "done"
expect_eq "... and was not tried again" \
	"$(grep -c "run $jid: cannot start" "$T/jobd.log")" "1"
finish
