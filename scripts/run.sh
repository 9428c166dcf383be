#!/usr/bin/env bash
# Builds and runs Shelfkeeper on an embedded SQLite store; no server needed.
#   scripts/run.sh                 the desktop program
#   scripts/run.sh --cli ARGS...   the command-line tool (see --cli --help)
# The CLI's store is $SHELFKEEPER_STORE, by default ~/.local/share/shelfkeeper/shelfkeeper.sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
target="${CARGO_TARGET_DIR:-target}"

if [ "${1:-}" = "--cli" ]; then
    shift
    cargo build --release --locked -q -p shelfkeeper-cli
    export SHELFKEEPER_STORE="${SHELFKEEPER_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/shelfkeeper/shelfkeeper.sqlite3}"
    if [ ! -f "$SHELFKEEPER_STORE" ] && [ "${1:-}" != "init" ]; then
        mkdir -p "$(dirname "$SHELFKEEPER_STORE")"
        "$target/release/shelfkeeper" init
    fi
    exec "$target/release/shelfkeeper" "$@"
fi

ensure_ui_deps
(cd ui && npm run --silent build)
cargo build --release --locked -q -p shelfkeeper-desktop
exec "$target/release/shelfkeeper-desktop"
