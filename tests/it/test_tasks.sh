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

finish
