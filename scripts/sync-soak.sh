#!/usr/bin/env bash
# Runs the sync simulations with many more seeds than the test command does
# (CI runs 12 store seeds and 2 server seeds per backend):
#
#   scripts/sync-soak.sh [STORE_SEEDS] [SERVER_SEEDS]    (default 500 and 20)
#
# 1. the store simulation: 3-4 desks on SQLite files and an in-process
#    relay, partitions, lost and duplicated replies (STORE_SEEDS seeds, then
#    the same seeds again with every desk claiming shared barcodes and cards);
# 2. the server simulation: the real server on port 0 (SQLite and
#    PostgreSQL), three desks through the HTTP transport, replies dropped
#    after the server committed (SERVER_SEEDS seeds per backend).
# Every run ends with identical canonical dumps on every desk, every event
# exactly once, every concurrent lending recorded as a conflict and cursors
# that only moved forward; the first failing seed is printed by the test
# (re-run one with SK_SYNC_SEED=n).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
store_seeds="${1:-500}"
server_seeds="${2:-20}"
ensure_postgres
echo "== store simulation: $store_seeds seeds"
SK_SYNC_SEEDS="$store_seeds" cargo test --locked -q -p shelfkeeper-store --test it sync::simulation -- --nocapture
echo "== store simulation, shared barcodes and cards: $store_seeds seeds"
SK_SYNC_SEEDS="$store_seeds" SK_SYNC_SHARED_KEYS=1 cargo test --locked -q -p shelfkeeper-store --test it sync::simulation -- --nocapture
echo "== server simulation (SQLite and PostgreSQL): $server_seeds seeds each"
SK_SERVER_SYNC_SEEDS="$server_seeds" cargo test --locked -q -p shelfkeeper-server --test it sync::simulation -- --nocapture
