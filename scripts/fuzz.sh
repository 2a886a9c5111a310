#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) and runs
# each for a while on a copy of its corpus (fuzz/corpus/NAME; libFuzzer
# adds inputs to the corpus it runs on, and the repository's stays as it
# is).  A crash, a sanitizer report or an input taking over 2 s fails the
# target.  Prints "fuzz_NAME: ok (N runs)" or the failure per target, then
# "RESULT <passed> <failed>" as the black-box tests do.
# Usage: scripts/fuzz.sh [NAME...]   (default: every fuzz/fuzz_*.c)
# Env: FUZZ_SECONDS (30) per target; FUZZ_SECONDS_<NAME> (e.g.
# FUZZ_SECONDS_SCHEDULE=60) for one target; FUZZ_KEEP=1 keeps the work dir.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-30}
CC=${FUZZ_CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Isrc"

# the src files each target needs (from its includes)
sources() {
	case $1 in
	schedule) echo src/core/schedule/schedule.c src/core/schedule/cron.c \
	               src/core/schedule/calendar.c src/core/schedule/calendar_parse.c src/core/tz.c src/core/timefmt.c ;;
	shlex)    echo src/core/shlex.c ;;
	mysql_uri) echo src/store/mysql_uri.c ;;
	frame)    echo src/core/frame.c ;;
	config)   echo src/engine/config.c src/engine/log.c src/core/names.c \
	               src/core/timefmt.c src/core/tz.c ;;
	jobfile)  echo src/engine/jobdef.c src/engine/jobfield.c src/engine/requires.c src/engine/tasks.c \
	               src/engine/jobfile.c src/engine/config.c src/engine/log.c \
	               src/core/names.c src/core/timefmt.c src/core/tz.c \
	               src/core/strpool.c src/core/probeparse.c \
	               src/core/shlex.c src/core/schedule/schedule.c \
	               src/core/schedule/cron.c src/core/schedule/calendar.c src/core/schedule/calendar_parse.c ;;
	wire)     echo src/core/frame.c src/core/wire.c src/core/names.c src/engine/log.c src/faces/peer.c \
	               src/core/timefmt.c ;;   # includes src/faces/server.c
	*)        echo "src/core/$1.c" ;;
	esac
}
# and the libraries
libs() {
	case $1 in
	config)  echo -linih ;;
	jobfile) echo -linih "$(pkg-config --libs jansson)" ;;
	wire)    echo "$(pkg-config --libs jansson libuv)" ;;
	esac
	echo -lm
}

W=$(mktemp -d /tmp/jobd-fuzz.XXXXXX)
[ -n "${FUZZ_KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
export TZDIR=${TZDIR:-/usr/share/zoneinfo}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; names+=("${n%.c}"); done
fi
passed=0; failed=0
for n in "${names[@]}"; do
	bin=$W/fuzz_$n
	# shellcheck disable=SC2046
	if ! $CC $CFLAGS "fuzz/fuzz_$n.c" $(sources "$n") $(libs "$n") -o "$bin" >"$W/$n.build" 2>&1; then
		echo "fuzz_$n: FAILED to build"; sed 's/^/  /' "$W/$n.build" | head -20
		failed=$((failed + 1)); continue
	fi
	var=FUZZ_SECONDS_$(echo "$n" | tr '[:lower:]' '[:upper:]')
	secs=${!var:-$SECS}
	mkdir -p "$W/corpus-$n" "$W/crash-$n"
	[ -d "fuzz/corpus/$n" ] && cp -r "fuzz/corpus/$n/." "$W/corpus-$n/"
	"$bin" -max_total_time="$secs" -timeout=2 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$W/crash-$n/" \
		"$W/corpus-$n" >"$W/$n.log" 2>&1
	rc=$?
	runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$W/$n.log" | grep -oE '[0-9]+$' | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz_$n: ok (${runs:-?} runs in ${secs} s)"
		passed=$((passed + 1))
		continue
	fi
	failed=$((failed + 1))
	echo "fuzz_$n: FAILED (exit $rc after ${runs:-?} runs)"
	grep -E 'ERROR: |SUMMARY: |runtime error|ALARM|Test unit written' "$W/$n.log" | head -8 | sed 's/^/  /'
	grep -E '^ +#[0-9]+ .*(src|fuzz)/[^ ]+\.c:' "$W/$n.log" | head -12 |
		sed -E 's/ \(BuildId: [0-9a-f]+\)//; s/^ +/    /'
	for a in "$W/crash-$n"/*; do
		[ -f "$a" ] || continue
		echo "  input ($(basename "$a"), $(wc -c <"$a") bytes, base64): $(head -c 512 "$a" | base64 -w0)"
		if [ -n "${FUZZ_KEEP:-}" ]; then echo "  kept: $a"; fi
	done
done
echo "RESULT $passed $failed"
[ "$failed" -eq 0 ]
