#!/usr/bin/env bash
# Builds the desktop installers with the Tauri CLI (@tauri-apps/cli 2.x from
# ui/node_modules), run from the app root (src-tauri/):
#   scripts/bundle.sh              .deb and .rpm (what CI and this machine build)
#   scripts/bundle.sh --appimage   also the AppImage: the bundler downloads
#                                  linuxdeploy and its plugins, so only a
#                                  release pipeline with network runs this
#   scripts/bundle.sh --update-test  version N of the end-to-end update test
#                                  (scripts/update-e2e.sh): the next patch
#                                  version, built with the test overlay
#                                  (src-tauri/tests/update/) and signed with
#                                  its throwaway key; scripts/test.sh checks
#                                  these bundles, so one release build serves
#                                  both. Never published.
#   scripts/bundle.sh ARGS...      other arguments go to `tauri build`
# Release builds sign the bundles for the updater: set
# TAURI_SIGNING_PRIVATE_KEY (the key text or a path to it) and
# TAURI_SIGNING_PRIVATE_KEY_PASSWORD in the environment, never in a file in
# the repository. Without a key the bundles are built unsigned (no .sig files,
# fine for a local install, not publishable as an update).
# Windows (.msi, NSIS .exe) and macOS (.app, .dmg) bundles are configured in
# src-tauri/tauri.conf.json (+ tauri.windows/macos.conf.json) but build only
# on those systems: run `npx tauri build` there.
# Output: ${CARGO_TARGET_DIR:-target}/release/bundle/{deb,rpm,appimage}/
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
ensure_ui_deps
target="${CARGO_TARGET_DIR:-$PWD/target}"

bundles=deb,rpm
extra=()
update_test=0
for arg in "$@"; do
    case "$arg" in
        --appimage) bundles=deb,rpm,appimage ;;
        --update-test) update_test=1 ;;
        *) extra+=("$arg") ;;
    esac
done
version="$(node -p "require('./ui/package.json').version")"
# --- update test only (src-tauri/tests/release_config.rs checks that the
# test overlay and key appear nowhere else in this script) ---
if [ "$update_test" = 1 ]; then
    version="${version%.*}.$(( ${version##*.} + 1 ))"
    export TAURI_SIGNING_PRIVATE_KEY="$PWD/src-tauri/tests/update/test-update.key" TAURI_SIGNING_PRIVATE_KEY_PASSWORD=""
    extra+=(-c tests/update/tauri.update-test.json -c "{\"version\":\"$version\"}")
fi
# --- end of update test only ---
if [ -z "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then
    echo "bundle: TAURI_SIGNING_PRIVATE_KEY is not set: bundles without updater signatures" >&2
    extra+=(-c '{"bundle":{"createUpdaterArtifacts":false}}')
fi
(cd src-tauri && ../ui/node_modules/.bin/tauri build --ci --bundles "$bundles" "${extra[@]}")

for f in "$target"/release/bundle/deb/*_"$version"_*.deb "$target"/release/bundle/rpm/*-"$version"-*.rpm \
         "$target"/release/bundle/appimage/*_"$version"_*.AppImage; do
    [ -f "$f" ] || continue
    awk -v b="$(stat -c %s "$f")" -v f="$f" -v s="$([ -f "$f.sig" ] && echo '  (+ .sig)')" 'BEGIN { printf "%8.1f MiB  %s%s\n", b / 1048576, f, s }'
done
