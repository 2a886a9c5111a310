#!/usr/bin/env bash
# test_set.sh — `jobctl set NAME KEY=VALUE` (the set-job op): schedule,
# command and enabled of API jobs (the store) and file jobs (the file's line
# rewritten, comments, mode and owner kept) outlive a reload and a restart;
# bad values are refused with the parser's message and exit 2, nothing
# changed; `create --generate-name` names jobs job-N; list shows each job's
# last run (one store query).
. "$(dirname "$0")/lib.sh"
# as root: a throw-away user in the socket's group, for the permissions
U=""
if [ "$(id -u)" -eq 0 ]; then
	U=jobdset$$; G=jobdsetg$$
	trap 'cleanup; userdel "$U" 2>/dev/null; groupdel "$G" 2>/dev/null' EXIT
	groupadd -r "$G" && useradd -M -r -s /bin/sh -G "$G" "$U" || U=""
	chmod 711 "$T"
fi
as_user() { setpriv --reuid="$U" --regid="$U" --init-groups "$JOBCTL" "$@"; }
write_config ${U:+"socket_group = $G"}
F=$T/jobs.d/a.conf
cat >"$F" <<'JOBS'
; the nightly jobs
[job filejob]
# what it does
command = echo one
schedule = 0 3 * * *   ; at three
timeout = 1h

[action verify]
command = true

[job other]
command = true
JOBS
chmod 640 "$F"
chown 65534:65534 "$F" 2>/dev/null
JOBD_KEEP_CONFIG=1 jobd_start
show() { jobctl show "$1" --json | jq -r ".job.$2"; }

# ---- file job ----------------------------------------------------------------
ok "set schedule of a file job" jobctl set filejob "schedule=*/5 * * * *"
expect_eq "the schedule is in force" "$(show filejob schedule)" "*/5 * * * *"
expect_match "the file has the new line" "$(cat "$F")" $'\nschedule = \\*/5 \\* \\* \\* \\*\n'
ok "set command of a file job" jobctl set filejob "command=echo two"
expect_eq "the command is in force" "$(show filejob command)" "echo two"
expect_eq "comments and other lines are kept" \
	"$(grep -c -e '^; the nightly jobs$' -e '^# what it does$' -e '^timeout = 1h$' -e '^\[action verify\]$' -e '^command = true$' "$F")" 6
expect_eq "one command line in the section" "$(sed -n '/^\[job filejob\]/,/^\[action/p' "$F" | grep -c '^command')" 1
expect_eq "mode kept" "$(stat -c %a "$F")" 640
[ "$(id -u)" -eq 0 ] && expect_eq "owner kept" "$(stat -c %u:%g "$F")" "65534:65534"
expect_eq "no temporary file left" "$(ls -A "$T/jobs.d" | tr '\n' ' ')" "a.conf "
ok "set enabled=false of a file job" jobctl set filejob enabled=false
expect_eq "disabled" "$(show filejob enabled)" false
ok "reload" jobctl reload
expect_eq "schedule after reload" "$(show filejob schedule)" "*/5 * * * *"
expect_eq "command after reload" "$(show filejob command)" "echo two"
expect_eq "still disabled after reload" "$(show filejob enabled)" false
expect_eq "the action is kept" "$(jobctl show filejob --json | jq -r '.job.actions.verify')" true

long="echo $(printf 'word%03d ' $(seq 1 60))end"
ok "a long command" jobctl set filejob "command=$long"
expect_eq "no line over 198 characters" "$(awk 'length > 198' "$F" | wc -l)" 0
ok "reload with the long command" jobctl reload
expect_eq "the long command reads back whole" "$(show filejob command)" "$long"
ok "set command back" jobctl set filejob "command=echo two"

# ---- API job -----------------------------------------------------------------
ok "create an API job" jobctl create apijob --schedule "@daily" -- echo a
ok "set its schedule" jobctl set apijob "schedule=@every 1h"
ok "set its command" jobctl set apijob "cmd=echo b c"
ok "disable it" jobctl set apijob enabled=no
j=$(jobctl set apijob "schedule=0 4 * * *" --json)
expect_eq "--json replies the job" "$(jq -r .job.schedule <<<"$j")" "0 4 * * *"

# ---- bad input ---------------------------------------------------------------
sum=$(md5sum <"$F")
out=$(jobctl set filejob "schedule=61 * * * *" 2>&1); rc=$?
expect_eq "bad schedule: exit 2" "$rc" 2
expect_match "bad schedule: the parser's message" "$out" "syntax error in minute field: '61'"
expect_eq "bad schedule: the file is unchanged" "$(md5sum <"$F")" "$sum"
expect_eq "bad schedule: the job is unchanged" "$(show filejob schedule)" "*/5 * * * *"
expect_code 2 "a ' ;' (an INI comment) is refused for a file job" jobctl set filejob "command=echo a ; b"
expect_eq "the file is unchanged" "$(md5sum <"$F")" "$sum"
expect_code 2 "bad schedule of an API job" jobctl set apijob "schedule=0 0 32 * *"
expect_code 4 "unknown job" jobctl set nosuchjob "schedule=@daily"
expect_code 2 "unknown key" jobctl set apijob "color=red"
expect_code 2 "not KEY=VALUE" jobctl set apijob schedule
expect_code 2 "enabled must be a boolean" jobctl set apijob enabled=maybe
expect_code 2 "empty command" jobctl set apijob "command="
if [ "$(id -u)" -eq 0 ] && chattr +i "$T/jobs.d" 2>/dev/null; then
	out=$(jobctl set filejob "schedule=@hourly" 2>&1); rc=$?
	chattr -i "$T/jobs.d"
	expect_eq "unwritable job file: the op fails" "$rc" 1
	expect_match "unwritable job file: a clear error" "$out" "cannot rewrite job file .*a.conf"
	expect_eq "unwritable job file: the job is unchanged" "$(show filejob schedule)" "*/5 * * * *"
	expect_eq "unwritable job file: the file is unchanged" "$(md5sum <"$F")" "$sum"
fi

# ---- permissions --------------------------------------------------------------
if [ -n "$U" ]; then
	ok "a user creates a job" as_user create mine -- true
	ok "the owner sets its schedule" as_user set mine "schedule=@daily"
	out=$(as_user set filejob "schedule=@hourly" 2>&1); rc=$?
	expect_eq "a user may not rewrite a job file: exit 77" "$rc" 77
	expect_match "a user may not rewrite a job file: why" "$out" "defined in .*a.conf; only root"
	expect_code 77 "a user may not change another's job" as_user set apijob "command=echo x"
	expect_eq "the file is unchanged" "$(md5sum <"$F")" "$sum"
	ok "delete mine" jobctl delete mine
fi

# ---- restart -----------------------------------------------------------------
jobd_stop || fail "jobd stops"
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "file job schedule after restart" "$(show filejob schedule)" "*/5 * * * *"
expect_eq "file job command after restart" "$(show filejob command)" "echo two"
expect_eq "file job still disabled after restart" "$(show filejob enabled)" false
expect_eq "API job schedule after restart" "$(show apijob schedule)" "0 4 * * *"
expect_eq "API job command after restart" "$(show apijob command)" "echo b c"
expect_eq "API job disabled after restart" "$(show apijob enabled)" false
ok "enable again" jobctl set apijob enabled=true
expect_eq "enabled" "$(show apijob enabled)" true

# ---- generated names ---------------------------------------------------------
cat >"$T/jobs.d/b.conf" <<'JOBS'
[job job-7]
command = true
JOBS
out=$(jobctl create --generate-name -- echo gen 2>&1)
expect_eq "create --generate-name prints the name (above job-7 of the files)" "$out" "created job job-8"
n2=$(jobctl create --generate-name --json -- echo gen | jq -r .job.name)
expect_eq "the next one" "$n2" "job-9"
ok "delete job-9" jobctl delete job-9
expect_eq "a deleted job's name is not given again" \
	"$(jobctl create --generate-name --json -- true | jq -r .job.name)" "job-10"
expect_eq "the generated job runs its command" "$(show job-8 command)" "echo gen"

# ---- list: the last run of every job, one query ------------------------------
jid=$(jobctl run apijob --no-wait --json | jq -r .jid)
ok "the run ends" jobctl wait "$jid"
ok "run other" jobctl run other
l=$(jobctl list --json)
expect_eq "list: apijob's last result" "$(jq -r '.jobs[] | select(.name=="apijob") | .last_result' <<<"$l")" ok
expect_eq "list: other's last result" "$(jq -r '.jobs[] | select(.name=="other") | .last_result' <<<"$l")" ok
expect_eq "list: a job without runs" "$(jq -r '.jobs[] | select(.name=="filejob") | .last_result' <<<"$l")" null
expect_match "list: the table" "$(jobctl list)" "apijob +disabled|apijob .*ok"
finish
