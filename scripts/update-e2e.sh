#!/usr/bin/env bash
# End-to-end update test (part of scripts/test.sh): the last release updates
# itself to this tree.
#   version N-1 = the last release, built from its own sources: the commit
#                 in scripts/last-release (tagged), with the test overlay
#                 src-tauri/tests/update/tauri.update-test.json (a throwaway
#                 key pair and http://127.0.0.1:47613, never the production
#                 config). Its own CLI makes the store, so N opens a store
#                 exactly as the released program left it: an edited
#                 migration fails here.
#   version N   = this tree as the next patch version, from
#                 `scripts/bundle.sh --update-test` (scripts/test.sh has
#                 built it already and passes --reuse-bundle).
# Serves N's signed .deb and a latest.json with python's http.server, installs
# N-1 with dpkg, puts a store with data in a throwaway HOME, and drives the
# installed program through tauri-driver under Xvfb (tests/e2e/update.test.mjs):
# a tampered package is refused and N-1 stays; then the real one installs
# (through a sudo/pkexec shim: root has neither here), the program restarts
# as N, N's migrations run, the data and the pre-update backup are there.
# Removes the package again at the end.
#
# Bounded: N-1's package and CLI are built once per release commit and kept
# under $target/update-e2e/ (its build directory is removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
ensure_ui_deps
need=()
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth)
command -v WebKitWebDriver >/dev/null 2>&1 || need+=(webkit2gtk-driver)
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus dbus-x11)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver@^2 --locked -q
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    echo "update-e2e: needs root (dpkg -i of the test packages); run as root or with passwordless sudo" >&2
    exit 1
fi
if dpkg-query -W -f='${Status}' shelfkeeper 2>/dev/null | grep -q "install ok installed"; then
    echo "update-e2e: the shelfkeeper package is installed on this machine; the test installs and removes its own. Remove it first (dpkg -r shelfkeeper)." >&2
    exit 1
fi

PORT=47613   # fixed: it is in the test overlay's endpoint
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "update-e2e: port $PORT is taken; the test's update server needs it" >&2
    exit 1
fi

target="${CARGO_TARGET_DIR:-$PWD/target}"
read -r release_tag release_commit <scripts/last-release
old="${release_tag#v}"
new="$(node -p "require('./ui/package.json').version")"
new="${new%.*}.$(( ${new##*.} + 1 ))"
cache="$target/update-e2e/$release_commit"
old_deb="$cache/shelfkeeper_${old}_amd64.deb"
old_cli="$cache/shelfkeeper"
old_migrations="$(git ls-tree --name-only "$release_commit" migrations/ | sed -n 's|^migrations/0*\([0-9]\+\)_.*\.sql$|\1|p' | paste -sd, -)"
new_migrations="$(ls migrations | sed -n 's|^0*\([0-9]\+\)_.*\.sql$|\1|p' | paste -sd, -)"

if [ ! -f "$cache/done" ]; then
    t0=$(date +%s)
    echo "== update-e2e: building version N-1 ($old) from $release_tag ($release_commit), once"
    src="$(mktemp -d)"
    git archive "$release_commit" | tar -x -C "$src"
    if cmp -s ui/package-lock.json "$src/ui/package-lock.json"; then
        ln -s "$PWD/ui/node_modules" "$src/ui/node_modules"
    else
        (cd "$src/ui" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    # Its own build directory: the release's crates must not overwrite this
    # tree's binaries in $target. It starts as a copy of this tree's release
    # dependencies (scripts/test.sh has just built them for the installers):
    # cargo reuses every crate whose version, features and flags are the
    # same in the release, which is most of them, instead of compiling
    # them a second time (~7 minutes of a cold run). A copy, not hard links:
    # a crate cargo does rebuild must not write through into $target.
    if [ -d "$target/release/deps" ]; then
        mkdir -p "$target/n-1/release"
        for d in deps build .fingerprint; do
            [ -d "$target/release/$d" ] && cp -a --reflink=auto "$target/release/$d" "$target/n-1/release/$d"
        done
    fi
    (cd "$src/src-tauri" && CARGO_TARGET_DIR="$target/n-1" TAURI_SIGNING_PRIVATE_KEY="$PWD/tests/update/test-update.key" \
        TAURI_SIGNING_PRIVATE_KEY_PASSWORD="" ../ui/node_modules/.bin/tauri build --ci --bundles deb -c tests/update/tauri.update-test.json)
    (cd "$src" && CARGO_TARGET_DIR="$target/n-1" cargo build --release --locked -q -p shelfkeeper-cli)
    mkdir -p "$cache"
    cp "$target/n-1/release/bundle/deb/Shelfkeeper_${old}_amd64.deb" "$old_deb"
    cp "$target/n-1/release/shelfkeeper" "$old_cli"
    rm -rf "$target/n-1" "$src"
    touch "$cache/done"
    echo "== update-e2e: N-1 built in $(( $(date +%s) - t0 )) s"
fi
if [ "${1:-}" != "--reuse-bundle" ]; then
    bash scripts/bundle.sh --update-test
fi
new_deb="$target/release/bundle/deb/Shelfkeeper_${new}_amd64.deb"
[ -f "$new_deb.sig" ] || { echo "update-e2e: $new_deb(.sig) missing: run scripts/bundle.sh --update-test" >&2; exit 1; }

home="$(mktemp -d)"
srv="$home/srv"
shim="$home/shim"
mkdir -p "$srv" "$shim"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    # Only programs started by this test: those running with its HOME.
    for p in /proc/[0-9]*; do
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "HOME=$home"; then kill "${p#/proc/}" 2>/dev/null || true; fi
    done
    dpkg -r shelfkeeper >/dev/null 2>&1 || true
    rm -rf "$home"
}
trap cleanup EXIT

# The update server: N's package, its signature in latest.json, and a
# tampered copy (one byte changed) announced with the real signature.
cp "$new_deb" "$srv/shelfkeeper_${new}_amd64.deb"
cp "$new_deb.sig" "$srv/shelfkeeper_${new}_amd64.deb.sig"
cp "$new_deb" "$srv/tampered_${new}_amd64.deb"
printf '\x00' | dd of="$srv/tampered_${new}_amd64.deb" bs=1 seek=$(( $(stat -c %s "$new_deb") - 100 )) conv=notrunc status=none
cp "$new_deb.sig" "$srv/tampered_${new}_amd64.deb.sig"
notes="Version $new of the update test: this tree, with its migrations."
node scripts/release-manifest.mjs --version "$new" --base-url "http://127.0.0.1:$PORT" --notes "$notes" \
    --out "$srv/latest-good.json" "$srv/shelfkeeper_${new}_amd64.deb"
node scripts/release-manifest.mjs --version "$new" --base-url "http://127.0.0.1:$PORT" --notes "$notes" \
    --out "$srv/latest-tampered.json" "$srv/tampered_${new}_amd64.deb"
cp "$srv/latest-tampered.json" "$srv/latest.json"
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$srv" >"$home/http.log" 2>&1 &
server_pid=$!

# Root has no pkexec or sudo here: the updater falls back to them to run
# `dpkg -i`, so the test puts shims first in PATH that just run the command.
for tool in sudo pkexec; do
    printf '#!/bin/sh\necho "%s shim: $*" >&2\nexec "$@"\n' "$tool" >"$shim/$tool"
    chmod +x "$shim/$tool"
done

echo "== update-e2e: installing N-1"
dpkg -i "$old_deb" >/dev/null
store="$home/.local/share/org.shelfkeeper.desktop/shelfkeeper.sqlite3"
mkdir -p "$(dirname "$store")" "$home/.config/org.shelfkeeper.desktop"
"$old_cli" --store "$store" init >/dev/null
"$old_cli" --store "$store" add-title --title "Dune" --author "Frank Herbert" --isbn 0-441-17271-7 --copy B0001 >/dev/null
"$old_cli" --store "$store" add-title --title "Emma" --author "Jane Austen" --copy B0002 >/dev/null
printf '{"store_path": "%s", "check_updates_automatically": true}\n' "$store" >"$home/.config/org.shelfkeeper.desktop/settings.json"

export SHELFKEEPER_APP=/usr/bin/shelfkeeper-desktop UPDATE_OLD="$old" UPDATE_NEW="$new" UPDATE_SRV="$srv" UPDATE_STORE="$store"
export UPDATE_MIGRATIONS_OLD="$old_migrations" UPDATE_MIGRATIONS_NEW="$new_migrations"
export UPDATE_HOME="$home" SCREENSHOTS="$PWD/target/e2e-screenshots"
PATH="$shim:$PATH" HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    xvfb-run -a -s "-screen 0 1280x820x24" dbus-run-session -- node --test tests/e2e/update.test.mjs
echo "== update-e2e: installed size $(dpkg-query -W -f='${Installed-Size}' shelfkeeper) KiB; packages: N-1 $(stat -c %s "$old_deb") bytes, N $(stat -c %s "$new_deb") bytes"
