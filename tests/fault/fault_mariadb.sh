#!/usr/bin/env bash
# fault_mariadb.sh — MariaDB killed (kill -9) and restarted under load, with
# jobd on the MySQL store (store = mysql://...).  The scenario's own MariaDB
# (scripts/mariadb.sh start/kill9/restart/stop in a state dir of its own,
# ports from 34306 + (pid % 50) * 20, never the test suite's server), a
# jobd on it with targets `fault` (8) and `long` (2), and:
#   - C clients (tests/fault: a Python client over jobd's socket) submitting
#     short runs at a steady total rate, each `sh -c 'echo TOKEN >> LEDGER'`
#     (every 5th `sleep 0.01` first) with a token of its own; a client
#     records each reply: jid (acknowledged), error (refused) or none within
#     20 s / connection lost (in doubt);
#   - per kill, after a seeded 1..3 s: 3 long runs (`sleep 2`, marking start
#     and end) on target `long`, then, once two run (the third waits for a
#     slot, which frees while the database is down), a seeded 0..0.8 s,
#     kill -9 of mariadbd; it stays down 3 s (FAULT_DOWN), during which
#     `jobctl status` is asked every 0.5 s; then it is restarted on the same
#     datadir, port and socket (InnoDB crash recovery); the next cycle waits
#     until a submit is acknowledged again (up to FAULT_RECONNECT, 15 s);
#     the load goes on throughout and 2 s after that.
# Asserts:
#   1. jobd stays up the whole time and answers `jobctl status` while the
#      database is down, each within FAULT_STATUS_TIMEOUT (2) s: its loop
#      does not block on the dead server;
#   2. every acknowledged submit (a jid printed) ends done/ok exactly once:
#      jobd's lookup says done, ok, code 0; the table (read with the mariadb
#      client) has exactly one row for the jid, status done, result ok,
#      return_code 0; its token is in the ledger exactly once.  No token is
#      there twice, a refused submit did not run, one in doubt ran at most
#      once, nothing is left waiting or running (jobd's counts, the table);
#   3. the long runs that were running when the database died (and ended
#      while it was down) are recorded done, ok, exit code 0 (lookup and
#      table), each ran once; so is the one that was waiting;
#   plus the mechanics (the kills happened, the server came back on the same
#   port, submits were made while it was down and acknowledged after each
#   restart) and jobd exiting cleanly on SIGTERM.
# Submits made while the database is down may wait (and succeed after the
# restart) or be refused with an error; either is fine.
# Sizes: short (FAULT_SHORT) 1 kill, ~40 submits/s, 4 clients (~400 runs);
# full 3 kills, ~200 submits/s, 8 clients (~5,000 runs).  Knobs:
# FAULT_SEED, FAULT_KILLS, FAULT_RATE, FAULT_CLIENTS, FAULT_DOWN (s),
# FAULT_STATUS_TIMEOUT (s), FAULT_RECONNECT (s).  A failure prints the seed:
# FAULT_SEED=S reruns the same kill moments.
# Skips when no MariaDB server can be installed or started.
. "$(dirname "$0")/lib.sh"

KILLS=${FAULT_KILLS:-$(size 1 3)}
RATE=${FAULT_RATE:-$(size 40 200)}
CLIENTS=${FAULT_CLIENTS:-$(size 4 8)}
DOWN=${FAULT_DOWN:-3}
ST=${FAULT_STATUS_TIMEOUT:-2}
DRAIN=$(size 20 90)
RECON=${FAULT_RECONNECT:-15}
LONG=3
seed=${FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed                     # the kill moments follow from the seed
ROOT=$(cd "$FAULT_DIR/../.." && pwd)
RERUN="rerun: FAULT_SEED=$seed"

# ports from 34306 + a per-process offset: while this server is down, a
# concurrent run of this scenario (another make test) must not take its port
export JOBD_MARIADB_STATE=$T/mdb JOBD_MARIADB_PORT_BASE=$((34306 + ($$ % 50) * 20))
mdb() { "$ROOT/scripts/mariadb.sh" "$@"; }
CLIENT_PIDS=()
cleanup_mdb() {
	[ -f "$T/stop" ] || touch "$T/stop" 2>/dev/null
	[ -z "$JOBD_PID" ] || kill -9 "$JOBD_PID" 2>/dev/null
	for p in "${CLIENT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	mdb stop >/dev/null 2>&1
	cleanup
}
trap cleanup_mdb EXIT
trap 'exit 143' TERM INT         # scripts/fault.sh's timeout: still stop the server

if ! URL=$(mdb start 2>"$T/mdb-start.log"); then
	skip "mariadb" "no MariaDB server: $(tail -3 "$T/mdb-start.log" | tr '\n' ' ')"
	fault_finish; exit 0
fi
command -v mariadb >/dev/null || { skip "mariadb" "no mariadb client"; fault_finish; exit 0; }
re='^mysql://([^:]+):([^@]+)@([^:/]+):([0-9]+)/([^?]+)$'
[[ "$URL" =~ $re ]] || { fail "scripts/mariadb.sh start prints a mysql:// URL" "$URL"; fault_finish; exit 1; }
M_USER=${BASH_REMATCH[1]} M_PASS=${BASH_REMATCH[2]} M_HOST=${BASH_REMATCH[3]}
M_PORT=${BASH_REMATCH[4]} M_DB=${BASH_REMATCH[5]}
sql() { mariadb --no-defaults -u"$M_USER" -p"$M_PASS" -h"$M_HOST" -P"$M_PORT" \
	--protocol=tcp -N -B "$M_DB" -e "$1"; }
mdb_pid0=$(mdb pid)
# a marker: the server on the port after a restart is this one (its datadir)
marker="fm $seed $$ $(date +%s%N)"
sql "CREATE TABLE fm_marker (v VARCHAR(100)); INSERT INTO fm_marker VALUES ('$marker')" ||
	{ fail "the scenario's database takes a marker" "$(sql 'SELECT 1' 2>&1)"; fault_finish; exit 1; }

LEDGER=$T/ledger STARTED=$T/started
: >"$LEDGER"; : >"$STARTED"; : >"$T/kills"; : >"$T/probes"; : >"$T/long"
jobd_start "store = $URL?table=runs
[targets]
fault = 8
long = 2"
jobd_alive && jobctl status >/dev/null 2>&1 || {
	fail "jobd starts on the MySQL store" "$(tail -5 "$T/jobd.log")"; fault_finish; exit 1; }

# ---- the clients ------------------------------------------------------------
# client.py SOCKET K C RATE_PER_CLIENT LEDGER OUT STOPFILE: submits runs
# K, K+C, K+2C, ... (token rI) at the given rate until STOPFILE exists;
# OUT gets a line per submit: "ack I JID T_SENT T_REPLY", "err I T_SENT
# T_REPLY MSG", "doubt I T_SENT WHY" or "unsent I T WHY".
cat >"$T/client.py" <<'PY'
import json, os, socket, sys, time
sys.path.insert(0, os.environ["FAULT_DIR"])
from fclient import Conn
sock, k, c, rate, ledger, out, stop = sys.argv[1:8]
k, c, rate = int(k), int(c), float(rate)
f = open(out, "w", buffering=1)
conn = None
t0 = time.monotonic()
j = 0
while not os.path.exists(stop):
    i = k + j * c
    due = t0 + j / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    j += 1
    if conn is None:
        try:
            conn = Conn(sock, 20.0)
        except OSError as e:
            f.write("unsent %d %.6f %s\n" % (i, time.time(), e))
            time.sleep(0.05)
            continue
    cmd = "echo r%d >> %s" % (i, ledger)
    if i % 5 == 0:
        cmd = "sleep 0.01; " + cmd
    ts = time.time()
    try:
        conn.send(1, "submit", {"argv": ["sh", "-c", cmd], "target": "fault"})
        while True:
            m = conn.recv()
            if m is None:
                raise EOFError("jobd closed the connection")
            if m[0] == 1:
                break
    except (OSError, EOFError, ValueError) as e:
        f.write("doubt %d %.6f %s\n" % (i, ts, repr(e).replace("\n", " ")))
        conn.close()
        conn = None
        continue
    tr = time.time()
    if "error" in m[1]:
        f.write("err %d %.6f %.6f %s\n" % (i, ts, tr,
                str(m[1]["error"]).replace("\n", " ")))
    else:
        f.write("ack %d %s %.6f %.6f\n" % (i, m[1]["data"]["jid"], ts, tr))
if conn is not None:
    conn.close()
PY
export FAULT_DIR
per=$(awk -v r="$RATE" -v c="$CLIENTS" 'BEGIN { printf "%.3f", r / c }')
for k in $(seq 0 $((CLIENTS - 1))); do
	python3 "$T/client.py" "$JOBD_SOCKET" "$k" "$CLIENTS" "$per" "$LEDGER" \
		"$T/client.$k" "$T/stop" 2>>"$T/client.err" &
	CLIENT_PIDS+=($!)
done

# ---- the kills ----------------------------------------------------------------
now() { date +%s.%N; }
# acked_since T: a client got a jid for a submit sent after T (unix s)
acked_since() { cat "$T"/client.[0-9]* 2>/dev/null | awk -v t="$1" '$1 == "ack" && $4 > t {f = 1} END {exit !f}'; }
first_ack_after() { cat "$T"/client.[0-9]* | awk -v t="$1" '$1 == "ack" && $4 > t && (m == "" || $4 < m) {m = $4} END {printf "%.1f", m - t}'; }
ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
jobd_died=""
mech_ok=1
for k in $(seq 1 "$KILLS"); do
	sleep "$(awk -v r=$((RANDOM % 2000)) 'BEGIN { printf "%.3f", 1 + r / 1000 }')"
	jobd_alive || { jobd_died="before kill $k"; break; }
	for m in $(seq 1 $LONG); do
		tok=L${k}_$m
		jid=$(jobctl submit --target long -- sh -c "echo $tok >> $STARTED; sleep 2; echo $tok >> $LEDGER" 2>&1) ||
			{ fail "kill $k: long run $tok is acknowledged (MariaDB up) ($RERUN)" "$jid"; mech_ok=0; continue; }
		echo "$k $tok $jid" >>"$T/long"
	done
	long_started() { [ "$(grep -c "^L${k}_" "$STARTED")" -ge 2 ]; }
	retry_until 10 long_started ||
		{ fail "kill $k: the long runs start ($RERUN)" "$(grep "^L${k}_" "$STARTED" | wc -l) started"; mech_ok=0; }
	sleep "$(awk -v r=$((RANDOM % 800)) 'BEGIN { printf "%.3f", r / 1000 }')"
	tk=$(now)
	if ! out=$(mdb kill9 2>&1); then
		fail "kill $k: kill -9 of mariadbd ($RERUN)" "$out"; mech_ok=0; break
	fi
	# the long runs still running at the kill (started, not ended: tok:jid)
	# and waiting (not started: w:tok:jid)
	running=$(grep "^$k " "$T/long" | while read -r _ tok jid; do
		if ! grep -qx "$tok" "$STARTED"; then echo "w:$tok:$jid"
		elif ! grep -qx "$tok" "$LEDGER"; then echo "$tok:$jid"; fi
		done | tr '\n' ' ')
	# jobd answers while the database is down
	while [ "$(ms_since "$tk")" -lt $((DOWN * 1000)) ]; do
		tp=$(now)
		timeout -k 1 "$ST" "$JOBCTL" status >/dev/null 2>"$T/probe.err"; rc=$?
		echo "$k $(awk -v a="$tp" -v b="$tk" 'BEGIN { printf "%.1f", a - b }') $rc $(ms_since "$tp") $(head -c 200 "$T/probe.err" | tr '\n' ' ')" >>"$T/probes"
		jobd_alive || { jobd_died="while MariaDB was down (kill $k)"; break; }
		sleep 0.5
	done
	td=$(now)
	if ! out=$(mdb restart 2>&1); then
		fail "kill $k: mariadbd restarts on the same datadir ($RERUN)" "$out"; mech_ok=0; break
	fi
	tr=$(now)
	echo "$k $tk $td $tr $running" >>"$T/kills"
	[ -z "$jobd_died" ] || break
	# jobd takes submits again (it may back off before reconnecting): the
	# next cycle's long runs need the database
	if retry_until "$RECON" acked_since "$tr"; then
		echo "note: kill $k: first submit acknowledged $(first_ack_after "$tr") s after the restart"
	else
		echo "note: kill $k: no submit acknowledged within $RECON s of the restart"
	fi
done
[ -z "$jobd_died" ] && jobd_alive || jobd_died=${jobd_died:-"after the last restart"}
sleep 2
touch "$T/stop"
for p in "${CLIENT_PIDS[@]}"; do wait "$p"; done
CLIENT_PIDS=()
cat "$T"/client.[0-9]* >"$T/subs"

# ---- let it settle --------------------------------------------------------------
settled() {
	[ "$(sql "SELECT COUNT(*) FROM runs WHERE status <> 'done'" 2>/dev/null)" = 0 ] &&
		jobd_alive && drained
}
retry_until "$DRAIN" settled
awk '$1 == "ack" {print $3}' "$T/subs" >"$T/jids"
awk '{print $3}' "$T/long" >>"$T/jids"
lookup_all <"$T/jids" >"$T/lookups" 2>"$T/lookup.err" || : >"$T/lookups"
sql "SELECT jid, status, IFNULL(result, 'NULL'), IFNULL(return_code, 'NULL'), IFNULL(sig, 'NULL') FROM runs" >"$T/table" 2>"$T/table.err" ||
	fail "the runs table can be read after the last restart" "$(cat "$T/table.err")"
counts=$(jobctl status --json 2>/dev/null | jq -c '.counts // {}')

# ---- the facts --------------------------------------------------------------------
facts=$(python3 - "$T" "$ST" <<'PY'
import json, sys
T, st = sys.argv[1], float(sys.argv[2])
def lines(name):
    try:
        return [l.rstrip("\n") for l in open("%s/%s" % (T, name))]
    except FileNotFoundError:
        return []
kills = []
for l in lines("kills"):
    p = l.split()
    kills.append({"k": int(p[0]), "t_kill": float(p[1]), "t_down_end": float(p[2]),
                  "t_up": float(p[3]), "running": p[4:]})
# ack I JID T_SENT T_REPLY | err I T_SENT T_REPLY MSG | doubt I T_SENT WHY |
# unsent I T WHY
subs = [l.split(" ", {"ack": 4, "err": 4, "doubt": 3}.get(l.split(" ", 1)[0], 3))
        for l in lines("subs") if l.strip()]
acked, refused, doubt, unsent = {}, {}, {}, {}
phase = {"before": [0, 0, 0], "down": [0, 0, 0], "after": [0, 0, 0]}
def where(t):
    for k in kills:
        if k["t_kill"] <= t <= k["t_up"]:
            return "down"
    return "after" if kills and t > kills[0]["t_up"] else "before"
sent_down = [0] * len(kills)
acked_after = [0] * len(kills)
for p in subs:
    kind, i = p[0], int(p[1])
    tok = "r%d" % i
    if kind == "ack":
        acked[tok] = p[2]
        ts = float(p[3])
        phase[where(ts)][0] += 1
    elif kind == "err":
        refused[tok] = p[4] if len(p) > 4 else ""
        ts = float(p[2])
        phase[where(ts)][1] += 1
    elif kind == "doubt":
        doubt[tok] = p[3] if len(p) > 3 else ""
        ts = float(p[2])
        phase[where(ts)][2] += 1
    else:
        unsent[tok] = True
        continue
    for n, k in enumerate(kills):
        if k["t_kill"] <= ts <= k["t_up"]:
            sent_down[n] += 1
        if kind == "ack" and ts > k["t_up"]:
            acked_after[n] += 1
long = {}
for l in lines("long"):
    k, tok, jid = l.split()
    long[tok] = jid
    acked[tok] = jid
running_at_kill, waiting_at_kill = {}, {}
for k in kills:
    w = [r.split(":")[1:] for r in k["running"] if r.startswith("w:")]
    k["waiting"] = w
    k["running"] = [r.split(":") for r in k["running"] if not r.startswith("w:")]
    running_at_kill.update(dict(k["running"]))
    waiting_at_kill.update(dict(w))
jids = [l.strip() for l in lines("jids") if l.strip()]
looks = {}
for jid, l in zip(jids, lines("lookups")):
    looks[jid] = json.loads(l) if l.strip() else None
rows = {}
for l in lines("table"):
    p = l.split("\t")
    rows.setdefault(p[0], []).append(p[1:])
ledger = {}
for l in lines("ledger"):
    ledger[l.strip()] = ledger.get(l.strip(), 0) + 1
f = {k: [] for k in ("lookup_lost", "lookup_bad", "table_missing", "table_dup",
                     "table_bad", "never_ran", "ran_twice", "refused_ran",
                     "doubt_twice", "stray", "long_bad", "table_left")}
for tok, jid in sorted(acked.items()):
    r = looks.get(jid)
    if r is None:
        f["lookup_lost"].append("%s %s: not found" % (tok, jid))
    elif r.get("status") != "done":
        f["lookup_lost"].append("%s %s: %s" % (tok, jid, r.get("status")))
    elif r.get("result") != "ok" or r.get("return_code") != 0:
        f["lookup_bad"].append("%s %s: %s/%s/%s" % (tok, jid, r.get("result"),
                               r.get("return_code"), r.get("sig")))
    rs = rows.get(jid, [])
    if not rs:
        f["table_missing"].append("%s %s" % (tok, jid))
    elif len(rs) > 1:
        f["table_dup"].append("%s %s x%d" % (tok, jid, len(rs)))
    elif rs[0][:3] != ["done", "ok", "0"]:
        f["table_bad"].append("%s %s: %s" % (tok, jid, "/".join(rs[0])))
    n = ledger.get(tok, 0)
    if n == 0:
        f["never_ran"].append("%s %s" % (tok, jid))
    if tok in running_at_kill or tok in waiting_at_kill:
        ok = (r and r.get("status") == "done" and r.get("result") == "ok"
              and r.get("return_code") == 0 and len(rs) == 1
              and rs[0][:3] == ["done", "ok", "0"] and n == 1)
        if not ok:
            f["long_bad"].append("%s %s: lookup %s, table %s, ran %dx" % (
                tok, jid, r and "/".join(str(r.get(x)) for x in
                ("status", "result", "return_code", "sig")),
                ["/".join(x) for x in rs] or "no row", n))
for tok, n in ledger.items():
    if n > 1:
        f["ran_twice"].append("%s x%d (%s)" % (tok, n, "acked " + acked[tok] if tok in acked
                              else "refused" if tok in refused else "in doubt" if tok in doubt else "?"))
    if tok in refused:
        f["refused_ran"].append("%s (refused: %s)" % (tok, refused[tok][:80]))
    elif tok not in acked and tok not in doubt:
        f["stray"].append(tok)
for jid, rs in rows.items():
    for x in rs:
        if x[0] != "done":
            f["table_left"].append("%s: %s" % (jid, "/".join(x)))
probes = []
for l in lines("probes"):
    p = l.split(" ", 4)
    probes.append({"k": int(p[0]), "at": float(p[1]), "rc": int(p[2]),
                   "ms": int(p[3]), "err": p[4] if len(p) > 4 else ""})
bad_probes = ["kill %d +%.1fs: %s after %d ms %s" % (
    p["k"], p["at"], "no answer (timeout)" if p["rc"] == 124 else "exit %d" % p["rc"],
    p["ms"], p["err"]) for p in probes if p["rc"] != 0]
out = {
    "kills": len(kills), "submits": len(subs), "acked": len(acked) - len(long),
    "refused": len(refused), "in_doubt": len(doubt), "unsent": len(unsent),
    "doubt_ran": sum(1 for t in doubt if ledger.get(t, 0) > 0),
    "long": len(long), "running_at_kill": len(running_at_kill),
    "running_at_kill_per_kill": [len(k["running"]) for k in kills],
    "waiting_at_kill": len(waiting_at_kill),
    "waiting_at_kill_per_kill": [len(k["waiting"]) for k in kills],
    "sent_down": sent_down, "acked_after": acked_after,
    "phase": phase, "probes": len(probes), "bad_probes": bad_probes,
    "down_s": [round(k["t_up"] - k["t_kill"], 1) for k in kills],
    "table_rows": sum(len(v) for v in rows.values()),
    "refusals": sorted(set(v[:160] for v in refused.values()))[:3],
    "doubts": sorted(set(v[:160] for v in doubt.values()))[:3],
}
for k, v in f.items():
    out[k + "_n"] = len(v)
    out[k] = v[:6]
print(json.dumps(out))
PY
)
if ! jq -e . >/dev/null 2>&1 <<<"$facts"; then
	fail "the facts are gathered ($RERUN)" "$facts"
	fault_finish; exit 1
fi
j() { jq -r "$1" <<<"$facts"; }
list() { jq -r "$1 | if length == 0 then \"-\" else join(\"; \") end" <<<"$facts"; }
echo "seed $seed: $(j '"\(.kills) kills (down \(.down_s | map(tostring) | join(",")) s), \(.submits) submits: \(.acked) acked, \(.refused) refused, \(.in_doubt) in doubt (\(.doubt_ran) ran), \(.unsent) unsent; \(.long) long runs, \(.running_at_kill) running and \(.waiting_at_kill) waiting at a kill; \(.probes) status probes while down"')"
echo "note: submits acked/refused/in doubt before the first kill, while down, after: $(j '.phase | "\(.before | join("/")), \(.down | join("/")), \(.after | join("/"))"')"
[ "$(j .refused)" = 0 ] || echo "note: refusals: $(list .refusals)"
[ "$(j .in_doubt)" = 0 ] || echo "note: in doubt: $(list .doubts)"

# the mechanics: without them the assertions below would prove nothing
expect_eq "mechanics: $KILLS kills of mariadbd, each restarted ($RERUN)" "$(j .kills)" "$KILLS"
expect_eq "mechanics: mariadbd restarted on the same port" "$(mdb url 2>&1)" "$URL"
[ "$(mdb pid 2>/dev/null)" != "$mdb_pid0" ] && pass "mechanics: a new mariadbd process" ||
	fail "mechanics: a new mariadbd process" "pid $(mdb pid 2>&1), first $mdb_pid0"
expect_eq "mechanics: the server on port $M_PORT is this scenario's (marker row)" \
	"$(sql 'SELECT v FROM fm_marker' 2>&1)" "$marker"
[ "$(j '[.sent_down[] | select(. == 0)] | length')" = 0 ] && [ "$(j '.sent_down | length')" = "$KILLS" ] &&
	pass "mechanics: submits were made while MariaDB was down ($(j '.sent_down | join(",")') per kill)" ||
	fail "mechanics: submits were made while MariaDB was down ($RERUN)" "per kill: $(j '.sent_down | join(",")')"
[ "$(j '[.running_at_kill_per_kill[] | select(. == 0)] | length')" = 0 ] && [ "$(j '.running_at_kill_per_kill | length')" = "$KILLS" ] &&
	pass "mechanics: long runs were running at each kill ($(j '.running_at_kill_per_kill | join(",")'))" ||
	fail "mechanics: long runs were running at each kill ($RERUN)" "per kill: $(j '.running_at_kill_per_kill | join(",")')"
# (the third long run waits for a slot; not asserted: a jobd that lost
# track of an earlier kill's long runs may have only one slot busy)
echo "note: long runs waiting at each kill: $(j '.waiting_at_kill_per_kill | join(",")')"
[ "$mech_ok" = 1 ] || fail "mechanics: every step of the kill cycles worked ($RERUN)" "see above"

# 1. jobd up, and answering while the database is down
[ -z "$jobd_died" ] && pass "jobd stayed up the whole time" ||
	fail "jobd stayed up the whole time ($RERUN)" "jobd died $jobd_died" "$(tail -5 "$T/jobd.log")"
[ "$(j .probes)" -gt 0 ] && [ "$(j '.bad_probes | length')" = 0 ] &&
	pass "jobctl status answered while MariaDB was down ($(j .probes) probes, each within $ST s)" ||
	fail "jobctl status answered while MariaDB was down, each within $ST s: jobd's loop blocked on the dead database ($RERUN)" \
		"$(j '.bad_probes | length') of $(j .probes) probes failed: $(list .bad_probes)"

# 2. nothing acknowledged lost, nothing ran twice
[ "$(j '[.acked_after[] | select(. == 0)] | length')" = 0 ] && [ "$(j '.acked_after | length')" = "$KILLS" ] &&
	pass "submits are acknowledged after each restart ($(j '.acked_after | join(",")'))" ||
	fail "submits are acknowledged after each restart, within $RECON s ($RERUN)" \
		"acked after each restart: $(j '.acked_after | join(",")'); refused after a restart: $(j '.phase.after[1]')"
nlost=$(j '.lookup_lost_n + .table_missing_n + .never_ran_n')
[ "$nlost" = 0 ] && pass "nothing acknowledged lost: every acked jid done in lookup, has a row, ran ($(j .acked) + $(j .long) runs)" ||
	fail "nothing acknowledged lost ($RERUN)" \
		"not done in lookup ($(j .lookup_lost_n)): $(list .lookup_lost)" \
		"no row in the table ($(j .table_missing_n)): $(list .table_missing)" \
		"never ran, no ledger line ($(j .never_ran_n)): $(list .never_ran)"
[ "$(j '.lookup_bad_n + .table_bad_n')" = 0 ] &&
	pass "every acked run recorded done/ok/0 (lookup and table: status done, result ok, return_code 0)" ||
	fail "every acked run recorded done/ok/0 ($RERUN)" \
		"lookup ($(j .lookup_bad_n)): $(list .lookup_bad)" "table status/result/code/sig ($(j .table_bad_n)): $(list .table_bad)"
[ "$(j .table_dup_n)" = 0 ] && pass "one table row per acked jid ($(j .table_rows) rows)" ||
	fail "one table row per acked jid ($RERUN)" "$(j .table_dup_n) jids with more: $(list .table_dup)"
[ "$(j .ran_twice_n)" = 0 ] && pass "nothing ran twice (ledger: each token at most once)" ||
	fail "nothing ran twice ($RERUN)" "$(j .ran_twice_n) tokens twice: $(list .ran_twice)"
[ "$(j .refused_ran_n)" = 0 ] && pass "a refused submit did not run ($(j .refused) refused)" ||
	fail "a refused submit did not run ($RERUN)" "$(j .refused_ran_n): $(list .refused_ran)"
[ "$(j .stray_n)" = 0 ] && pass "every token in the ledger belongs to a sent submit" ||
	fail "every token in the ledger belongs to a sent submit ($RERUN)" "$(list .stray)"
[ "$(j .table_left_n)" = 0 ] && pass "nothing left waiting/running in the table" ||
	fail "nothing left waiting/running in the table (after ${DRAIN} s; $RERUN)" \
		"$(j .table_left_n) rows: $(list .table_left)"
left=$(jq -r '"\(.waiting) \(.running)"' <<<"$counts")
[ "$left" = "0 0" ] && pass "nothing left waiting/running in jobd" ||
	fail "nothing left waiting/running in jobd (after ${DRAIN} s; $RERUN)" "waiting running: $left"

# 3. the runs running (or waiting) at the kill are recorded done, ok, code 0
[ "$(j .running_at_kill)" -gt 0 ] && [ "$(j .long_bad_n)" = 0 ] &&
	pass "the long runs running ($(j .running_at_kill)) and waiting ($(j .waiting_at_kill)) at the kills are done/ok/0, once" ||
	fail "the long runs running ($(j .running_at_kill)) and waiting ($(j .waiting_at_kill)) at the kills are recorded done/ok/0, once ($RERUN)" \
		"$(j .long_bad_n) not: $(list .long_bad)"

# jobd exits on SIGTERM (bounded: a jobd stuck on the store must not hang us)
kill -TERM "$JOBD_PID" 2>/dev/null
retry_until 20 sh -c "! kill -0 $JOBD_PID 2>/dev/null"
if kill -0 "$JOBD_PID" 2>/dev/null; then
	fail "jobd exits on SIGTERM within 20 s ($RERUN)" "$(tail -3 "$T/jobd.log")"
	kill -9 "$JOBD_PID" 2>/dev/null
fi
wait "$JOBD_PID" 2>/dev/null; rc=$?
expect_eq "jobd exits 0 on SIGTERM" "$rc" 0
JOBD_PID=""
n=$(grep -c 'ERROR' "$T/jobd.log")
echo "note: jobd logged $n ERROR lines, e.g. $(grep -m1 ERROR "$T/jobd.log" | cut -c1-200)"
mdb stop >/dev/null 2>&1
fault_finish
