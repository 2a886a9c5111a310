#!/bin/sh
# make run: jobd in the foreground on ./var with the example jobs.
set -e
BUILD=${1:-build}
cd "$(dirname "$0")/.."
mkdir -p var
cat <<MSG
jobd is starting in the foreground (Ctrl-C stops it gracefully).
State: $PWD/var    Jobs: $PWD/examples/jobs.d    Log: this terminal.
In another terminal:
    export PATH=$PWD/$BUILD:\$PATH JOBD_SOCKET=$PWD/var/jobd.sock
    jobctl list
    jobctl run disk-usage
    jobctl runs
MSG
exec "$BUILD/jobd" -c examples/jobd.conf
