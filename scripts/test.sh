#!/usr/bin/env bash
# Runs every test: the cmocka unit tests, then the black-box tests in
# tests/it (a real jobd, a real jobctl, real children).  Ends with the line
# "N passed, N failed".  Usage: scripts/test.sh BUILD_DIR [it-test-name...]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
export JOBD_BUILD=$PWD/$BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# A throw-away MariaDB for the MySQL store's tests (scripts/deps.sh installs
# it); its URL in JOBD_TEST_MYSQL, stopped on exit.  If it cannot start,
# those tests say "skipped" with the reason.
if [ -z "${JOBD_TEST_MYSQL:-}" ]; then
	export JOBD_MARIADB_STATE=/tmp/jobd-mariadb.test.$$
	if JOBD_TEST_MYSQL=$(scripts/mariadb.sh start 2>"$JOBD_MARIADB_STATE.log"); then
		export JOBD_TEST_MYSQL
		trap 'scripts/mariadb.sh stop' EXIT
	else
		unset JOBD_TEST_MYSQL
		echo "MariaDB did not start (MySQL store tests skip):"; tail -5 "$JOBD_MARIADB_STATE.log"
	fi
	rm -f "$JOBD_MARIADB_STATE.log"
fi
passed=0; failed=0; failures=()

# skipnote PASSED FAILED OUTPUT: ", skipped: why" for a test that ran
# nothing (its first line that says why), else nothing
skipnote() {
	[ "$1" -eq 0 ] && [ "$2" -eq 0 ] || return 0
	local why; why=$(grep -iE 'skip' <<<"$3" | head -1 | sed -E 's/^(note: |\[[^]]*\] )//')
	echo ", skipped: ${why:-it ran no test}"
}

count() {   # count NAME PASSED FAILED
	passed=$((passed + $2)); failed=$((failed + $3))
	[ "$3" -eq 0 ] || failures+=("$1")
}

if [ $# -eq 0 ]; then
	echo "== unit tests"
	for t in "$BUILD"/tests/unit/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		out=$(TZDIR=/usr/share/zoneinfo "$t" 2>&1); rc=$?
		p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
		f=$(grep -oE '^\[  FAILED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
		p=${p:-0}; f=${f:-0}
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1      # crashed or sanitizer abort
		printf '%-28s %3d passed, %d failed%s\n' "$(basename "$t")" "$p" "$f" \
			"$(skipnote "$p" "$f" "$out")"
		[ "$f" -eq 0 ] || echo "$out" | grep -E 'FAILED|ERROR|error|runtime' | head -20
		count "$(basename "$t")" "$p" "$f"
	done
fi

echo "== black-box tests"
# Most of a black-box test's time is waiting (for runs, timers, retries),
# so JOBD_TEST_JOBS of them (default 2) run at once; a test that changes
# the machine (users, packages) or needs it to itself (a VM, a browser)
# runs alone afterwards.  Results are printed in the tests' order, each
# with the seconds it took.
its=("$@"); [ ${#its[@]} -gt 0 ] || its=(tests/it/test_*.sh)
njobs=${JOBD_TEST_JOBS:-2}
logdir=$(mktemp -d)
alone() { grep -qE 'useradd|groupadd|dpkg|apt-get|qemu|chromium' "$1"; }
run_it() {   # run_it TEST LOG: the test's output in LOG, "rc secs" in LOG.rc
	local start=$SECONDS
	timeout 600 bash "$1" >"$2" 2>&1
	echo "$? $((SECONDS - start))" >"$2.rc"
}
paths=()
for t in "${its[@]}"; do
	[ -f "$t" ] || t=tests/it/$t.sh
	paths+=("$t")
done
for pass in shared alone; do
	for i in "${!paths[@]}"; do
		t=${paths[$i]}
		if alone "$t"; then [ $pass = alone ] || continue; else [ $pass = shared ] || continue; fi
		if [ $pass = shared ] && [ "$njobs" -gt 1 ]; then
			while [ "$(jobs -rp | wc -l)" -ge "$njobs" ]; do wait -n; done
			run_it "$t" "$logdir/$i" &
		else
			run_it "$t" "$logdir/$i"
		fi
	done
	wait
done
for i in "${!paths[@]}"; do
	t=${paths[$i]} log=$logdir/$i
	read -r rc secs <"$log.rc" || { rc=1; secs=0; }
	line=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$log" | tail -1)
	p=$(cut -d' ' -f2 <<<"${line:-RESULT 0 1}"); f=$(cut -d' ' -f3 <<<"${line:-RESULT 0 1}")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	printf '%-28s %3d passed, %d failed%s (%ss)\n' "$(basename "$t" .sh)" "$p" "$f" \
		"$(skipnote "$p" "$f" "$(cat "$log")")" "$secs"
	[ "$f" -eq 0 ] || grep -E '^(FAIL|  )' "$log" | head -40
	[ "$f" -eq 0 ] || [ -z "${CI:-}" ] || tail -30 "$log"
	count "$(basename "$t")" "$p" "$f"
done
rm -rf "$logdir"

# a short load test (tests/load/load.sh; `make load` is the full one),
# normal build only: the sanitizers' memory would hide jobd's.  20 s: the
# memory window (the last half) starts after the threads' malloc arenas
# have warmed up
if [ $# -eq 0 ] && [ "$(basename "$BUILD")" != build-san ]; then
	echo "== load"
	log=$(mktemp)
	LOAD_SECONDS=20 LOAD_CLIENTS=200 timeout 120 tests/load/load.sh "$BUILD" >"$log" 2>&1; rc=$?
	line=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$log" | tail -1)
	p=$(cut -d' ' -f2 <<<"${line:-RESULT 0 1}"); f=$(cut -d' ' -f3 <<<"${line:-RESULT 0 1}")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	printf '%-28s %3d passed, %d failed\n' load "$p" "$f"
	grep -E '^(all |requests/s|VmRSS over)' "$log" | sed 's/^/  /'
	[ "$f" -eq 0 ] || grep -E '^(FAIL|  )' "$log" | head -40
	count load "$p" "$f"
	rm -f "$log"
fi

# the fault scenarios (scripts/fault.sh, tests/fault) in short mode, normal
# build only (kill -9 loops and 200 MB of output are slow under ASan)
if [ $# -eq 0 ] && [ "$(basename "$BUILD")" != build-san ]; then
	echo "== fault scenarios (short)"
	log=$(mktemp)
	FAULT_SHORT=1 FAULT_TIMEOUT=300 scripts/fault.sh "$BUILD" >"$log" 2>&1; rc=$?
	line=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$log" | tail -1)
	p=$(cut -d' ' -f2 <<<"${line:-RESULT 0 1}"); f=$(cut -d' ' -f3 <<<"${line:-RESULT 0 1}")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	grep -v '^RESULT' "$log"
	count fault "$p" "$f"
	rm -f "$log"
fi

# fuzzing (scripts/fuzz.sh), normal build only: the targets bring their own
# ASan + UBSan
if [ $# -eq 0 ] && [ "$(basename "$BUILD")" != build-san ] && command -v clang >/dev/null; then
	echo "== fuzzing"
	# CI: 30 s a target (issue "evidence"); locally 10 s
	fz=(FUZZ_SECONDS=10)
	[ "${CI:-}" != true ] || fz=(FUZZ_SECONDS=30 FUZZ_SECONDS_NINEP=60)   # 9P: issue "9P"
	log=$(mktemp)
	env "${fz[@]}" scripts/fuzz.sh >"$log" 2>&1; rc=$?
	line=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$log" | tail -1)
	p=$(cut -d' ' -f2 <<<"${line:-RESULT 0 1}"); f=$(cut -d' ' -f3 <<<"${line:-RESULT 0 1}")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	printf '%-28s %3d passed, %d failed\n' fuzz "$p" "$f"
	[ "$f" -eq 0 ] || grep -v '^RESULT' "$log" | head -40
	count fuzz "$p" "$f"
	rm -f "$log"
fi

# the layers (scripts/layers.sh): no upward include between src/ folders
if [ $# -eq 0 ]; then
	echo "== layers"
	out=$(scripts/layers.sh 2>&1); rc=$?
	p=1; f=0; [ "$rc" -eq 0 ] || { p=0; f=1; }
	printf '%-28s %3d passed, %d failed\n' layers "$p" "$f"
	[ "$f" -eq 0 ] || sed 's/^/  /' <<<"$out"
	count layers "$p" "$f"
fi

# lint (scripts/lint.sh: clang-tidy + cppcheck, zero findings), in CI and
# the normal build only: it takes minutes
if [ $# -eq 0 ] && [ "$(basename "$BUILD")" != build-san ] && [ "${CI:-}" = true ]; then
	echo "== lint"
	log=$(mktemp)
	scripts/lint.sh "$BUILD" >"$log" 2>&1; rc=$?
	p=1; f=0; [ "$rc" -eq 0 ] || { p=0; f=1; }
	printf '%-28s %3d passed, %d failed\n' lint "$p" "$f"
	[ "$f" -eq 0 ] || sed 's/^/  /' "$log"
	count lint "$p" "$f"
	rm -f "$log"
fi

[ ${#failures[@]} -eq 0 ] || echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
