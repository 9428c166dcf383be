#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit, integration and
# property tests on real SQLite files. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -q -- -D warnings
echo "== cargo test"
cargo test --locked --workspace
