#!/usr/bin/env bash
# Checks what scripts/bundle.sh built: the .deb and .rpm of the workspace
# version exist and carry their metadata (name, version, licence, homepage,
# descriptions, dependencies), the program, its desktop entry and its icons.
set -euo pipefail
# Every check reads a command's whole output first (`grep -q <<<"$(...)"`):
# `cmd | grep -q` fails under pipefail when grep stops at an early match
# and cmd dies of SIGPIPE.
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
# The version to check: the argument (the update test's N), or the workspace's.
version="${1:-$(node -p "require('./ui/package.json').version")}"
deb="$target/release/bundle/deb/Shelfkeeper_${version}_amd64.deb"
rpm="$(ls "$target"/release/bundle/rpm/Shelfkeeper-"$version"-1.*.rpm)"
fail() { echo "check-bundles: $*" >&2; exit 1; }
field() { dpkg-deb -f "$deb" "$1"; }

[ "$(field Package)" = shelfkeeper ] || fail "deb Package is $(field Package)"
[ "$(field Version)" = "$version" ] || fail "deb Version is $(field Version), expected $version"
grep -q "libwebkit2gtk-4.1-0" <<<"$(field Depends)" || fail "deb does not depend on WebKitGTK 4.1: $(field Depends)"
grep -q "libgtk-3-0" <<<"$(field Depends)" || fail "deb does not depend on GTK 3: $(field Depends)"
grep -q "Shelfkeeper" <<<"$(field Maintainer)" || fail "deb Maintainer: $(field Maintainer)"
grep -q "^https://" <<<"$(field Homepage)" || fail "deb Homepage: $(field Homepage)"
grep -q "Local-first library manager" <<<"$(field Description)" || fail "deb Description: $(field Description)"
grep -q "circulation\|lending desk" <<<"$(field Description)" || fail "deb has no long description"
contents="$(dpkg-deb -c "$deb")"
for f in usr/bin/shelfkeeper-desktop usr/share/applications/Shelfkeeper.desktop usr/share/icons/hicolor/128x128/apps/shelfkeeper-desktop.png; do
    grep -q " \.\?/\?$f\$" <<<"$contents" || fail "deb lacks $f"
done
entry="$(dpkg-deb --fsys-tarfile "$deb" | tar -xO usr/share/applications/Shelfkeeper.desktop)"
grep -q "^Categories=.*Education" <<<"$entry" || fail "desktop entry has no category"

q() { rpm -qp --queryformat "$1" "$rpm" 2>/dev/null; }
[ "$(q '%{NAME}')" = shelfkeeper ] || fail "rpm Name is $(q '%{NAME}')"
[ "$(q '%{VERSION}')" = "$version" ] || fail "rpm Version is $(q '%{VERSION}')"
[ "$(q '%{LICENSE}')" = "AGPL-3.0-or-later" ] || fail "rpm License is $(q '%{LICENSE}')"
grep -q "^https://" <<<"$(q '%{URL}')" || fail "rpm URL: $(q '%{URL}')"
grep -q "Local-first library manager" <<<"$(q '%{SUMMARY}')" || fail "rpm Summary: $(q '%{SUMMARY}')"
grep -q "libwebkit2gtk-4.1" <<<"$(q '[%{REQUIRENAME}\n]')" || fail "rpm does not require WebKitGTK 4.1: $(q '[%{REQUIRENAME} ]')"
grep -q "^/usr/bin/shelfkeeper-desktop$" <<<"$(rpm -qpl "$rpm" 2>/dev/null)" || fail "rpm lacks /usr/bin/shelfkeeper-desktop"
echo "check-bundles: $(basename "$deb") ($(stat -c %s "$deb") bytes, installed $(field Installed-Size) KiB) and $(basename "$rpm") ($(stat -c %s "$rpm") bytes): metadata, program, desktop entry and icons present"
