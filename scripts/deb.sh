#!/usr/bin/env bash
# make deb: builds the Debian package with dpkg-buildpackage (debian/) from
# a copy of the source tree (dpkg-buildpackage writes into the parent
# directory, which is not ours to litter) and puts the .deb in
# build-deb/ (or $1).  Prints the .deb's path on the last line.
# DEB_BUILD_OPTIONS defaults to "nocheck parallel=N" (`make test` runs
# the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-build-deb}")
version=$(dpkg-parsechangelog -S Version)
stage=$(mktemp -d /tmp/jobd-deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
src=$stage/jobd-$version
mkdir -p "$src" "$OUT"

# the files git knows or would know (new ones not yet committed too), not
# build directories or ./var; outside a git checkout (a tarball) all but those
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude='./build' --exclude='./build-*' --exclude='./var' -cf - . |
		tar -xf - -C "$src"
fi

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck parallel=$(nproc)}
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$stage/build.log" 2>&1 ||
	{ tail -40 "$stage/build.log" >&2; echo "deb.sh: dpkg-buildpackage failed" >&2; exit 1; }
rm -f "$OUT"/jobd_*.deb "$OUT"/jobd-dbgsym_*.deb
cp "$stage"/*.deb "$OUT"/
grep -E '^(dpkg-shlibdeps|dh_).*(warning|error)' "$stage/build.log" >&2 || true
ls "$OUT"/jobd_"$version"_*.deb
