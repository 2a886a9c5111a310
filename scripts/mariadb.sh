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
#
# The state (pid, port, dir) lives in $JOBD_MARIADB_STATE (default
# /tmp/jobd-mariadb.<uid>), so start and stop may run from different shells.
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

# A TCP port nobody listens on, starting at 33306.
free_port() {
	local p
	for p in $(seq 33306 33406); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	die "no free port in 33306..33406"
}

url() {
	[ -f "$STATE/port" ] || die "not running (no $STATE/port)"
	echo "mysql://$USER_NAME:$USER_PASS@127.0.0.1:$(cat "$STATE/port")/$DB"
}

client() { mariadb --no-defaults -uroot --socket="$STATE/sock" "$@"; }

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
	"$sbin" --no-defaults --datadir="$dir/data" "${as[@]}" \
		--socket="$STATE/sock" --port="$port" --bind-address=127.0.0.1 \
		--pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
		--skip-name-resolve --innodb-buffer-pool-size=64M \
		--innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \
		>/dev/null 2>&1 &
	echo $! > "$STATE/pid"
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

case "${1:-}" in
start) start ;;
stop) stop ;;
url) url ;;
*) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
