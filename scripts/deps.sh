#!/bin/sh
# Installs the Debian packages jobd needs, only those that are missing.
#   scripts/deps.sh build   what building and `make run` need
#   scripts/deps.sh         that and what `make test` needs (servers,
#                           peers, a browser, qemu, linters)
set -e
PKGS="libuv1-dev libsqlite3-dev libmariadb-dev libjansson-dev libinih-dev libcmocka-dev meson ninja-build pkg-config gcc python3 libsystemd-dev scdoc libmicrohttpd-dev"
if [ "${1:-}" != build ]; then
PKGS="$PKGS jq procps clang libclang-rt-14-dev faketime clang-tidy cppcheck mariadb-server mariadb-client curl build-essential dpkg-dev debhelper fakeroot debootstrap man-db prometheus diod"
# the dashboard's browser test (tests/it/test_dashboard.sh)
PKGS="$PKGS chromium nodejs"
# the Linux kernel's 9P client under qemu (tests/it/test_ninep_kernel.sh)
PKGS="$PKGS qemu-system-x86"
fi
[ -n "$JOBD_EXTRA_PKGS" ] && PKGS="$PKGS $JOBD_EXTRA_PKGS"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "jobd: installing missing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
