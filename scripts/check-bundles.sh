#!/usr/bin/env bash
# Checks what scripts/bundle.sh built: the .deb and .rpm of the workspace
# version exist and carry their metadata (name, version, licence, homepage,
# descriptions, dependencies), the program, its desktop entry and its icons.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
version="$(node -p "require('./ui/package.json').version")"
deb="$target/release/bundle/deb/Shelfkeeper_${version}_amd64.deb"
rpm="$(ls "$target"/release/bundle/rpm/Shelfkeeper-"$version"-1.*.rpm)"
fail() { echo "check-bundles: $*" >&2; exit 1; }
field() { dpkg-deb -f "$deb" "$1"; }

[ "$(field Package)" = shelfkeeper ] || fail "deb Package is $(field Package)"
[ "$(field Version)" = "$version" ] || fail "deb Version is $(field Version), expected $version"
field Depends | grep -q "libwebkit2gtk-4.1-0" || fail "deb does not depend on WebKitGTK 4.1: $(field Depends)"
field Depends | grep -q "libgtk-3-0" || fail "deb does not depend on GTK 3: $(field Depends)"
field Maintainer | grep -q "Shelfkeeper" || fail "deb Maintainer: $(field Maintainer)"
field Homepage | grep -q "^https://" || fail "deb Homepage: $(field Homepage)"
field Description | grep -q "Local-first library manager" || fail "deb Description: $(field Description)"
field Description | grep -q "circulation\|lending desk" || fail "deb has no long description"
contents="$(dpkg-deb -c "$deb")"
for f in usr/bin/shelfkeeper-desktop usr/share/applications/Shelfkeeper.desktop usr/share/icons/hicolor/128x128/apps/shelfkeeper-desktop.png; do
    grep -q " \.\?/\?$f\$" <<<"$contents" || fail "deb lacks $f"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO usr/share/applications/Shelfkeeper.desktop | grep -q "^Categories=.*Education" || fail "desktop entry has no category"

q() { rpm -qp --queryformat "$1" "$rpm" 2>/dev/null; }
[ "$(q '%{NAME}')" = shelfkeeper ] || fail "rpm Name is $(q '%{NAME}')"
[ "$(q '%{VERSION}')" = "$version" ] || fail "rpm Version is $(q '%{VERSION}')"
[ "$(q '%{LICENSE}')" = "AGPL-3.0-or-later" ] || fail "rpm License is $(q '%{LICENSE}')"
q '%{URL}' | grep -q "^https://" || fail "rpm URL: $(q '%{URL}')"
q '%{SUMMARY}' | grep -q "Local-first library manager" || fail "rpm Summary: $(q '%{SUMMARY}')"
q '[%{REQUIRENAME}\n]' | grep -q "libwebkit2gtk-4.1" || fail "rpm does not require WebKitGTK 4.1: $(q '[%{REQUIRENAME} ]')"
rpm -qpl "$rpm" 2>/dev/null | grep -q "^/usr/bin/shelfkeeper-desktop$" || fail "rpm lacks /usr/bin/shelfkeeper-desktop"
echo "check-bundles: $(basename "$deb") ($(stat -c %s "$deb") bytes, installed $(field Installed-Size) KiB) and $(basename "$rpm") ($(stat -c %s "$rpm") bytes): metadata, program, desktop entry and icons present"
