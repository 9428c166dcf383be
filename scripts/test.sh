#!/usr/bin/env bash
# Runs every check and test: formatting, lints, UI type checks and unit
# tests, Rust unit, integration and property tests on real SQLite files, the
# check that the TypeScript bindings match the Rust types, the desktop
# end-to-end test, the installers and the end-to-end update test (which
# installs and removes the package: run as root). Installs what it needs
# first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
ensure_ui_deps

echo "== ui: svelte-check, vitest, build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -q -- -D warnings
ensure_postgres   # the server tests run against PostgreSQL as well as SQLite
echo "== cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --locked --workspace 2>&1 | tee "$log"
echo "== end-to-end: the desktop program under Xvfb"
bash scripts/e2e.sh 2>&1 | tee -a "$log"
echo "== installers: .deb and .rpm with their metadata"
bash scripts/bundle.sh
bash scripts/check-bundles.sh
echo "== backup and restore round trip of a 100,000-title store (release CLI; a damaged backup refused)"
bash scripts/backup-figures.sh 100000
echo "== end-to-end update: installed N-1 updates itself to N (tampered package refused)"
bash scripts/update-e2e.sh 2>&1 | tee -a "$log"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     /^# pass / { p += $3 } /^# fail / { f += $3 } /^# skipped / { s += $3 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
