#!/bin/bash
# test_tasks.sh — service files' task tables (issue 13 items 1, 2, 6):
# task job names everywhere, the task keywords, runs by rid and tags, exit
# codes, disable, max_parallel.
. "$(dirname "$0")/lib.sh"

write_config
cat > "$T/jobs.d/web.conf" <<CONF
[DEFAULT]
run_schedule = @0

[task#0]
command = sh -c 'echo task0 \$GREETING; exit 0'
environment = GREETING=hello "OTHER=a b"
tags = backup
cwd = /tmp
timeout = 1m

[task#1]
command = sh -c 'echo task1 in \$(pwd); exit 3'
tags = backup, nightly
cwd = /
schedule = @0

[task#2]
command = sh -c 'echo task2; exit 5'
schedule =

[task#3]
command = echo never
disable = true
tags = backup
CONF
cat > "$T/jobs.d/sleepy.conf" <<CONF
[task#0]
command = sleep 30
max_parallel = 1
CONF
cat > "$T/jobs.d/chk.conf" <<CONF
[task#0]
command = sh -c 'exit \$(cat $T/code0)'
check = last_run

[task#1]
command = sh -c 'exit \$(cat $T/code1)'
retcodes = 0:up 1:down 2:warn 3:up
CONF
cat > "$T/jobs.d/par.conf" <<CONF
[task#0]
command = sleep 30
max_parallel = 2
CONF
echo 0 > "$T/code0"; echo 0 > "$T/code1"
cat > "$T/jobs.d/nod.conf" <<CONF
[task#0]
command = echo here
nodes = w1 w2
tags = nod

[task#1]
command = echo elsewhere
nodes = other
schedule = @every 1s
tags = nod
CONF
echo "name = w2" >> "$T/jobd.conf"
JOBD_KEEP_CONFIG=1 jobd_start

# ---- names: a task job is a job everywhere a job is named ----
out=$(jobctl show 'web.task#1' 2>&1)
expect_match "show names a task job" "$out" "web\.task#1"
expect_match "show: task#1's tags" "$out" "nightly"
expect_code 0 "run a task by its job name" jobctl run 'web.task#0'
out=$(jobctl logs 'web.task#0' 2>&1)
expect_match "logs of a task job" "$out" "task0 hello"
out=$(jobctl runs 'web.task#0' 2>&1)
expect_match "runs of a task job" "$out" "web\.task#0"
ok "disable a task job" jobctl disable 'web.task#2'
out=$(jobctl show 'web.task#2' 2>&1)
expect_match "disabled shows" "$out" "enabled: *(false|no)"
ok "enable a task job" jobctl enable 'web.task#2'
ok "set enabled on a task job" jobctl set 'web.task#2' enabled=true
expect_code 2 "a name with # in another shape is still invalid" jobctl show 'web#1'
out=$(jobctl create 'x.task#1' -- true 2>&1); rc=$?
expect_eq "create of a task-shaped name: exit 2" "$rc" 2
expect_match "create of a task-shaped name says why" "$out" "tasks of service files"

# ---- manual runs by rid and tags; the command's exit code ----
out=$(jobctl run web --rid 'task#0' 2>&1); rc=$?
expect_eq "run --rid task#0: exit 0" "$rc" 0
expect_match "run --rid task#0: its output, environment words" "$out" "task0 hello"
out=$(jobctl run web --rid 'task#1' 2>&1); rc=$?
expect_eq "run --rid task#1: the command's exit code" "$rc" 3
expect_match "run --rid task#1: cwd" "$out" "task1 in /$"
expect_code 5 "run --rid task#2: exit code 5" jobctl run web --rid 'task#2'
out=$(jobctl run web 2>&1); rc=$?
expect_eq "run web: all tasks, the first failure's code" "$rc" 3
expect_match "run web: tasks in order" "$(echo "$out" | grep -o 'task[0-9]' | tr '\n' ' ')" "^task0 task1 task2 $"
expect_eq "run web: the disabled task#3 is not run" "$(echo "$out" | grep -c never)" 0
out=$(jobctl run web --rid task --tags nightly 2>&1); rc=$?
expect_eq "run --rid task --tags nightly: task#1 only (exit 3)" "$rc" 3
expect_eq "run --tags nightly: one task ran" "$(echo "$out" | grep -c '^task')" 1
out=$(jobctl run web --rid task --tags backup 2>&1); rc=$?
expect_eq "run --tags backup: task#0 and task#1 (first failure 3)" "$rc" 3
expect_match "run --tags backup: both, in order" "$(echo "$out" | grep -o '^task[0-9]' | tr '\n' ' ')" "^task0 task1 $"
out=$(jobctl run web --tags nightly 2>&1); rc=$?
expect_eq "run web --tags nightly (no rid): exit 3" "$rc" 3
expect_code 4 "run --rid task#9: no such task" jobctl run web --rid 'task#9'
expect_code 2 "run --rid bogus: not a task rid" jobctl run web --rid bogus
expect_code 4 "run of an unknown service" jobctl run nosuch --rid 'task#0'
out=$(jobctl run web --no-wait 2>&1); rc=$?
expect_eq "run web --no-wait: exit 0" "$rc" 0
expect_eq "run web --no-wait: three jids" "$(echo "$out" | grep -cE '^[0-9]{20}$')" 3

# ---- disable = true: listed, never run ----
out=$(jobctl list 2>&1)
expect_match "a disabled task is listed" "$out" "web\.task#3"
out=$(jobctl run web --rid 'task#3' 2>&1); rc=$?
expect_eq "run --rid of a disabled task: exit 1" "$rc" 1
expect_match "run --rid of a disabled task says so" "$out" "disabled"
expect_code 1 "run of a disabled task by its job name: exit 1" jobctl run 'web.task#3'
expect_eq "the disabled task never ran" "$(jobctl runs 'web.task#3' | grep -c 'web')" 0

# ---- max_parallel = 1: a second manual run while one runs is refused ----
jid=$(jobctl run sleepy --rid 'task#0' --no-wait)
retry_until 10 sh -c "$JOBCTL active | grep -q sleepy"
out=$(jobctl run 'sleepy.task#0' 2>&1); rc=$?
expect_eq "max_parallel 1: second run refused (exit 1)" "$rc" 1
expect_match "max_parallel 1: says why" "$out" "max_parallel"
expect_code 1 "max_parallel 1: by rid too" jobctl run sleepy --rid 'task#0'
jobctl kill "$jid" >/dev/null 2>&1

# ---- max_parallel = 2: two runs at once, not three ----
j1=$(jobctl run par --no-wait); j2=$(jobctl run 'par.task#0' --no-wait)
expect_match "max_parallel 2: two runs start" "$j1 $j2" "^[0-9]{20} [0-9]{20}$"
out=$(jobctl run par --rid 'task#0' 2>&1); rc=$?
expect_eq "max_parallel 2: a third is refused (exit 1)" "$rc" 1
expect_match "max_parallel 2: says so" "$out" "max_parallel = 2"
out=$(jobctl show 'par.task#0' --json 2>&1)
expect_match "show: max_parallel 2" "$out" '"max_parallel": 2'
jobctl kill "$j1" >/dev/null 2>&1; jobctl kill "$j2" >/dev/null 2>&1

# ---- check / retcodes: the last exit code gives the status ----
out=$(jobctl status chk 2>&1); rc=$?
expect_eq "status before any run: exit 3" "$rc" 3
expect_match "status before any run: n/a" "$out" "chk\.task#0 +n/a"
jobctl run chk >/dev/null 2>&1
out=$(jobctl status chk 2>&1); rc=$?
expect_eq "status after exit 0: up, exit 0" "$rc" 0
expect_match "status: task#0 up" "$out" "chk\.task#0 +up +\(last exit 0\)"
expect_match "status: task#1 up" "$out" "chk\.task#1 +up"
echo 1 > "$T/code0"; echo 2 > "$T/code1"
expect_code 1 "run chk: task#0 exits 1" jobctl run chk
out=$(jobctl status chk 2>&1); rc=$?
expect_eq "status with a task down: exit 3" "$rc" 3
expect_match "check = last_run: 1 is down" "$out" "chk\.task#0 +down +\(last exit 1\)"
expect_match "retcodes: 2 is warn" "$out" "chk\.task#1 +warn"
echo 0 > "$T/code0"; echo 3 > "$T/code1"
jobctl run chk >/dev/null 2>&1
out=$(jobctl status chk 2>&1); rc=$?
expect_eq "retcodes 3:up, 0:up: exit 0" "$rc" 0
expect_match "retcodes: 3 is up" "$out" "chk\.task#1 +up +\(last exit 3\)"
echo 7 > "$T/code0"
jobctl run chk --rid 'task#0' >/dev/null 2>&1
out=$(jobctl status 'chk.task#0' 2>&1); rc=$?
expect_match "a code retcodes does not name is warn" "$out" "chk\.task#0 +warn +\(last exit 7\)"
expect_eq "warn: status exit 0" "$rc" 0
out=$(jobctl status web 2>&1); rc=$?
expect_eq "status of a service without checks: exit 4" "$rc" 4
expect_match "status without checks says so" "$out" "no task with a check"

# ---- keywords: the ones not built yet are errors naming them ----
kw_bad() {  # kw_bad NAME KEYLINE WANT
	printf '[task#0]\ncommand = true\n%s\n' "$2" > "$T/jobs.d/kw.conf"
	local out; out=$(jobctl reload 2>&1); local rc=$?
	expect_eq "$1: reload fails (exit 2)" "$rc" 2
	expect_match "$1: error names it" "$out" "$3"
}
for k in "limit_nofile = 10"; do
	kw_bad "${k%% *}" "$k" "task keyword '${k%% *}' in \[task#0\]: not built yet"
done
kw_bad "run_requires" "run_requires = db(sideways)" "requires: unknown state 'sideways'"
kw_bad "check = other" "check = status" "invalid value for check: 'status'"
kw_bad "retcodes bad" "retcodes = 0:fine" "unknown state 'fine'"
kw_bad "max_parallel 0" "max_parallel = 0" "invalid value for max_parallel"
kw_bad "disable = perhaps" "disable = perhaps" "invalid value for disable"
kw_bad "unknown keyword" "frobnicate = 1" "unknown key 'frobnicate'"
kw_bad "environment quoting" "environment = A='x" "invalid value for environment"
printf '[task#0]\ncommand = true\n[DEFAULT]\nrun_schedule = @daily\n' > "$T/jobs.d/kw.conf"
out=$(jobctl reload 2>&1)
expect_match "[DEFAULT] after a task is an error" "$out" "\[DEFAULT\] must come before"
printf '[DEFAULT]\nnodes = a\n[task#0]\ncommand = true\n' > "$T/jobs.d/kw.conf"
out=$(jobctl reload 2>&1)
expect_match "[DEFAULT]: only run_schedule" "$out" "unknown key 'nodes' in \[DEFAULT\]"
printf '[DEFAULT]\nrun_schedule = @every 1h\n[task#0]\ncommand = true\n[task#1]\ncommand = true\nschedule = @0\n' > "$T/jobs.d/kw.conf"
ok "[DEFAULT] run_schedule loads" jobctl reload
expect_match "[DEFAULT] run_schedule is the tasks' schedule" "$(jobctl show 'kw.task#0')" "@every 1h"
expect_match "a task's own schedule wins" "$(jobctl show 'kw.task#1' --json)" '"schedule": "@0"|"schedule": null'
# the keywords that are built, in one task
cat > "$T/jobs.d/kw.conf" <<CONF
[task#0]
command = sh -c 'echo "\$A|\$B|\$(pwd)"; sleep 0'
user = root
group = root
cwd = /tmp
environment = A=1 "B=x y"
timeout = 5s
schedule = @0
confirmation = false
tags = t1 t2
disable = false
max_parallel = 1
check = last_run
retcodes = 0:up
CONF
ok "every built keyword loads" jobctl reload
out=$(jobctl run kw --rid 'task#0' 2>&1)
expect_match "environment and cwd reach the command" "$out" "1\|x y\|/tmp"
out=$(jobctl show 'kw.task#0' --json)
expect_match "timeout 5s" "$out" '"timeout": "5s"'
expect_match "tags" "$(echo "$out" | tr -d " \n")" '"tags":\["t1","t2"\]'
expect_match "user" "$out" '"user": "root"'
expect_match "retcodes" "$out" '"retcodes": "0:up"'

# ---- confirmation = true: a service run needs the caller's yes ----
printf '[task#0]\ncommand = echo confirmed-run\nconfirmation = true\n' > "$T/jobs.d/conf.conf"
ok "a confirmation task loads" jobctl reload
out=$(jobctl run conf </dev/null 2>&1); rc=$?
expect_eq "without --yes and a terminal: refused (exit 1)" "$rc" 1
expect_match "... saying it needs confirmation" "$out" "confirmation"
out=$(jobctl run conf --yes 2>&1); rc=$?
expect_eq "with --yes the service's task runs (exit 0)" "$rc" 0
expect_match "... and its output shows" "$out" "confirmed-run"
out=$(jobctl run conf --rid 'task#0' --yes 2>&1); rc=$?
expect_eq "by rid with --yes too" "$rc,$(echo "$out" | grep -c confirmed-run)" "0,1"
rm -f "$T/jobs.d/conf.conf"; jobctl reload >/dev/null 2>&1

# ---- nodes = w1 w2: only where the daemon's name (w2 here) is listed ----
out=$(jobctl run nod --rid 'task#0' 2>&1); rc=$?
expect_eq "nodes lists this daemon: runs" "$rc" 0
out=$(jobctl run nod --rid 'task#1' 2>&1); rc=$?
expect_eq "nodes without this daemon: refused, exit 1" "$rc" 1
expect_match "nodes: says where it runs" "$out" "runs only on node other \(this is 'w2'\)"
expect_code 1 "nodes: by job name too" jobctl run 'nod.task#1'
out=$(jobctl run nod 2>&1); rc=$?
expect_eq "run nod: runs the tasks of this node only" "$rc" 0
expect_eq "run nod: task#1 not run" "$(echo "$out" | grep -c elsewhere)" 0
jobctl run --tags nod >/dev/null 2>&1
expect_match "nodes: listed" "$(jobctl list)" "nod\.task#1"
expect_match "nodes: shown" "$(jobctl show 'nod.task#1' --json | tr -d ' \n')" '"nodes":\["other"\]'
sleep 2   # @every 1s would have fired on a node it runs on
expect_eq "nodes: never scheduled, never run elsewhere" "$(jobctl runs 'nod.task#1' | grep -c nod)" 0

# ---- pre_run, post_run, on_error: run around the command ----
cat > "$T/jobs.d/hk.conf" <<CONF
[task#0]
pre_run = echo "pre it's"
command = sh -c 'echo cmd; exit \$(cat $T/hkcode)'
on_error = echo on_error
post_run = echo post

[task#1]
command = echo plain
post_run = false
CONF
echo 0 > "$T/hkcode"
ok "hooks load" jobctl reload
out=$(jobctl run hk --rid 'task#0' 2>&1); rc=$?
expect_eq "hooks, command ok: exit 0" "$rc" 0
expect_eq "hooks in order, no on_error" "$(echo "$out" | grep -E "^(pre|cmd|on_error|post)" | tr '\n' ' ')" "pre it's cmd post "
echo 4 > "$T/hkcode"
out=$(jobctl run hk --rid 'task#0' 2>&1); rc=$?
expect_eq "hooks, command fails: the command's code" "$rc" 4
expect_eq "on_error runs when the command fails" "$(echo "$out" | grep -E "^(pre|cmd|on_error|post)" | tr '\n' ' ')" "pre it's cmd on_error post "
expect_code 0 "a failing post_run does not change the result" jobctl run hk --rid 'task#1'
printf '[task#0]\ncommand = true\npre_run = "x\n' > "$T/jobs.d/hk.conf"
out=$(jobctl reload 2>&1)
expect_match "a hook's bad quoting names it" "$out" "pre_run: unterminated"
rm -f "$T/jobs.d/hk.conf"; jobctl reload >/dev/null 2>&1

# ---- umask ----
printf '[task#0]\ncommand = sh -c umask\numask = 027\n[task#1]\ncommand = sh -c "umask; exit 6"\numask = 0077\npost_run = echo p\n' > "$T/jobs.d/um.conf"
ok "umask loads" jobctl reload
out=$(jobctl run um --rid 'task#0' 2>&1)
expect_match "umask 027 reaches the command" "$out" "^0027"
out=$(jobctl run um --rid 'task#1' 2>&1); rc=$?
expect_match "umask with a hook" "$out" "^0077"
expect_eq "umask with a hook: the command's code" "$rc" 6
printf '[task#0]\ncommand = true\numask = 999\n' > "$T/jobs.d/um.conf"
expect_match "umask: not octal is an error" "$(jobctl reload 2>&1)" "umask: '999' is not an octal mask"
rm -f "$T/jobs.d/um.conf"; jobctl reload >/dev/null 2>&1

# ---- log = true: stdout to the daemon's log at INFO, stderr at WARN ----
printf '[task#0]\ncommand = sh -c "echo to-info-%s; echo to-warn-%s >&2"\nlog = true\n[task#1]\ncommand = echo not-logged-%s\n' $$ $$ $$ > "$T/jobs.d/lg.conf"
ok "log loads" jobctl reload
jobctl run lg >/dev/null 2>&1
expect_match "log: stdout at INFO" "$(grep "to-info-$$" "$T/jobd.log")" "INFO +job lg\.task#0 [0-9]{20}: to-info-$$$"
expect_match "log: stderr at WARN" "$(grep "to-warn-$$" "$T/jobd.log")" "WARN +job lg\.task#0 [0-9]{20}: to-warn-$$$"
expect_eq "no log: the output stays out of the log" "$(grep -c "not-logged-$$" "$T/jobd.log")" 0
printf '[task#0]\ncommand = true\nlog = maybe\n' > "$T/jobs.d/lg.conf"
expect_match "log: a bad BOOL is an error" "$(jobctl reload 2>&1)" "invalid value for log: 'maybe'"
rm -f "$T/jobs.d/lg.conf"; jobctl reload >/dev/null 2>&1

# ---- max_parallel = 2 on a schedule: fires beyond two runs are skipped ----
printf '[task#0]\ncommand = sleep 60\nschedule = @every 1s\nmax_parallel = 2\n' > "$T/jobs.d/mp.conf"
ok "scheduled max_parallel loads" jobctl reload
active_mp() { jobctl active | grep -c 'mp\.task#0'; }
retry_until 20 sh -c "$JOBCTL show 'mp.task#0' --json | grep -q '\"skipped_fires\": [1-9]'"
expect_match "max_parallel 2: fires beyond it are skipped (counted)" "$(jobctl show 'mp.task#0' --json)" '"skipped_fires": [1-9]'
expect_eq "max_parallel 2: two scheduled runs at most" "$(active_mp)" 2
for j in $(jobctl active | awk '/mp\.task#0/ {print $1}'); do jobctl kill "$j" >/dev/null 2>&1; done
rm -f "$T/jobs.d/mp.conf"; jobctl reload >/dev/null 2>&1

# ---- docs/tasks.md: its service files load as written ----
rm -f "$T/jobs.d/kw.conf"
DOC=$(cd "$(dirname "$0")/../.." && pwd)/docs/tasks.md
python3 - "$DOC" "$T/jobs.d" <<'PY'
import re, sys
blocks = re.findall(r'^```ini\n(.*?)^```', open(sys.argv[1]).read(), re.S | re.M)
for i, b in enumerate(blocks):
    open("%s/doc%d.conf" % (sys.argv[2], i), "w").write(b)
print(len(blocks))
PY
ok "docs/tasks.md: every service file example loads" jobctl reload
expect_match "docs example: doc0.task#1 listed" "$(jobctl list)" "doc0\.task#1"
expect_match "docs example: its calendar schedule" "$(jobctl show 'doc0.task#0')" "00:00-02:00@121 mon-fri"
expect_match "docs example: environment words" "$(jobctl show 'doc0.task#1' --json | tr -d ' \n')" '"OPTS":"-vx"|"OPTS":"-v-x"'

finish
