#!/usr/bin/env bash
# mariadb.sh — a throw-away MariaDB server for the MySQL store's tests.
#
#   scripts/mariadb.sh start   installs mariadb-server if missing (apt-get),
#                              initialises a datadir in a temp dir, starts
#                              mariadbd on 127.0.0.1:<free port> and a unix
#                              socket, creates user jobd (password jobd) and
#                              database jobd_test (jobd may also create
#                              jobd_test* databases: the unit tests make one
#                              per process), prints the store URL
#   scripts/mariadb.sh url     prints the store URL of the running server
#   scripts/mariadb.sh stop    shuts it down and removes the temp dir
#   scripts/mariadb.sh kill9   kill -9 of the running mariadbd (a crash):
#                              the datadir, port and state are kept
#   scripts/mariadb.sh restart starts mariadbd again on the same datadir,
#                              port and socket (after kill9; InnoDB recovers)
#                              and waits until it answers (up to 30 s)
#   scripts/mariadb.sh pid     prints the pid of the running mariadbd
#
# The state (pid, port, dir) lives in $JOBD_MARIADB_STATE (default
# /tmp/jobd-mariadb.<uid>), so start and stop may run from different shells;
# JOBD_MARIADB_PORT_BASE (default 33306) is where the search for a free port
# starts.
# Nothing of the system's own MariaDB (config, datadir, service) is used:
# mariadbd runs with --no-defaults on its own datadir.
set -euo pipefail
STATE=${JOBD_MARIADB_STATE:-/tmp/jobd-mariadb.$(id -u)}
USER_NAME=jobd
USER_PASS=jobd
DB=jobd_test

die() { echo "mariadb.sh: $*" >&2; exit 1; }

install_server() {
	if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then return 0; fi
	echo "mariadb.sh: installing mariadb-server (missing)" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >/dev/null
	$sudo apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
}

# A TCP port nobody listens on, starting at 33306 (or
# $JOBD_MARIADB_PORT_BASE: a scenario that kills its server uses another
# range, so that no other server takes the port while its own is down).
free_port() {
	local p b=${JOBD_MARIADB_PORT_BASE:-33306}
	for p in $(seq "$b" $((b + 100))); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	die "no free port in $b..$((b + 100))"
}

url() {
	[ -f "$STATE/port" ] || die "not running (no $STATE/port)"
	echo "mysql://$USER_NAME:$USER_PASS@127.0.0.1:$(cat "$STATE/port")/$DB"
}

client() { mariadb --no-defaults -uroot --socket="$STATE/sock" "$@"; }

# launch SBIN DIR PORT: mariadbd on DIR's datadir, PORT and the state's
# socket, in the background; its pid in $STATE/pid.  (start and restart:
# the same command line, so a restart is the same server.)
launch() {
	local as=()
	# mariadbd refuses to run as root unless told which user to be.
	[ "$(id -u)" -ne 0 ] || as=(--user=root)
	"$1" --no-defaults --datadir="$2/data" "${as[@]}" \
		--socket="$STATE/sock" --port="$3" --bind-address=127.0.0.1 \
		--pid-file="$2/mariadbd.pid" --log-error="$2/error.log" \
		--skip-name-resolve --innodb-buffer-pool-size=64M \
		--innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \
		>/dev/null 2>&1 &
	echo $! > "$STATE/pid"
}

start() {
	local sbin=/usr/sbin/mariadbd port dir i
	[ ! -f "$STATE/pid" ] || ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null ||
		die "already running (pid $(cat "$STATE/pid")); stop it first"
	rm -rf "$STATE"
	install_server
	command -v mariadbd >/dev/null 2>&1 && sbin=$(command -v mariadbd)
	dir=$(mktemp -d /tmp/jobd-mariadb-data.XXXXXX)
	mkdir -p "$STATE"
	echo "$dir" > "$STATE/dir"
	# mariadbd refuses to run as root unless told which user to be.
	local as=()
	[ "$(id -u)" -ne 0 ] || as=(--user=root)
	mariadb-install-db --no-defaults --datadir="$dir/data" "${as[@]}" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
	port=$(free_port)
	echo "$port" > "$STATE/port"
	launch "$sbin" "$dir" "$port"
	for i in $(seq 1 150); do
		client -e 'SELECT 1' >/dev/null 2>&1 && break
		kill -0 "$(cat "$STATE/pid")" 2>/dev/null ||
			{ tail -20 "$dir/error.log" >&2; die "mariadbd exited"; }
		sleep 0.1
	done
	client -e 'SELECT 1' >/dev/null 2>&1 || { tail -20 "$dir/error.log" >&2; stop; die "mariadbd did not answer in 15 s"; }
	client -e "CREATE DATABASE IF NOT EXISTS $DB;
		CREATE USER IF NOT EXISTS '$USER_NAME'@'%' IDENTIFIED BY '$USER_PASS';
		CREATE USER IF NOT EXISTS '$USER_NAME'@'localhost' IDENTIFIED BY '$USER_PASS';
		GRANT ALL ON \`${DB//_/\\_}%\`.* TO '$USER_NAME'@'%';
		GRANT ALL ON \`${DB//_/\\_}%\`.* TO '$USER_NAME'@'localhost';" ||
		{ stop; die "cannot create user $USER_NAME and database $DB"; }
	url
}

stop() {
	local pid i dir
	[ -d "$STATE" ] || return 0
	if [ -f "$STATE/pid" ]; then
		pid=$(cat "$STATE/pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 1 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	dir=$(cat "$STATE/dir" 2>/dev/null || true)
	case "$dir" in /tmp/jobd-mariadb-data.*) rm -rf "$dir" ;; esac
	rm -rf "$STATE"
}

# alive PID: the process exists and is not a zombie (a kill -9'd mariadbd
# whose parent, the `start` shell, is gone is reaped by whoever adopted it,
# which may be slow or never happen in a container)
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}

kill9() {
	local pid i
	[ -f "$STATE/pid" ] || die "not running (no $STATE/pid)"
	pid=$(cat "$STATE/pid")
	alive "$pid" || die "mariadbd (pid $pid) is not running"
	kill -KILL "$pid"
	for i in $(seq 1 100); do
		alive "$pid" || return 0
		sleep 0.05
	done
	die "mariadbd (pid $pid) still alive 5 s after SIGKILL"
}

restart() {
	local sbin=/usr/sbin/mariadbd port dir i
	[ -f "$STATE/dir" ] && [ -f "$STATE/port" ] || die "nothing to restart (no $STATE/dir or port): use start"
	[ ! -f "$STATE/pid" ] || ! alive "$(cat "$STATE/pid")" ||
		die "already running (pid $(cat "$STATE/pid"))"
	command -v mariadbd >/dev/null 2>&1 && sbin=$(command -v mariadbd)
	dir=$(cat "$STATE/dir")
	port=$(cat "$STATE/port")
	# the error log is appended to, so it tells the whole story
	launch "$sbin" "$dir" "$port"
	for i in $(seq 1 300); do
		client -e 'SELECT 1' >/dev/null 2>&1 && return 0
		alive "$(cat "$STATE/pid")" ||
			{ tail -20 "$dir/error.log" >&2; die "mariadbd exited at restart"; }
		sleep 0.1
	done
	tail -20 "$dir/error.log" >&2
	die "mariadbd did not answer in 30 s after restart"
}

pid() {
	[ -f "$STATE/pid" ] && alive "$(cat "$STATE/pid")" || die "not running"
	cat "$STATE/pid"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) url ;;
kill9) kill9 ;;
restart) restart ;;
pid) pid ;;
*) echo "usage: $0 start|stop|url|kill9|restart|pid" >&2; exit 2 ;;
esac
