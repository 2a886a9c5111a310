#!/usr/bin/env bash
# test_ninep_files.sh — jobd's 9P file server (ninep_listen) through the
# project's 9P2000 client (tests/it/ninep.py), file by file:
# /clone, /jobs/<name>/{ctl,cmd,log,schedule,status},
# /jobs/<name>/runs/<jid>/{stdout,stderr,status}, /targets/<t>/ctl,
# removing /jobs/<name>, directory reads, stat modes/sizes/mtimes, the log
# kept across a restart, and the same through 9P2000.L.  Every change is
# checked through jobctl.  Bad input, blocking reads and flush:
# test_ninep_bad.sh; access: test_ninep_access.sh; diod's tools:
# test_ninep_diod.sh.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=tok$RANDOM$RANDOM
# the token makes the attach an admin's (loopback without it only reads
# and starts/stops: test_ninep_access.sh)
np() { python3 "$HERE/ninep.py" --addr "127.0.0.1:$PORT" --aname "$TOKEN" "$@"; }
npl() { np --proto 9P2000.L "$@"; }
# st PATH KEY: one field of Tstat
st() { np stat "$1" | sed -n "s/^$2=//p"; }
# py CODE: python with the client imported and c connected (9P2000)
py() { python3 -c "import sys; sys.path.insert(0, '$HERE'); from ninep import *
c = connect('127.0.0.1:$PORT', aname='$TOKEN')
$1"; }
conf() { printf 'ninep_listen = 127.0.0.1:%s\nninep_token = %s\n[targets]\nq1 = 2\n' "$PORT" "$TOKEN"; }

jobd_start "$(conf)"
retry_until 10 np ls / ||
	{ fail "jobd's 9P port answers" "$(tail -5 "$T/jobd.log")"; finish; exit 1; }

# ---- version, attach, the root ----
out=$(py 'print(c.proto, c.msize <= 8192)')
expect_eq "Tversion 9P2000: Rversion 9P2000, msize at most the client's" "$out" "9P2000 True"
out=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); from ninep import *
c = Client.tcp('127.0.0.1', $PORT); print(c.version(8192, '9P2000.L')[1])")
expect_eq "Tversion 9P2000.L: Rversion 9P2000.L" "$out" "9P2000.L"
out=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); from ninep import *
c = Client.tcp('127.0.0.1', $PORT); print(c.version(8192, '9P3000')[1])")
expect_eq "Tversion of an unknown version: Rversion unknown" "$out" "unknown"
out=$(np ls / | sort | tr '\n' ' ')
expect_eq "the root holds clone, jobs, targets" "$out" "clone jobs targets "

# ---- /clone ----
ok "clone: writing name:expr:cmd creates a job" np write /clone 't1:0 0 * * *:echo hi'
expect_match "clone: the job is in jobctl list" "$(jobctl list)" $'\nt1 +disabled +0 0 \\* \\* \\*'
expect_eq "clone: the new job starts stopped" "$(np read /jobs/t1/ctl | tr -d '\n')" "stopped"
ok "clone: a trailing newline is accepted" np write /clone $'t2:0 0 * * *:echo two\n'
expect_eq "clone: the trailing newline is not in the command" \
	"$(jobctl show t2 | sed -n 's/^command: *//p')" "echo two"
out=$(np write /clone 'nocolons' 2>&1)
expect_match "clone: no colons: invalid job definition" "$out" '^Rerror: invalid job definition'
out=$(np write /clone 'bad name:0 0 * * *:true' 2>&1)
expect_match "clone: a name with a space: invalid name" "$out" "^Rerror: .*invalid (job )?name.*'bad name'"
ok "clone: an empty name asks for a new one (job-N)" np write /clone ':0 0 * * *:true'
expect_match "clone: the job named job-N is in jobctl list" "$(jobctl list)" $'\njob-1 +disabled'
out=$(py 'fid = c.walk_path("/clone"); c.open(fid, ORDWR)
n = c.write(fid, ":@daily:true")
print(c.read(fid, n).decode().strip(), repr(c.read(fid, 0)))')
expect_eq "clone: the made name is read back on the same fid, once" "$out" "job-2 b''"
expect_match "clone: job-2 is in jobctl list" "$(jobctl list)" $'\njob-2 +disabled'
ok "clone: a JSON object" np write /clone '{"name": "js", "schedule": "@daily", "command": "true", "timeout": "1h"}'
expect_eq "clone: JSON: the timeout" "$(jobctl show js | sed -n 's/^timeout: *//p')" "1h"
ok "clone: three lines (a calendar schedule holds ':')" np write /clone $'cal\n09:00 mon\necho cal'
expect_eq "clone: three lines: the schedule" "$(jobctl show cal | sed -n 's/^schedule: *//p')" "09:00 mon"
out=$(np write /clone 't3:x 0 * * *:true' 2>&1)
expect_match "clone: a bad expression: the parser's message" "$out" "^Rerror: .*'x'"
out=$(np write /clone 't1:0 0 * * *:true' 2>&1)
expect_match "clone: a duplicate name: exists" "$out" '^Rerror: .*exists'
expect_eq "clone: no job was made by the bad writes" \
	"$(jobctl list | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')" "cal job-1 job-2 js t1 t2 "

# ---- directory reads ----
out=$(np ls /jobs | sort | tr '\n' ' ')
expect_eq "ls /jobs: the jobs" "$out" "cal job-1 job-2 js t1 t2 "
out=$(np ls /jobs/t1 | sort | tr '\n' ' ')
expect_eq "ls /jobs/t1: its files" "$out" "cmd ctl log runs schedule status "
out=$(np ls /targets | sort | tr '\n' ' ')
expect_eq "ls /targets: the targets" "$out" "default q1 "
out=$(np ls /targets/q1)
expect_eq "ls /targets/q1: ctl" "$out" "ctl"
out=$(np read /jobs/nope/ctl 2>&1)
expect_match "an unknown job: file not found" "$out" '^Rerror: .*not found'

# ---- cmd ----
expect_eq "cmd: the command" "$(np read /jobs/t1/cmd | tr -d '\n')" "echo hi"
ok "cmd: writing it changes the command" np write /jobs/t1/cmd $'echo changed\n'
expect_eq "cmd: jobctl show has the new command, without the newline" \
	"$(jobctl show t1 | sed -n 's/^command: *//p')" "echo changed"
expect_eq "cmd: read back" "$(np read /jobs/t1/cmd | tr -d '\n')" "echo changed"

# ---- schedule, ctl ----
expect_eq "schedule: the expression while stopped" "$(np read /jobs/t1/schedule | tr -d '\n')" "0 0 * * *"
ok "ctl: START with a newline starts the job" np write /jobs/t1/ctl $'START\n'
expect_eq "ctl: reads started" "$(np read /jobs/t1/ctl | tr -d '\n')" "started"
expect_match "ctl start: jobctl list says enabled" "$(jobctl list)" $'\nt1 +enabled'
out=$(np read /jobs/t1/schedule | tr -d '\n')
expect_match "schedule: while started, expr:next" "$out" '^0 0 \* \* \*:.*[0-9]'
ok "ctl: start again is a no-op" np write /jobs/t1/ctl start
ok "ctl: Stop (any case) stops it" np write /jobs/t1/ctl $'Stop\n'
expect_eq "ctl: reads stopped" "$(np read /jobs/t1/ctl | tr -d '\n')" "stopped"
expect_match "ctl stop: jobctl list says disabled" "$(jobctl list)" $'\nt1 +disabled'
out=$(np write /jobs/t1/ctl frobnicate 2>&1)
expect_match "ctl: an unknown word is refused" "$out" "^Rerror: .*(frobnicate|unknown ctl command)"
ok "schedule: writing it changes the schedule" np write /jobs/t1/schedule $'30 1 * * *\n'
expect_eq "schedule: jobctl show has it" "$(jobctl show t1 | sed -n 's/^schedule: *//p')" "30 1 * * *"
out=$(np write /jobs/t1/schedule 'x y' 2>&1)
expect_match "schedule: a bad expression is refused with the parser's message" "$out" "^Rerror: .*'?x"
out=$(np write /jobs/t1/log 'x' 2>&1)
expect_match "log: writing it is refused" "$out" '^Rerror: .*permission denied'

# ---- log, runs, status: a job firing every second ----
ok "clone: a job firing every second" np write /clone 'tick:* * * * * *:echo tick; echo oops >&2'
ok "ctl: start it" np write /jobs/tick/ctl start
has_runs() { [ "$(jobctl runs tick | awk '$4 == "ok"' | wc -l)" -ge "$1" ]; }
retry_until 30 has_runs 2 || fail "tick ran twice" "$(jobctl runs tick)"
ok "ctl: stop it" np write /jobs/tick/ctl stop
log=$(np read /jobs/tick/log)
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}[^:]*'
expect_match "log: first line <timestamp>:started" "$(head -1 <<<"$log")" "^$TS:started$"
expect_match "log: a run's stdout line <timestamp>:tick" "$(sed -n 2p <<<"$log")" "^$TS:tick$"
expect_match "log: last line <timestamp>:completed" "$(tail -1 <<<"$log")" "^$TS:completed$"
n_tick=$(grep -cE ":tick$" <<<"$log")
[ "$n_tick" -ge 2 ] && pass "log: a line per run" || fail "log: a line per run" "$log"
expect_match "log: a run's stderr line <timestamp>:stderr:oops" "$log" "(^|"$'\n'")$TS:stderr:oops"$'\n'
bad=$(grep -vE "^$TS:(started|tick|stderr:oops|completed)$" <<<"$log")
expect_eq "log: no other lines" "$bad" ""

expect_eq "stat log: its length is the log's (tail -f polls it)" "$(st /jobs/tick/log length)" \
	"$(np cat /jobs/tick/log | wc -c)"
jids=$(jobctl runs tick | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')
out=$(np ls /jobs/tick/runs | sort | tr '\n' ' ')
expect_eq "runs/: one directory per run, named by jid" "$out" "$jids"
jid=$(jobctl runs tick | awk 'NR == 2 { print $1 }')
out=$(np ls "/jobs/tick/runs/$jid" | sort | tr '\n' ' ')
expect_eq "runs/<jid>: status stderr stdout" "$out" "status stderr stdout "
expect_eq "runs/<jid>/stdout" "$(np read "/jobs/tick/runs/$jid/stdout")" "tick"
expect_eq "runs/<jid>/stderr" "$(np read "/jobs/tick/runs/$jid/stderr")" "oops"
out=$(np read "/jobs/tick/runs/$jid/status")
expect_match "runs/<jid>/status: the run's result, ok" "$out" "ok"
out=$(np read /jobs/tick/runs/00000000000000000000/stdout 2>&1)
expect_match "runs/<unknown jid>: file not found" "$out" '^Rerror: .*not found'
out=$(np read /jobs/tick/status)
expect_match "status: the last result" "$out" "ok"
out=$(np read /jobs/t1/status)
[ -n "$out" ] && pass "status: a job that never ran has a status" || fail "status: a job that never ran has a status" "empty"

# a run that is running: its jid in status
ok "clone: a long job" np write /clone 'long:0 0 1 1 *:sleep 30'
rjid=$(jobctl run long --no-wait)
is_running() { jobctl runs long | grep -q running; }
retry_until 10 is_running || fail "long runs" "$(jobctl runs long)"
expect_match "status: the running jid" "$(np read /jobs/long/status)" "$rjid"
jobctl kill "$rjid" >/dev/null 2>&1

# ---- stat: modes, sizes, mtimes ----
now=$(date +%s)
expect_eq "stat /clone: mode 666" "$(st /clone mode)" "666"
expect_match "stat /jobs: DMDIR, r-x for all" "$(st /jobs mode)" "^20000000[57]55$"
expect_eq "stat /jobs: qid type QTDIR" "$(st /jobs qtype)" "128"
expect_eq "stat /jobs/t1/ctl: mode 666" "$(st /jobs/t1/ctl mode)" "666"
expect_eq "stat /jobs/t1/log: mode 444" "$(st /jobs/t1/log mode)" "444"
# the files are made when read: size 0, as in /proc
expect_eq "stat /jobs/t1/cmd: length 0 (made when read)" "$(st /jobs/t1/cmd length)" "0"
expect_eq "stat /jobs/t1: name t1" "$(st /jobs/t1 name)" "t1"
mt=$(st /jobs/t1/cmd mtime)
[ -n "$mt" ] && [ "$mt" -gt $((now - 3600)) ] && [ "$mt" -le $((now + 5)) ] &&
	pass "stat /jobs/t1/cmd: mtime is when it was written" ||
	fail "stat /jobs/t1/cmd: mtime is when it was written" "mtime $mt, now $now"
out=$(np lsl /jobs/t1 | sort | awk '{ print $1, $2 }' | tr '\n' ' ')
expect_match "dir read of /jobs/t1: stat entries with modes" "$out" "^cmd 6[46]4 ctl 666 log 444 runs 20000000[57]55 schedule 6[46]4 status 444 $"
out=$(np lsl /jobs | awk '$1 == "t1" { print $2 }')
expect_match "dir read of /jobs: a job is a directory" "$out" "^20000000[0-7]{3}$"

# ---- /targets/<t>/ctl ----
paused_of() { jobctl targets | awk -v t="$1" '$1 == t { print $5 }'; }
conc_of() { jobctl targets | awk -v t="$1" '$1 == t { print $2 }'; }
ok "targets: pause" np write /targets/q1/ctl pause
expect_eq "targets: jobctl targets says paused" "$(paused_of q1)" "yes"
ok "targets: continue with a newline" np write /targets/q1/ctl $'continue\n'
expect_eq "targets: jobctl targets says not paused" "$(paused_of q1)" "no"
ok "targets: concurrency 5" np write /targets/q1/ctl 'concurrency 5'
expect_eq "targets: jobctl targets says concurrency 5" "$(conc_of q1)" "5"
out=$(np write /targets/q1/ctl 'concurrency x' 2>&1)
expect_match "targets: a bad concurrency is refused" "$out" "^Rerror: .*(concurrency|'x')"
expect_eq "targets: and changes nothing" "$(conc_of q1)" "5"
out=$(np write /targets/q1/ctl 'explode' 2>&1)
expect_match "targets: an unknown word is refused" "$out" "^Rerror: .*(explode|unknown ctl command)"

# ---- 9P2000.L: the same files ----
ok "9P2000.L: clone" npl write /clone 'el:0 0 * * *:echo el'
expect_match "9P2000.L: the job is in jobctl list" "$(jobctl list)" $'\nel +disabled'
out=$(npl ls /jobs/el | sort | tr '\n' ' ')
expect_match "9P2000.L: Treaddir of /jobs/el" "$out" "cmd ctl log runs schedule status"
expect_eq "9P2000.L: read cmd" "$(npl read /jobs/el/cmd | tr -d '\n')" "echo el"
ok "9P2000.L: ctl start" npl write /jobs/el/ctl $'start\n'
expect_match "9P2000.L: jobctl list says enabled" "$(jobctl list)" $'\nel +enabled'
expect_eq "9P2000.L: Tgetattr of ctl: a regular file 0666" "$(npl stat /jobs/el/ctl | sed -n 's/^mode=//p')" "100666"
expect_eq "9P2000.L: Tgetattr of /jobs: a directory" "$(npl stat /jobs | sed -n 's/^mode=//p' | cut -c1-2)" "40"
out=$(npl read /jobs/nope/ctl 2>&1)
expect_match "9P2000.L: an unknown name: Rlerror ENOENT" "$out" '^Rlerror: 2 ENOENT'
ok "9P2000.L: unlinkat of a job" npl rm /jobs/el
expect_eq "9P2000.L: the job is gone" "$(jobctl list | awk '$1 == "el"')" ""

# ---- removing /jobs/<name> ----
ok "remove /jobs/t2" np rm /jobs/t2
expect_code 4 "remove: jobctl show t2 finds no job" jobctl show t2
out=$(np read /jobs/t2/cmd 2>&1)
expect_match "remove: the directory is gone" "$out" '^Rerror: .*not found'
out=$(np rm /jobs/t1/ctl 2>&1)
expect_match "remove of a job's file is refused" "$out" '^Rerror: .*permission denied'
out=$(np rm /clone 2>&1)
expect_match "remove of /clone is refused" "$out" '^Rerror: .*permission denied'

# ---- the log survives a restart ----
before=$(np read /jobs/tick/log)
jobd_stop || fail "jobd stops cleanly"
JOBD_KEEP_CONFIG=1 jobd_start
retry_until 10 np ls / || fail "the 9P port answers after the restart"
expect_eq "log: the same after a restart" "$(np read /jobs/tick/log)" "$before"
expect_eq "clone: a cloned job is still there after a restart" "$(np read /jobs/t1/cmd | tr -d '\n')" "echo changed"

finish
