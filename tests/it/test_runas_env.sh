#!/usr/bin/env bash
# test_runas_env.sh — a run as another user gets that user's identity from
# its passwd entry (HOME, USER, LOGNAME, SHELL) and its own supplementary
# groups (initgroups), from a job file's `user`/`group` as from jobctl; a
# user that does not exist and a jobd that is not root are refused clearly.
# Needs root (a throw-away user); skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; skipped"
	finish
	exit 0
fi
U=jobdre$$; G=jobdreg$$
trap 'cleanup; userdel "$U" 2>/dev/null; groupdel "$G" 2>/dev/null' EXIT
groupadd -r "$G" && useradd -M -r -d "$T/home" -s /bin/bash -G "$G" "$U" ||
	{ fail "make the test user"; finish; exit 1; }
chmod 711 "$T"; mkdir -p "$T/home"; chown "$U" "$T/home"
ggid=$(getent group "$G" | cut -d: -f3); pgid=$(id -g "$U")
field() { jobctl lookup --json "$1" 2>/dev/null | jq -r ".run.$2"; }

write_config
cat > "$T/jobs.d/env.conf" <<CONF
[job envu]
command = sh -c 'echo \$HOME \$USER \$LOGNAME \$SHELL; id -G; pwd'
user = $U
CONF
JOBD_KEEP_CONFIG=1 jobd_start
out=$(jobctl run envu 2>&1)
expect_eq "a file job with user = U: HOME USER LOGNAME SHELL from passwd" \
	"$(sed -n 1p <<<"$out")" "$T/home $U $U /bin/bash"
expect_match "... in the user's supplementary groups (initgroups)" \
	"$(sed -n 2p <<<"$out")" "(^| )$ggid( |$)"
expect_eq "... and none of the daemon's" \
	"$(tr ' ' '\n' <<<"$(sed -n 2p <<<"$out")" | grep -cx 0)" 0
expect_eq "... in its home directory" "$(sed -n 3p <<<"$out")" "$T/home"
jid=$(jobctl submit --user "$U" --group "$G" -- sh -c 'echo $SHELL; id -g' 2>/dev/null)
ok "submit --user --group is accepted" test -n "$jid"
jobctl wait "$jid" >/dev/null 2>&1
out=$(field "$jid" stdout)
expect_eq "submit --user: SHELL from passwd" "$(sed -n 1p <<<"$out")" "/bin/bash"
expect_eq "submit --group: the gid is the group" "$(sed -n 2p <<<"$out")" "$ggid"
expect_code 2 "an unknown user is refused (exit 2)" \
	jobctl create nou --user nosuch$$ -- true
expect_match "... naming it" "$(jobctl create nou --user nosuch$$ -- true 2>&1)" "nosuch$$"
jobd_stop

# a jobd that is not root runs nothing as another user
T2=$(mktemp -d /tmp/jobd-it2.XXXXXX); chmod 755 "$T2"
mkdir -p "$T2/state"; chown nobody "$T2/state"
printf 'state_dir = %s/state\n' "$T2" > "$T2/jobd.conf"
setpriv --reuid=65534 --regid=65534 --clear-groups "$JOBD" -c "$T2/jobd.conf" >"$T2/log" 2>&1 &
P2=$!
retry_until 10 env JOBD_SOCKET="$T2/state/jobd.sock" "$JOBCTL" status
out=$(JOBD_SOCKET="$T2/state/jobd.sock" "$JOBCTL" create other --user "$U" -- true 2>&1); rc=$?
expect_eq "non-root jobd: create --user another exits 77" "$rc" 77
expect_match "... saying why" "$out" "not running as root|root"
kill -TERM $P2; wait $P2 2>/dev/null; rm -rf "$T2"
finish
