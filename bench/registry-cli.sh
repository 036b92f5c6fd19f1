#!/usr/bin/env bash
# Cold and warm start of the CLI: load + validate the shipped registry + answer one query.
# Cold = the page cache dropped before every run (needs root). Results go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/entente-target}"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release -q -p entente
bin="$CARGO_TARGET_DIR/release/entente"
query="$bin registry obligations EST --at 2024-03-08 --json"
hyperfine --warmup 3 --runs 50 --export-markdown /dev/stdout -N "$query"
if [ -w /proc/sys/vm/drop_caches ]; then
  hyperfine --runs 30 --prepare 'sync; echo 3 > /proc/sys/vm/drop_caches' --export-markdown /dev/stdout "$query"
else
  echo "cannot drop the page cache here: cold runs skipped" >&2
fi
