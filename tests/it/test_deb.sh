#!/usr/bin/env bash
# test_deb.sh — the Debian package on a clean Debian 12: `make deb`
# (scripts/deb.sh) builds it; in a debootstrap --variant=minbase bookworm
# chroot `dpkg -i` unpacks it and `apt-get -f install` fetches its
# dependencies from the Debian archive (a missing Depends shows); jobd is
# started as the unit's ExecStart= says (no systemd in a chroot: the test
# makes the unit's RuntimeDirectory=), the installed jobctl talks to it at
# its default socket and a submitted run's output comes back; `dpkg -r`
# removes the package and keeps the conffile, `dpkg -P` removes the state.
#
# Caches in $JOBD_PKG_CACHE (default /var/cache/jobd-test): the chroot,
# made once by debootstrap (minutes) and used read-only as the lower layer
# of an overlay per run; apt's downloads; the .deb, keyed by a hash of the
# source tree (JOBD_PKG_REBUILD=1 builds it anyway).
# Skips, saying why: in the sanitizer build (the package is built from the
# sources, not from that build: one pass does it), when not root, without
# debootstrap or dpkg-buildpackage, or when the Debian archive cannot be
# reached.  JOBD_PKG_MIRROR: the mirror (default http://deb.debian.org/debian).
skip() { echo "note: $*: skipped"; echo "RESULT 0 0"; exit 0; }
[ "$(basename "${JOBD_BUILD:-build}")" != build-san ] ||
	skip "the package test runs in the normal build's pass only"
[ "$(id -u)" -eq 0 ] || skip "not root (debootstrap, chroot and mount need root)"
for c in debootstrap dpkg-buildpackage chroot unshare flock; do
	command -v "$c" >/dev/null || skip "no $c (scripts/deps.sh installs it)"
done
# a mount namespace of our own: whatever is mounted below goes with us
if [ -z "${JOBD_PKG_NS:-}" ]; then
	JOBD_PKG_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${JOBD_PKG_CACHE:-/var/cache/jobd-test}
MIRROR=${JOBD_PKG_MIRROR:-http://deb.debian.org/debian}
BASE=$CACHE/bookworm
R=$T/root
JPID=""
MOUNTS=()

# unmount (innermost first), always; lib.sh's cleanup would remove $T
# across the mounts: never, --one-file-system
cleanup_deb() {
	[ -n "$JPID" ] && kill -9 "$JPID" 2>/dev/null
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null
	done
	[ -n "${KEEP_T:-}" ] || rm -rf --one-file-system "$T"
}
trap cleanup_deb EXIT
trap 'exit 143' TERM INT HUP    # a timeout still unmounts
mnt() { mount "$@" && MOUNTS+=("${!#}"); }
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
unreachable() { grep -qE 'Failed to fetch|Could not resolve|Temporary failure|Unable to connect|Could not connect|Network is unreachable' "$@"; }

mkdir -p "$CACHE/archives/partial" "$CACHE/deb"
exec 9>"$CACHE/lock"
flock 9                    # one run at a time: they share the caches

# ---- the .deb (built unless this source tree's was built before)
t0=$SECONDS
key=""                     # outside a git checkout: always built
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	key=$(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sha256sum 2>/dev/null | sha256sum | cut -c1-16)
fi
deb=$(ls "$CACHE/deb/$key"/jobd_*.deb 2>/dev/null | head -1)
how="cached: this source tree's"
if [ -z "$deb" ] || [ -n "${JOBD_PKG_REBUILD:-}" ] || [ -z "$key" ]; then
	rm -rf "${CACHE:?}/deb"/*
	deb=$("$SRC/scripts/deb.sh" "$CACHE/deb/${key:-tree}" 2>"$T/deb.log" | tail -1)
	how="$((SECONDS - t0)) s"
fi
if [ -f "$deb" ]; then
	pass "make deb builds $(basename "$deb") ($how)"
else
	rm -rf "${CACHE:?}/deb/${key:-tree}"
	fail "make deb builds a .deb" "$(tail -20 "$T/deb.log")"; finish; exit 1
fi
expect_match "its Depends come from the shared libraries" \
	"$(dpkg-deb -f "$deb" Depends)" 'libuv1.*libsqlite3|libsqlite3.*libuv1'

# ---- the chroot: debootstrap once, then an overlay on it per run
t0=$SECONDS
if [ ! -f "$BASE/.jobd-complete" ]; then
	echo "no cached chroot: debootstrap --variant=minbase bookworm (once)"
	rm -rf --one-file-system "$BASE"
	debootstrap --variant=minbase bookworm "$BASE" "$MIRROR" >"$T/debootstrap.log" 2>&1 ||
		{ rm -rf --one-file-system "$BASE"
		  skip "debootstrap cannot run: $(grep -E 'E:|W:' "$T/debootstrap.log" | tail -2 | tr '\n' ' ')"; }
	# the package lists, so that a run's apt-get needs no update
	cp /etc/resolv.conf "$BASE/etc/resolv.conf" 2>/dev/null
	chroot "$BASE" apt-get update -q >"$T/update.log" 2>&1 ||
		{ rm -rf --one-file-system "$BASE"
		  skip "apt-get update in the chroot failed: $(tail -2 "$T/update.log" | tr '\n' ' ')"; }
	chroot "$BASE" apt-get clean
	touch "$BASE/.jobd-complete"
fi
mkdir -p "$T/upper" "$T/work" "$R"
if ! mnt -t overlay overlay -o "lowerdir=$BASE,upperdir=$T/upper,workdir=$T/work" "$R"; then
	echo "note: no overlayfs here, copying the chroot"
	cp -a "$BASE/." "$R/"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
mnt -t proc proc "$R/proc"
mnt -t sysfs sysfs "$R/sys"
mnt --bind /dev "$R/dev"
mnt -t tmpfs tmpfs "$R/run"
mnt --bind "$CACHE/archives" "$R/var/cache/apt/archives"
[ -z "$(in_root dpkg-query -W -f='${Status}' jobd 2>/dev/null)" ] &&
	pass "a clean Debian 12 chroot without jobd ($((SECONDS - t0)) s)" ||
	fail "a clean Debian 12 chroot without jobd"

# ---- dpkg -i, then apt-get -f install: the dependencies from the archive
t0=$SECONDS
cp "$deb" "$R/tmp/"
in_root dpkg -i "/tmp/$(basename "$deb")" >"$T/apt.log" 2>&1
if ! in_root apt-get -f install -y -q --no-install-recommends >>"$T/apt.log" 2>&1; then
	# stale package lists (the archive moved on) or none yet: refresh once
	in_root apt-get update -q >>"$T/apt.log" 2>&1 ||
		skip "the Debian archive cannot be reached: $(grep -E '^(E|W|Err):' "$T/apt.log" | tail -1)"
	in_root apt-get -f install -y -q --no-install-recommends >>"$T/apt.log" 2>&1 ||
		! unreachable "$T/apt.log" ||
		skip "the Debian archive cannot be reached: $(grep -E '^(E|W|Err):' "$T/apt.log" | tail -1)"
fi
st=$(in_root dpkg-query -W -f='${Status}' jobd 2>&1)
[ "$st" = "install ok installed" ] &&
	pass "dpkg -i + apt-get -f install: jobd and its dependencies ($((SECONDS - t0)) s)" ||
	fail "dpkg -i + apt-get -f install: jobd and its dependencies" "status: $st" "$(tail -20 "$T/apt.log")"
for f in /usr/sbin/jobd /usr/bin/jobctl /etc/jobd/jobd.conf /lib/systemd/system/jobd.service \
	/usr/share/man/man8/jobd.8.gz /usr/share/man/man1/jobctl.1.gz \
	/usr/share/man/man5/jobd.conf.5.gz /usr/share/doc/jobd/examples/jobs.d/examples.conf; do
	[ -f "$R$f" ] && pass "installed: $f" || fail "installed: $f"
done
[ -d "$R/etc/jobd/jobs.d" ] && pass "installed: /etc/jobd/jobs.d" || fail "installed: /etc/jobd/jobs.d"
expect_eq "the postinst made /var/lib/jobd, mode 0700" "$(stat -c %a "$R/var/lib/jobd" 2>&1)" 700
expect_match "jobd.conf is a conffile" "$(in_root dpkg-query -W -f='${Conffiles}' jobd)" '/etc/jobd/jobd.conf'
expect_eq "the packaged jobctl names no build tree's socket" \
	"$(grep -c 'var/jobd.sock' "$R/usr/bin/jobctl")" 0
ok "jobd --check accepts the installed configuration" in_root /usr/sbin/jobd -c /etc/jobd/jobd.conf --check

# ---- jobd as the unit starts it: ExecStart=, RuntimeDirectory=jobd (0755)
unit=$R/lib/systemd/system/jobd.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
expect_match "the unit is Type=notify and runs /usr/sbin/jobd" "$(cat "$unit")" \
	$'\nType=notify\n.*ExecStart=/usr/sbin/jobd '
install -d -m 0755 "$R/run/jobd"
cp "$R/usr/share/doc/jobd/examples/jobs.d/examples.conf" "$R/etc/jobd/jobs.d/"
# shellcheck disable=SC2086   # ExecStart= is words
(exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $exec_start) >"$T/jobd.log" 2>&1 &
JPID=$!                    # jobd itself (exec): SIGTERM goes to it
retry_until 30 in_root jobctl status || echo "jobd did not answer: $(tail -5 "$T/jobd.log")"
expect_match "jobctl status answers the installed jobd at /run/jobd/jobd.sock" \
	"$(in_root jobctl status 2>&1)" '/var/lib/jobd'
expect_match "the job files of /etc/jobd/jobs.d are loaded" "$(in_root jobctl list 2>&1)" 'disk-usage'
expect_eq "jobctl submit --wait: the run's output" \
	"$(in_root jobctl submit --wait -- echo hello from the chroot 2>&1)" "hello from the chroot"
jid=$(in_root jobctl submit -- sh -c 'exit 3' 2>&1)
expect_match "jobctl submit prints a jid" "$jid" '^[0-9]{20}$'
expect_code 3 "jobctl wait: its exit status comes back" in_root jobctl wait "$jid"
[ -f "$R/var/lib/jobd/jobd.db" ] && pass "the store is /var/lib/jobd/jobd.db" ||
	fail "the store is /var/lib/jobd/jobd.db" "$(ls -la "$R/var/lib/jobd")"
kill -TERM "$JPID"; wait "$JPID"; rc=$?; JPID=""
expect_eq "jobd stops cleanly on SIGTERM" "$rc" 0

if command -v systemd-analyze >/dev/null; then
	# the host's systemd checks the installed unit: ExecStart= pointed at
	# the chroot's jobd, Documentation= at its man pages
	mkdir -p "$T/unit"
	sed "s#/usr/sbin/jobd#$R/usr/sbin/jobd#g" "$unit" >"$T/unit/jobd.service"
	out=$(cd "$T/unit" && MANPATH=$R/usr/share/man systemd-analyze verify ./jobd.service 2>&1); rc=$?
	[ $rc -eq 0 ] && [ -z "$out" ] && pass "systemd-analyze verify jobd.service" ||
		fail "systemd-analyze verify jobd.service" "exit $rc" "$out"
fi

# ---- dpkg -r: the package goes, its conffile stays; dpkg -P: all of it
# (but the admin's job files: ours goes first)
rm -f "$R/etc/jobd/jobs.d/examples.conf"
ok "dpkg -r jobd" in_root dpkg -r jobd
[ ! -e "$R/usr/sbin/jobd" ] && [ ! -e "$R/usr/bin/jobctl" ] && [ ! -e "$R/lib/systemd/system/jobd.service" ] &&
	pass "dpkg -r removes the binaries and the unit" || fail "dpkg -r removes the binaries and the unit"
expect_eq "... and keeps the conffile" "$(in_root dpkg-query -W -f='${Status}' jobd 2>&1)" \
	"deinstall ok config-files"
ok "dpkg -P jobd" in_root dpkg -P jobd
[ ! -e "$R/var/lib/jobd" ] && [ ! -e "$R/etc/jobd" ] &&
	pass "dpkg -P removes /etc/jobd and /var/lib/jobd" ||
	fail "dpkg -P removes /etc/jobd and /var/lib/jobd" "$(ls -la "$R/etc/jobd" "$R/var/lib/jobd" 2>&1)"
finish
