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

finish
