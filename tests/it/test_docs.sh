#!/usr/bin/env bash
# test_docs.sh — the docs hold together: every relative Markdown link of
# the repository's *.md files points at a file inside the repository (and
# at a heading of it, for #anchors), every *.md file the text names exists
# in it, and the man pages the build made from man/*.scd (scdoc) render
# with man -l / groff without a warning and give whatis(1) its
# "name - description" line.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

mds=$(cd "$SRC" && git ls-files '*.md' 2>/dev/null || find . -name '*.md' -not -path './build*')
# shellcheck disable=SC2086   # file names without blanks
out=$(cd "$SRC" && python3 - $mds <<'PY'
import os, re, sys

def slug(h):
    """GitHub's anchor of a heading"""
    h = re.sub(r'[`*]', '', h.strip().lower())
    return re.sub(r'[^a-z0-9 _-]', '', h).replace(' ', '-')

def inside(p):
    """in the repository: a checkout or a package has nothing beside it"""
    return not os.path.normpath(p).startswith('..') and not os.path.isabs(p)

bad = 0
for md in sys.argv[1:]:
    d = os.path.dirname(md)
    # fenced blocks hold examples, not links or file names
    t = re.sub(r'^```.*?^```', '', open(md).read(), flags=re.S | re.M)
    for target in re.findall(r'\]\(([^)\s]+)\)', re.sub(r'`[^`]*`', '', t)):
        if re.match(r'^[a-z]+:', target):
            continue                      # http:, mailto:
        f, _, anchor = target.partition('#')
        f = os.path.normpath(os.path.join(d, f)) if f else md
        if not inside(f) or not os.path.exists(f):
            print('%s: link to a missing file: %s' % (md, target)); bad += 1
        elif anchor and f.endswith('.md'):
            heads = [slug(h) for h in re.findall(r'^#+ (.*)$', open(f).read(), re.M)]
            if anchor not in heads:
                print('%s: link to a missing heading: %s' % (md, target)); bad += 1
    for name in sorted(set(re.findall(r'[A-Za-z0-9_./-]*[A-Za-z0-9_]\.md\b', t))):
        if not any(inside(p) and os.path.exists(os.path.normpath(p)) for p in
                   (os.path.join(d, name), name, os.path.join('docs', name))):
            print('%s: names a missing file: %s' % (md, name)); bad += 1
print('checked %d files, %d bad' % (len(sys.argv) - 1, bad))
PY
)
expect_match "the *.md files link and name only files of the repository" "$out" '^checked [0-9]+ files, 0 bad$'

pages=()
for s in "$SRC"/man/*.scd; do
	p=$BUILD/$(basename "$s" .scd)
	[ -f "$p" ] && pages+=("$p") || fail "the build made $(basename "$p") from man/$(basename "$s")"
done
if command -v man >/dev/null && command -v lexgrog >/dev/null; then
	for p in "${pages[@]}"; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$p" 2>&1 >/dev/null)
		expect_eq "$(basename "$p") renders without warnings" "$w" ""
		expect_match "$(basename "$p") has a whatis line" "$(lexgrog "$p" 2>&1)" ': ".+ - .+"'
	done
else
	echo "skipped: man page rendering (no man or lexgrog; scripts/deps.sh installs man-db)"
fi
finish
