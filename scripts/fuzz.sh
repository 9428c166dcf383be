#!/usr/bin/env bash
# Fuzzes the file readers of crates/interchange, each target for a bounded
# time: scripts/fuzz.sh [seconds per target, default 60] [targets...]
# Targets: csv (every preset and auto-detection), marc (ISO 2709), marcxml,
# auto (format sniffing, then any reader, JSON included).
#
# Not part of CI. Only a stable toolchain is needed: RUSTC_BOOTSTRAP lets
# cargo-fuzz pass its coverage flags, and the sanitizer is off (`-s none`:
# AddressSanitizer needs a nightly standard library; the code is safe Rust,
# so panics and assertion failures are what we look for). Crashes are saved
# under fuzz/artifacts/<target>/; add each as a regression test in
# crates/interchange/tests/it/fuzz_regressions.rs.
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv marc marcxml auto)

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
target_dir="${FUZZ_TARGET_DIR:-$root/fuzz/target}"

# Seeds: the test fixtures, plus small generated files.
fixtures="$root/crates/interchange/tests/fixtures"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" logs
    find "$fixtures" -type f | while read -r f; do
        case "$t" in
            csv) printf '\000' | cat - "$f" > "corpus/$t/seed-$(basename "$f")" ;;
            *) cp "$f" "corpus/$t/seed-$(basename "$f")" ;;
        esac
    done
done
cargo run -q --release --target-dir "$target_dir" --example fuzz_seeds --manifest-path "$root/crates/interchange/Cargo.toml" -- "$root/fuzz/corpus" 2>/dev/null || true

cargo fuzz build -s none --target-dir "$target_dir"

status=0
for t in "${targets[@]}"; do
    echo "== $t: ${seconds}s"
    if cargo fuzz run -s none --target-dir "$target_dir" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"logs/$t.log" 2>&1; then
        grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|Done [0-9]+ runs" "logs/$t.log" | sed "s/^/   /"
    else
        status=1
        echo "   FAILED: see fuzz/logs/$t.log and fuzz/artifacts/$t/"
        grep -E "panicked|ERROR|Test unit written" "logs/$t.log" | head -5 | sed "s/^/   /"
    fi
done
exit $status
