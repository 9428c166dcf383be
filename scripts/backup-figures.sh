#!/usr/bin/env bash
# Backup and restore at scale, with the release CLI (figures for
# BENCHMARKS.md, "Delivery"); also a round-trip check: the restored store
# has the generated counts and the replaced one is kept.
#   scripts/backup-figures.sh [TITLES]      default 100000 (500000 = 1M copies)
# Reuses bench-data/delivery-<TITLES>.sqlite3 once generated; SHELFKEEPER_CLI
# names an already built release CLI instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
titles="${1:-100000}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
if [ -n "${SHELFKEEPER_CLI:-}" ]; then
    cli="$SHELFKEEPER_CLI"   # an already built release CLI
else
    cargo build --release --locked -q -p shelfkeeper-cli
    cli="$target/release/shelfkeeper"
fi
mkdir -p bench-data
src="bench-data/delivery-$titles.sqlite3"
if [ ! -f "$src" ]; then
    "$cli" --store "$src.tmp" init --library >/dev/null
    "$cli" --store "$src.tmp" generate --titles "$titles"
    # With its WAL: a store is the file and its -wal until checkpointed.
    for ext in "" -wal -shm; do
        if [ -e "$src.tmp$ext" ]; then mv "$src.tmp$ext" "$src$ext"; fi
    done
fi
work="$(mktemp -d bench-data/delivery-work.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp "$src" "$work/store.sqlite3"
ms() { date +%s%N | cut -c1-13; }
t0=$(ms); "$cli" --store "$work/store.sqlite3" backup "$work/backup.sqlite3"; t1=$(ms)
"$cli" --store "$work/store.sqlite3" add-title --title "Added after the backup" --copy AFTER-1 >/dev/null
t2=$(ms); "$cli" --store "$work/store.sqlite3" verify "$work/backup.sqlite3" >/dev/null; t3=$(ms)
t4=$(ms); "$cli" --store "$work/store.sqlite3" restore "$work/backup.sqlite3"; t5=$(ms)
counts() { "$cli" --store "$1" --json info | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(s.titles, s.copies, s.members)'; }
restored="$(counts "$work/store.sqlite3")"; kept="$(counts "$work/store.before-restore")"; original="$(counts "$src")"
[ "${original%% *}" = "$titles" ] || { echo "the generated store has ${original%% *} titles, expected $titles" >&2; exit 1; }
[ "$restored" = "$original" ] || { echo "restored store has $restored, expected $original" >&2; exit 1; }
[ "${kept%% *}" = "$(( ${original%% *} + 1 ))" ] || { echo "the kept store lost its last title: $kept" >&2; exit 1; }
# A damaged backup is refused with a clear message and changes nothing.
cp "$work/backup.sqlite3" "$work/damaged.sqlite3"
truncate -s $(( $(stat -c %s "$work/damaged.sqlite3") / 2 )) "$work/damaged.sqlite3"
if "$cli" --store "$work/store.sqlite3" restore "$work/damaged.sqlite3" 2>"$work/refused.txt"; then
    echo "a damaged backup was restored" >&2; exit 1
fi
grep -q "^error\[backup\]" "$work/refused.txt" || { echo "unclear refusal: $(cat "$work/refused.txt")" >&2; exit 1; }
[ "$(counts "$work/store.sqlite3")" = "$original" ] || { echo "a refused restore changed the store" >&2; exit 1; }
echo "a damaged backup is refused: $(head -c 200 "$work/refused.txt")"
echo "titles copies members: $original; store $(( $(stat -c %s "$src") / 1048576 )) MiB, backup $(( $(stat -c %s "$work/backup.sqlite3") / 1048576 )) MiB"
echo "backup (VACUUM INTO + verify): $(( t1 - t0 )) ms; verify alone: $(( t3 - t2 )) ms; restore (verify + copy + swap): $(( t5 - t4 )) ms"
