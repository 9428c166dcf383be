#!/usr/bin/env bash
# Builds and runs Shelfkeeper on an embedded SQLite store; no server needed.
#   scripts/run.sh                 create (first time) and describe the store
#   scripts/run.sh find dune       any shelfkeeper command (see --help)
# The store is $SHELFKEEPER_STORE, by default ~/.local/share/shelfkeeper/shelfkeeper.sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo build --release --locked -q -p shelfkeeper-cli
bin=target/release/shelfkeeper
if [ -n "${CARGO_TARGET_DIR:-}" ]; then bin="$CARGO_TARGET_DIR/release/shelfkeeper"; fi

export SHELFKEEPER_STORE="${SHELFKEEPER_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/shelfkeeper/shelfkeeper.sqlite3}"
if [ $# -eq 0 ]; then
    if [ ! -f "$SHELFKEEPER_STORE" ]; then
        mkdir -p "$(dirname "$SHELFKEEPER_STORE")"
        "$bin" init
    fi
    "$bin" info
    echo
    echo "Try: scripts/run.sh add-title --title Dune --author 'Frank Herbert' --isbn 9780441172719 --copy B0001"
    echo "     scripts/run.sh find dune        scripts/run.sh --help"
    exit 0
fi
exec "$bin" "$@"
