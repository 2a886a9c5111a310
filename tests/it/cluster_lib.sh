# cluster_lib.sh — several jobd nodes in one test (a master and workers),
# on top of lib.sh: each node NAME has its state in $T/NAME, its config in
# $T/NAME.conf, its log in $T/NAME.log; `at NAME jobctl-args` talks to it,
# `wire` to the master's wire port $MP.  Source after lib.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MP=$(free_port)
PW=clu5ter
NODES="m w1 w2 w3"

wire() { python3 "$HERE/wireclient.py" --port "$MP" --password "$PW" "$@"; }
field() { python3 -c 'import json,sys; m=json.loads(sys.stdin.readline()); print(eval(sys.argv[1]))' "$1"; }

# The workers' launcher: prints its row id and node; rows of target
# `slow` sleep (for signals).  Each start is logged to $T/launched.
cat > "$T/launch.sh" <<EOF
#!/bin/sh
echo "ran \$1 on \$2"
echo "\$1 \$2" >> "$T/launched"
[ "\$3" = slow ] && exec sleep 30
[ "\$3" = work ] && sleep 0.05
exit 0
EOF
chmod +x "$T/launch.sh"

# node NAME EXTRA-CONFIG: starts a jobd (password NODE_PW, else $PW)
node() {
	local name=$1; shift
	mkdir -p "$T/$name/jobs.d"
	cat > "$T/$name.conf" <<EOF
state_dir = $T/$name
jobs_dir = $T/$name/jobs.d
log_level = debug
name = $name
password = ${NODE_PW:-$PW}
ping_interval = 1s
master_reconnect_timeout = 2s
$*
EOF
	"$JOBD" -c "$T/$name.conf" >>"$T/$name.log" 2>&1 &
	eval "PID_$name=$!"
	retry_until 10 env JOBD_SOCKET="$T/$name/jobd.sock" "$JOBCTL" status ||
		{ echo "$name did not start"; tail -20 "$T/$name.log"; }
}
at() { local n=$1; shift; JOBD_SOCKET="$T/$n/jobd.sock" "$JOBCTL" "$@"; }
stop_node() { local p; eval "p=\${PID_$1:-}"; [ -n "$p" ] && { kill -"${2:-TERM}" "$p" 2>/dev/null; wait "$p" 2>/dev/null; }; eval "PID_$1="; }
stop_nodes() { for n in $NODES; do stop_node "$n" "${1:-TERM}"; done; }
trap 'stop_nodes KILL; cleanup' EXIT

# master_conf / worker_conf NAME EXTRA TARGET-LINES
master_conf() { printf 'role = master\nport = %s\n' "$MP"; }
worker_conf() {
	cat <<EOF
master_host = 127.0.0.1
master_port = $MP
launcher = $T/launch.sh {id} $1 {target}
$2
[targets]
$3
EOF
}

# registered NAME...: every one is up in the master's `workers`
registered() { at m workers --json | python3 -c 'import json,sys
ws={w["name"]: w for w in json.load(sys.stdin)["workers"]}
sys.exit(0 if all(ws.get(n,{}).get("state")=="up" for n in sys.argv[1:]) else 1)' "$@"; }
# worker_state NAME: its state in the master's `workers`
worker_state() { at m workers --json | python3 -c 'import json,sys
ws={w["name"]: w for w in json.load(sys.stdin)["workers"]}; print(ws.get(sys.argv[1],{}).get("state"))' "$1"; }

# cluster_finish: stops every node, checks their logs, finish
cluster_finish() {
	stop_nodes
	for n in $NODES; do
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/$n.log" 2>/dev/null; then
			fail "$n sanitizer-clean" "$(grep -A5 -E 'Sanitizer|runtime error' "$T/$n.log" | head -20)"
		fi
	done
	finish
}
