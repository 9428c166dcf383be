#!/usr/bin/env bash
# End-to-end tests of the desktop program: builds it, then drives it through
# tauri-driver + WebKitWebDriver under Xvfb, in a throwaway HOME and D-Bus
# session so no helper daemon outlives the run. Screenshots land in
# target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
ensure_ui_deps
need=()
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth)
command -v WebKitWebDriver >/dev/null 2>&1 || need+=(webkit2gtk-driver)
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus dbus-x11)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
if [ ${#need[@]} -gt 0 ]; then
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver@^2 --locked -q
export PATH="$HOME/.cargo/bin:$PATH"

(cd ui && npm run --silent build)
cargo build --locked -q -p shelfkeeper-desktop -p shelfkeeper-cli -p shelfkeeper-server
target="${CARGO_TARGET_DIR:-$PWD/target}"
export SHELFKEEPER_APP="$target/debug/shelfkeeper-desktop"
export SHELFKEEPER_CLI="$target/debug/shelfkeeper"
export SHELFKEEPER_SERVER="$target/debug/shelfkeeper-server"
export SCREENSHOTS="$PWD/target/e2e-screenshots"
home="$(mktemp -d)"
# No program outlives the run, whatever happened in it.
trap 'pkill -f "$SHELFKEEPER_APP" 2>/dev/null || true; rm -rf "$home"' EXIT
if [ "${1:-}" = "--bench" ]; then
    # Benchmark the built program on a large store (see tests/e2e/bench.mjs).
    cargo build --locked -q --release -p shelfkeeper-desktop
    export SHELFKEEPER_APP="$target/release/shelfkeeper-desktop"
    HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
        xvfb-run -a -s "-screen 0 1280x820x24" dbus-run-session -- node tests/e2e/bench.mjs "$(realpath "$2")"
    exit
fi
# A Secret Service keychain (gnome-keyring, unlocked) in the test's own
# D-Bus session: the sync test keeps its sign-in there. The two test files
# run one after the other (each drives the one program through tauri-driver).
HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    xvfb-run -a -s "-screen 0 1280x820x24" dbus-run-session -- sh -c '
        echo -n e2e-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null
        node --test tests/e2e/desktop.test.mjs && node --test tests/e2e/sync.test.mjs'
# The sync test started its own server; nothing of it may outlive the run.
pkill -f "$SHELFKEEPER_SERVER" 2>/dev/null || true
