#!/usr/bin/env bash
# test_ninep_diod.sh — jobd's 9P server through Debian's diod client tools
# (package diod; 9P2000.L only, a Tauth first): diodls lists directories
# (long form: modes, sizes), diodcat reads files, a run's large stdout
# across many reads and with a small msize.  dioddate and diodload attach
# diod's own synthetic aname "ctl" (files date, zero, null), which jobd
# does not serve: they are only run to see that jobd answers them with an
# error and stays up.  Writes go through tests/it/ninep.py (the diod tools
# only read).  Skipped, with a message, when the diod tools are missing.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH=$PATH:/usr/sbin:/sbin
if ! command -v diodcat >/dev/null || ! command -v diodls >/dev/null; then
	echo "note: diodcat/diodls missing (Debian package diod, scripts/deps.sh installs it); skipped"
	finish
	exit 0
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S=127.0.0.1:$PORT
TOKEN=tok$RANDOM$RANDOM
np() { python3 "$HERE/ninep.py" --addr "$S" --aname "$TOKEN" "$@"; }
dls() { timeout 20 diodls -s "$S" -a "$TOKEN" "$@"; }
dcat() { timeout 20 diodcat -s "$S" -a "$TOKEN" "$@"; }
names() { grep -vxE '\.|\.\.' | sort | tr '\n' ' '; }

jobd_start "ninep_listen = $S
ninep_token = $TOKEN"
retry_until 10 np ls / ||
	{ fail "jobd's 9P port answers" "$(tail -5 "$T/jobd.log")"; finish; exit 1; }

out=$(dls / 2>&1)
expect_eq "diodls /: clone jobs targets" "$(names <<<"$out")" "clone jobs targets "
ok "clone a job (ninep.py)" np write /clone 'dj:0 0 1 1 *:seq 1 20000; echo done'
expect_eq "diodls /jobs: the job" "$(dls /jobs 2>&1 | names)" "dj "
expect_eq "diodls /jobs/dj: its files" "$(dls /jobs/dj 2>&1 | names)" "cmd ctl log runs schedule status "
long=$(dls -l /jobs/dj 2>&1)
echo "$long" | sed 's/^/  diodls -l: /'
expect_match "diodls -l: ctl is a regular file rw for all" "$(grep -E ' ctl$' <<<"$long")" '^-rw-rw-rw-'
expect_match "diodls -l: log is read-only" "$(grep -E ' log$' <<<"$long")" '^-r--r--r--'
expect_match "diodls -l: runs is a directory" "$(grep -E ' runs$' <<<"$long")" '^dr.x'
expect_match "diodls -l: cmd's size is 0 (made when read, as in /proc)" "$(grep -E ' cmd$' <<<"$long")" " 0 [A-Z][a-z]{2} "
expect_eq "diodcat cmd" "$(dcat /jobs/dj/cmd 2>&1 | tr -d '\n')" "seq 1 20000; echo done"
expect_eq "diodcat ctl" "$(dcat /jobs/dj/ctl 2>&1 | tr -d '\n')" "stopped"
expect_eq "diodcat schedule" "$(dcat /jobs/dj/schedule 2>&1 | tr -d '\n')" "0 0 1 1 *"

# a run with ~109 KB of stdout: many reads at rising offsets
jid=$(jobctl run dj --no-wait)
is_done() { [ "$(jobctl runs dj | awk -v j="$jid" '$1 == j { print $4 }')" = ok ]; }
retry_until 30 is_done || fail "the run of dj ends ok" "$(jobctl runs dj)"
want=$(printf '%s\ndone\n' "$(seq 1 20000)" | md5sum)
expect_eq "diodls runs/: the run's jid" "$(dls /jobs/dj/runs 2>&1 | names)" "$jid "
expect_eq "diodcat runs/<jid>/stdout: the whole output" "$(dcat "/jobs/dj/runs/$jid/stdout" | md5sum)" "$want"
expect_eq "diodcat -m 4096 (small msize): the whole output" \
	"$(timeout 20 diodcat -m 4096 -s "$S" -a "$TOKEN" "/jobs/dj/runs/$jid/stdout" | md5sum)" "$want"
expect_match "diodcat runs/<jid>/status" "$(dcat "/jobs/dj/runs/$jid/status" 2>&1)" "ok"
expect_eq "diodcat runs/<jid>/stderr: empty" "$(dcat "/jobs/dj/runs/$jid/stderr" 2>&1)" ""
expect_match "diodcat status: the last result" "$(dcat /jobs/dj/status 2>&1)" "ok"

# the log gives EOF once at its end (a second read there would wait): so
# diodcat, which stops at the first EOF, prints the log and ends
timeout 20 diodcat -s "$S" -a "$TOKEN" /jobs/dj/log >"$T/log.out" 2>&1
expect_eq "diodcat log: ends at the log's end" "$?" "0"
expect_match "diodcat log: the run's lines" "$(cat "$T/log.out")" ':started'$'\n''.*:done'$'\n''.*:completed'

out=$(dcat /jobs/nope/cmd 2>&1); rc=$?
[ $rc -ne 0 ] && pass "diodcat of a missing file fails" || fail "diodcat of a missing file fails" "rc 0: $out"
expect_match "diodcat of a missing file: No such file" "$out" 'No such file'
# without the token (loopback): no output, but `ls -l` still lists the log
expect_match "diodls -l without the token lists the log (size 0)" \
	"$(timeout 20 diodls -l -s "$S" -a jobd /jobs/dj 2>&1 | grep -E ' log$')" '^-r--r--r--.* 0 '
expect_match "diodcat of the log without the token is refused" \
	"$(timeout 20 diodcat -s "$S" -a jobd /jobs/dj/log 2>&1)" "Operation not permitted"
ok "diodcat for another uid (-u 65534) reads too" timeout 20 diodcat -u 65534 -s "$S" -a jobd /jobs/dj/cmd

# diod's own synthetic files: jobd has none; it must answer and stay up
timeout 20 dioddate -s "$S" >/dev/null 2>&1
timeout 20 diodload -s "$S" -r 1 -n 4 >/dev/null 2>&1
up() { jobctl status >/dev/null && np ls / >/dev/null; }
retry_until 5 up && pass "dioddate, diodload: jobd stays up" || fail "dioddate, diodload: jobd stays up"
expect_match "diodls / still works" "$(dls / 2>&1 | names)" "clone jobs targets"

finish
