#!/bin/sh
# make run: jobd in the foreground on ./var with the example jobs, the
# dashboard and HTTP API on loopback, and 9P on loopback.  The config is
# examples/jobd.conf plus the faces' keys, written to var/run.conf (0600:
# it holds the HTTP token, made anew on each start).
set -e
BUILD=${1:-build}
cd "$(dirname "$0")/.."
mkdir -p var
chmod 700 var
# a free loopback port, the wanted one when it is free
port() { python3 -c 'import socket,sys
s=socket.socket()
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"; }
HTTP_PORT=$(port 8080)
NINEP_PORT=$(port 5640)
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
umask 077
{
	sed -n '/^\[targets\]/q;p' examples/jobd.conf
	cat <<CONF
http_listen = 127.0.0.1:$HTTP_PORT
http_token = $TOKEN
always_allow_localhost = yes    ; loopback GETs see the overview without it
ninep_listen = 127.0.0.1:$NINEP_PORT
CONF
	sed -n '/^\[targets\]/,$p' examples/jobd.conf
} >var/run.conf
cat <<MSG
jobd is starting in the foreground (Ctrl-C stops it gracefully).
State: $PWD/var    Jobs: $PWD/examples/jobs.d    Log: this terminal.
Dashboard: http://127.0.0.1:$HTTP_PORT/   (token for changes: $TOKEN)
9P: 127.0.0.1:$NINEP_PORT (from loopback: list, start/stop; diodls -s 127.0.0.1:$NINEP_PORT /jobs; docs/9p.md)
In another terminal:
    export PATH=$PWD/$BUILD:\$PATH JOBD_SOCKET=$PWD/var/jobd.sock
    jobctl list
    jobctl run disk-usage
    jobctl runs
    curl -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$HTTP_PORT/api/v1/jobs
MSG
exec "$BUILD/jobd" -c var/run.conf
