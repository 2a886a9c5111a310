#!/usr/bin/env bash
# test_dashboard.sh — the dashboard in a real browser against a real jobd:
# Debian's chromium driven headless by playwright-core (tests/browser/
# dashboard.mjs; pinned by its package.json + package-lock.json, installed
# with npm into the build dir: playwright-core downloads no browser).  It
# creates a job, runs it, sees the output arrive live and the run end ok,
# runs a confirm job through its dialog, pauses a target; jobctl then
# checks through the socket what the clicks did.  Screenshots go to
# BUILD/dashboard-shots/ (docs/img/ has copies).  It runs in the sanitizer
# pass too (about a minute): the clicks drive an ASan jobd's HTTP face.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for c in "$CHROMIUM" node npm python3; do
	command -v "$c" >/dev/null ||
		{ fail "$c is installed (scripts/deps.sh installs chromium)"; finish; exit 1; }
done

# playwright-core, at the locked version, under the build dir (once; again
# when the lock changes).  Its scripts run from there so that node finds it.
NM=$BUILD/browser-tests
mkdir -p "$NM"
if ! cmp -s "$HERE/../browser/package-lock.json" "$NM/package-lock.json" ||
   [ ! -d "$NM/node_modules/playwright-core" ]; then
	cp "$HERE/../browser/package.json" "$HERE/../browser/package-lock.json" "$NM/"
	( cd "$NM" && npm ci --no-audit --no-fund --loglevel=error ) >"$T/npm.log" 2>&1 ||
		{ fail "npm ci installs playwright-core" "$(tail -5 "$T/npm.log")"; finish; exit 1; }
fi
cp "$HERE/../browser/dashboard.mjs" "$NM/"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
jobd_start "http_listen = 127.0.0.1:$PORT
http_token = $TOKEN"
URL=http://127.0.0.1:$PORT
http_up() { python3 -c 'import sys,urllib.request as u
u.urlopen(u.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]}), timeout=2)' "$URL/api/v1/status" "$TOKEN"; }
retry_until 20 http_up ||
	{ fail "jobd's HTTP face answers" "$(tail -5 "$T/jobd.log")"; finish; exit 1; }

SHOTS=$BUILD/dashboard-shots
rm -rf "$SHOTS"
out=$(cd "$NM" && JOBD_URL=$URL JOBD_HTTP_TOKEN=$TOKEN SHOTS=$SHOTS \
	GO_FILE=$T/go CHROMIUM=$CHROMIUM timeout 300 node dashboard.mjs 2>&1)
rc=$?
echo "$out"
while IFS= read -r l; do
	case $l in
	"ok   "*) PASS=$((PASS + 1)) ;;
	"FAIL "*) FAIL=$((FAIL + 1)) ;;
	esac
done <<<"$out"
[ $rc -eq 0 ] || grep -q '^FAIL ' <<<"$out" || fail "dashboard.mjs runs to its end" "exit $rc"

# what the clicks did, seen through the socket
expect_match "jobctl: the job created in the browser exists" "$(jobctl show hello 2>&1)" "echo line-one"
expect_match "jobctl: its run ended ok" "$(jobctl runs hello 2>&1)" "ok"
expect_match "jobctl: the confirm job ran once, confirmed" "$(jobctl runs careful 2>&1)" "ok"
expect_match "jobctl: the target was paused in the browser" \
	"$(jobctl targets 2>&1 | awk '$1 == "default"')" "(yes|true|paused)"
for s in job run-live run jobs targets phone-jobs phone-run; do
	[ -s "$SHOTS/$s.png" ] || fail "screenshot $s.png saved" "in $SHOTS"
done
[ -s "$SHOTS/run.png" ] && pass "screenshots saved in $SHOTS"
finish
