#!/usr/bin/env bash
# Runs the checks and tests, in tiers. Installs what it needs first.
#
#   scripts/test.sh quick   formatting, clippy, the Rust tests of every crate
#                           but the server, the sync client and the desktop
#                           (domain, sync, store, imports, look-ups, CLI),
#                           vitest: the loop while
#                           working (about 2 minutes warm)
#   scripts/test.sh rust    formatting, clippy, every Rust test: unit,
#                           integration and property tests on real SQLite
#                           files, the server on SQLite and PostgreSQL, the
#                           check that the TypeScript bindings match the Rust
#                           types (SHELFKEEPER_SKIP_PG=1 skips the PostgreSQL
#                           half of the server's tests, and says so)
#   scripts/test.sh ui      svelte-check, vitest, the production build
#   scripts/test.sh e2e     the desktop end-to-end tests under Xvfb, the
#                           installers, the 100,000-title backup round trip
#                           and the end-to-end update from the last release
#                           (installs and removes the package: run as root)
#   scripts/test.sh all     ui, rust and e2e (the default; what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:-all}"
case "$tier" in
    quick | rust | ui | e2e | all) ;;
    *) echo "usage: scripts/test.sh [quick|rust|ui|e2e|all]" >&2; exit 2 ;;
esac
. scripts/setup.sh
ensure_ui_deps
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
started=$(date +%s)

ui() {
    echo "== ui: svelte-check, vitest, build"
    (cd ui && npm run --silent check && npm run --silent test && npm run --silent build)
}

lints() {
    echo "== cargo fmt --check"
    cargo fmt --all -- --check
    # The desktop crate embeds ui/dist at compile time: a clean clone has
    # none until the UI is built (seconds), so the quick and rust tiers
    # build it when it is missing.
    [ -d ui/dist ] || (cd ui && npm run --silent build)
    echo "== cargo clippy"
    cargo clippy --locked --workspace --all-targets -q -- -D warnings
}

quick() {
    lints
    echo "== cargo test (domain, sync, store, interchange, metadata, app, cli)"
    cargo test --locked -p shelfkeeper-domain -p shelfkeeper-sync -p shelfkeeper-store -p shelfkeeper-interchange \
        -p shelfkeeper-metadata -p shelfkeeper-app -p shelfkeeper-cli 2>&1 | tee -a "$log"
    echo "== ui: vitest"
    (cd ui && npm run --silent test)
}

rust() {
    lints
    if [ "${SHELFKEEPER_SKIP_PG:-}" = 1 ]; then
        echo "== PostgreSQL: skipped (SHELFKEEPER_SKIP_PG=1): the server's tests run on SQLite only"
    else
        ensure_postgres   # the server tests run against PostgreSQL as well as SQLite
    fi
    echo "== cargo test"
    cargo test --locked --workspace 2>&1 | tee -a "$log"
}

e2e() {
    echo "== end-to-end: the desktop program under Xvfb"
    bash scripts/e2e.sh 2>&1 | tee -a "$log"
    # One release build of the desktop serves both: the installers are
    # checked, then installed as the update test's version N.
    echo "== installers: .deb and .rpm with their metadata (the update test's version N)"
    bash scripts/bundle.sh --update-test
    local version
    version="$(node -p "require('./ui/package.json').version")"
    bash scripts/check-bundles.sh "${version%.*}.$(( ${version##*.} + 1 ))"
    echo "== backup and restore round trip of a 100,000-title store (release CLI; a damaged backup refused)"
    bash scripts/backup-figures.sh 100000
    echo "== end-to-end update: the last release updates itself to this tree (tampered package refused)"
    bash scripts/update-e2e.sh --reuse-bundle 2>&1 | tee -a "$log"
}

case "$tier" in
    quick) quick ;;
    rust) rust ;;
    ui) ui ;;
    e2e) e2e ;;
    all) ui; rust; e2e ;;
esac
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     /^# pass / { p += $3 } /^# fail / { f += $3 } /^# skipped / { s += $3 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
echo "test.sh $tier: $(( $(date +%s) - started )) s"
