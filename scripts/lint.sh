#!/usr/bin/env bash
# make lint: clang-tidy (checks in .clang-tidy) and cppcheck over src/,
# with the build's compile_commands.json.  Prints the findings and ends with
# "lint: N findings"; exits non-zero when there are any.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
out=$(mktemp); trap 'rm -f "$out"' EXIT
files=$(git ls-files 'src/*.c')
# clang-tidy, two at a time
printf '%s\n' $files | xargs -P "$(nproc)" -n 4 clang-tidy -p "$BUILD" --quiet \
	2>/dev/null | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' >>"$out"
# cppcheck: jansson's iteration macros come from its header
cppcheck --enable=warning,performance,portability --inline-suppr -q \
	--std=c11 -D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem \
	--suppress=unknownMacro --error-exitcode=0 \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	src 2>>"$out" >/dev/null
sort -u "$out" -o "$out"
cat "$out"
n=$(grep -c . "$out")
echo "lint: $n findings"
[ "$n" -eq 0 ]
