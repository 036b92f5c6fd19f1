#!/usr/bin/env bash
# TAXII 2.1 national node benchmark, side by side with medallion (the OASIS reference server).
#
# Builds release binaries, then for each size starts a fresh `entente node` (SQLite, WAL, fsync'd
# group commit, STIX validation and label checks on every object, every read released through the
# policy) and drives it with the Rust load client `taxii-load`: ingest in envelopes of 1,000 over
# several connections, one reader paging through everything in pages of 1,000, then 64 concurrent
# readers of 100-object pages. medallion 3.0.0 (memory backend) gets the identical workload and
# client at the sizes it can reach, each phase bounded by MEDALLION_TIMEOUT. Finally 1,000,000
# objects are ingested while the node's RSS is sampled. Results: bench/results/taxii-*.json and
# bench/results/taxii.md.
#
# Environment: SIZES (default "1000 10000 100000"), MEDALLION_SIZES (default "1000 10000"; empty
# skips medallion), RSS_OBJECTS (default 1000000; 0 skips), MEDALLION_TIMEOUT (seconds per phase,
# default 240), CONNECTIONS (concurrent POSTs, default 4), READERS ("mixed", the default: the 64
# concurrent readers log in as 32 users of 4 nations and 8 clearances, two readers each, every
# reader starting at its own offset, so that no released page is shared; "one": all 64 readers
# are the bench user from the start, the earlier workload), CLIENT_REQUESTS (measured requests per
# concurrent reader, default 300: 19,200 latencies, so that one stall of the machine shared by every
# request in flight at that moment does not make the p99 on its own, as it did with 50). ENTENTE_BIN
# and LOAD_BIN: an `entente` and a `taxii-load` built beforehand, measured instead of building (to
# compare two builds side by side).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/entente-target}"
SIZES="${SIZES-1000 10000 100000}"
MEDALLION_SIZES="${MEDALLION_SIZES-1000 10000}"
RSS_OBJECTS="${RSS_OBJECTS-1000000}"
MEDALLION_TIMEOUT="${MEDALLION_TIMEOUT:-240}"
CONNECTIONS="${CONNECTIONS:-4}"
READERS="${READERS:-mixed}"
CLIENT_REQUESTS="${CLIENT_REQUESTS:-300}"
PORT="${PORT:-18400}"
MEDALLION_PORT="${MEDALLION_PORT:-18500}"
results="$root/bench/results"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$results"

if [ -n "${ENTENTE_BIN:-}" ]; then
  # Two builds side by side: each one's binaries, built beforehand.
  entente="$ENTENTE_BIN"
  load="${LOAD_BIN:?LOAD_BIN names the taxii-load built with ENTENTE_BIN}"
else
  echo "== building release binaries"
  cargo build --release --quiet -p entente -p entente-bench
  entente="$CARGO_TARGET_DIR/release/entente"
  load="$CARGO_TARGET_DIR/release/taxii-load"
fi
export TAXII_LOAD_PASSWORD="bench-password-$$"

# The identities of the mixed concurrent readers (32 users of 4 nations and 8 clearances).
. "$root/bench/readers.sh"
reader_args=()
if [ "$READERS" = mixed ]; then
  names=""
  for entry in "${reader_identities[@]}"; do names="$names${names:+,}${entry%%|*}"; done
  reader_args=(--reader-users "$names" --stagger)
fi

wait_up() { # URL: up when it answers anything over HTTP
  for _ in $(seq 1 200); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ]; then return 0; fi
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2; return 1
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

start_entente() { # DIR
  local dir="$1"
  "$entente" node init --nation FRA --data "$dir" --admin-listen "127.0.0.1:$((PORT + 2))" >/dev/null
  # TAXII over plain HTTP on loopback (the client measures the node, not TLS), the federation
  # listener (unused here) on the next port, the admin listener on the one after.
  sed -i -e "0,/^listen = .*/s//listen = \"127.0.0.1:$PORT\"/" \
    -e "/^\[federation\]/,/^\[/s/^listen = .*/listen = \"127.0.0.1:$((PORT + 1))\"/" \
    -e '/^\[tls\]/,/^$/d' "$dir/node.toml"
  printf '%s\n' "$TAXII_LOAD_PASSWORD" | "$entente" user add --config "$dir/node.toml" \
    --name bench --nation FRA --clearance "NATO SECRET" --password-stdin --write intel >/dev/null
  if [ "$READERS" = mixed ]; then
    for entry in "${reader_identities[@]}"; do
      IFS='|' read -r name nation clearance <<<"$entry"
      printf '%s\n' "$TAXII_LOAD_PASSWORD" | "$entente" user add --config "$dir/node.toml" \
        --name "$name" --nation "$nation" --clearance "$clearance" --password-stdin --read intel >/dev/null
    done
  fi
  RUST_LOG=warn "$entente" node --config "$dir/node.toml" 2>"$dir/node.log" &
  server_pid=$!
  wait_up "http://127.0.0.1:$PORT/health"
}

run_entente() { # OBJECTS EXTRA-ARGS...
  local n="$1"; shift
  local dir="$work/entente-$n"
  start_entente "$dir"
  echo "== entente node, $n objects"
  "$load" run --server entente --base "http://127.0.0.1:$PORT" --api-root /api/ --collection intel \
    --user bench --objects "$n" --connections "$CONNECTIONS" --pid "$server_pid" \
    --client-requests "$CLIENT_REQUESTS" --out "$results/taxii-entente-$n.json" "${reader_args[@]}" "$@" >/dev/null
  stop_server
  du -sh "$dir" | sed 's/^/   database: /'
  rm -rf "$dir"
}

medallion_venv="${MEDALLION_VENV:-$HOME/.cache/medallion-venv}"
setup_medallion() {
  if [ ! -x "$medallion_venv/bin/medallion" ]; then
    echo "== installing medallion 3.0.0 into $medallion_venv"
    python3 -m venv "$medallion_venv"
    "$medallion_venv/bin/pip" install --quiet --disable-pip-version-check "medallion==3.0.0"
  fi
}

run_medallion() { # OBJECTS
  local n="$1" dir="$work/medallion-$1" collection="365fed99-08fa-4dcd-a1b3-fb247eb41d01"
  mkdir -p "$dir"
  # The same users as the node's (medallion has no clearances: they only log in).
  local medallion_users="\"bench\": \"$TAXII_LOAD_PASSWORD\""
  if [ "$READERS" = mixed ]; then
    for entry in "${reader_identities[@]}"; do medallion_users="$medallion_users, \"${entry%%|*}\": \"$TAXII_LOAD_PASSWORD\""; done
  fi
  # One API root, one collection, one user: the same shape as the entente node's.
  cat >"$dir/data.json" <<JSON
{
  "/discovery": {"title": "medallion", "description": "reference TAXII 2.1 server",
    "default": "http://127.0.0.1:$MEDALLION_PORT/api/", "api_roots": ["http://127.0.0.1:$MEDALLION_PORT/api/"]},
  "api": {
    "information": {"title": "api", "description": "benchmark", "versions": ["application/taxii+json;version=2.1"],
      "max_content_length": 104857600},
    "status": [],
    "collections": [
      {"id": "$collection", "title": "Intelligence", "description": "benchmark", "can_read": true, "can_write": true,
       "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}
    ]
  }
}
JSON
  cat >"$dir/config.json" <<JSON
{"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": "$dir/data.json"},
 "users": {$medallion_users},
 "taxii": {"max_page_size": 1000}}
JSON
  "$medallion_venv/bin/medallion" --host 127.0.0.1 --port "$MEDALLION_PORT" "$dir/config.json" 2>"$dir/medallion.log" &
  server_pid=$!
  wait_up "http://127.0.0.1:$MEDALLION_PORT/taxii2/" || true
  echo "== medallion 3.0.0 (memory backend), $n objects (each phase bounded to ${MEDALLION_TIMEOUT}s)"
  "$load" run --server medallion --base "http://127.0.0.1:$MEDALLION_PORT" --api-root /api/ \
    --collection "$collection" --user bench --objects "$n" --connections "$CONNECTIONS" --pid "$server_pid" \
    --phase-timeout "$MEDALLION_TIMEOUT" --client-requests "$CLIENT_REQUESTS" \
    --out "$results/taxii-medallion-$n.json" "${reader_args[@]}" >/dev/null
  stop_server
}

files=()
for n in $SIZES; do
  run_entente "$n"
  files+=("$results/taxii-entente-$n.json")
  if [[ " $MEDALLION_SIZES " == *" $n "* ]]; then
    setup_medallion
    run_medallion "$n"
    files+=("$results/taxii-medallion-$n.json")
  fi
done
if [ "$RSS_OBJECTS" != 0 ]; then
  run_entente "$RSS_OBJECTS" --no-read --clients 0
  files+=("$results/taxii-entente-$RSS_OBJECTS.json")
fi

{
  echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); client and servers on the same machine."
  echo
  "$load" report --reference medallion "${files[@]}"
} >"$results/taxii.md"
cat "$results/taxii.md"
