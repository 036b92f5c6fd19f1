#!/usr/bin/env bash
# One nation's node as 1, 2 and 3 `entente node` processes over one PostgreSQL database, on this
# machine: ingest and paged-read throughput for each count (the ratio to one process is what to
# read, since client, processes and PostgreSQL share the cores), the latencies of 64 mixed
# readers spread over 3 processes (100-object pages, every request to the next process in turn,
# as a round-robin balancer sends them), and the dispatch failover time: the process holding a
# partner's dispatch lease is killed (SIGKILL) mid-stream KILLS times, and the time until another
# process has taken the lease is read off its log. Results: bench/results/scale-out-*.json and
# bench/results/scale-out.md.
#
# Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; each run uses a
# schema of its own, dropped at the end), OBJECTS (default 20000), CONNECTIONS (concurrent POSTs,
# default 4), CLIENT_REQUESTS (measured requests per reader, default 100), KILLS (default 20),
# PROCESSES (default "1 2 3"), PORT (default 18600).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/entente-target}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
OBJECTS="${OBJECTS:-20000}"
CONNECTIONS="${CONNECTIONS:-4}"
CLIENT_REQUESTS="${CLIENT_REQUESTS:-100}"
KILLS="${KILLS:-20}"
PROCESSES="${PROCESSES:-1 2 3}"
PORT="${PORT:-18600}"
results="$root/bench/results"
export PGOPTIONS="--client-min-messages=warning"
work="$(mktemp -d)"
pids=()
schemas=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for s in "${schemas[@]}"; do psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$results"

echo "== building release binaries"
cargo build --release --quiet -p entente -p entente-bench
entente="$CARGO_TARGET_DIR/release/entente"
load="$CARGO_TARGET_DIR/release/taxii-load"
export TAXII_LOAD_PASSWORD="bench-password-$$"

wait_up() { # URL
  for _ in $(seq 1 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not answer 200" >&2; return 1
}

# The 64 mixed readers log in as 32 users of 4 nations and 8 clearances (bench/readers.sh).
. "$root/bench/readers.sh"
reader_names=""
for entry in "${reader_identities[@]}"; do reader_names="$reader_names${reader_names:+,}${entry%%|*}"; done
add_users() { # CONFIG
  printf '%s\n' "$TAXII_LOAD_PASSWORD" | "$entente" user add --config "$1" \
    --name bench --nation FRA --clearance "NATO SECRET" --password-stdin --write intel >/dev/null
  for entry in "${reader_identities[@]}"; do
    IFS='|' read -r name nation clearance <<<"$entry"
    printf '%s\n' "$TAXII_LOAD_PASSWORD" | "$entente" user add --config "$1" \
      --name "$name" --nation "$nation" --clearance "$clearance" --password-stdin --read intel >/dev/null
  done
}

# `entente node init` for NATION in DIR on SCHEMA: TAXII over plain HTTP on loopback (the client
# measures the processes, not TLS), the store and the audit log in PostgreSQL.
init_node() { # NATION DIR SCHEMA
  "$entente" node init --nation "$1" --data "$2" --listen "127.0.0.1:$PORT" \
    --admin-listen 127.0.0.1:0 --federation-listen "127.0.0.1:$((PORT + 1))" >/dev/null
  sed -i -e '/^\[tls\]/,/^$/d' "$2/node.toml"
  if [ -n "$3" ]; then
    printf '\n[database]\nurl = "%s"\nschema = "%s"\npool_size = 16\n' "$DATABASE_URL" "$3" >>"$2/node.toml"
    schemas+=("$3")
  fi
}

# Starts process K of the node in DIR on ports PORT+10K (TAXII) and PORT+10K+1 (federation).
start_process() { # DIR K
  local http=$((PORT + 10 * $2)) fed=$((PORT + 10 * $2 + 1))
  RUST_LOG=info "$entente" node --config "$1/node.toml" --listen "127.0.0.1:$http" \
    --admin-listen 127.0.0.1:0 --federation-listen "127.0.0.1:$fed" 2>>"$1/node-$2.log" &
  pids[$2]=$!
  wait_up "http://127.0.0.1:$http/ready"
  alive "${pids[$2]}" "$1/node-$2.log"
}

alive() { # PID LOG: the process still runs (another one did not answer in its place)
  kill -0 "$1" 2>/dev/null || { echo "the process exited; its log ends:" >&2; tail -5 "$2" >&2; exit 1; }
}

stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}

files=()
for k in $PROCESSES; do
  dir="$work/fra-$k" schema="bench_scale_${k}_$$"
  init_node FRA "$dir" "$schema"
  add_users "$dir/node.toml"
  bases="" pidlist=""
  for i in $(seq 1 "$k"); do
    start_process "$dir" "$i"
    bases="$bases${bases:+,}http://127.0.0.1:$((PORT + 10 * i))"
    pidlist="$pidlist${pidlist:+,}${pids[$i]}"
  done
  echo "== $k process(es) over one PostgreSQL, $OBJECTS objects"
  "$load" run --server "entente-pg-$k" --base "$bases" --api-root /api/ --collection intel \
    --user bench --objects "$OBJECTS" --connections "$CONNECTIONS" --pid "$pidlist" \
    --client-requests "$CLIENT_REQUESTS" --reader-users "$reader_names" --stagger \
    --out "$results/scale-out-$k.json" >/dev/null
  files+=("$results/scale-out-$k.json")
  stop_all
  psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null
done

# ---- dispatch failover ----------------------------------------------------------------------
echo "== dispatch failover: $KILLS kills of the process holding USA's lease"
fra="$work/failover-fra" usa="$work/failover-usa" schema="bench_failover_$$"
init_node FRA "$fra" "$schema"
PORT=$((PORT + 100)) init_node USA "$usa" ""
for d in "$fra" "$usa"; do
  "$entente" user add --config "$d/node.toml" --name analyst --nation "$(basename "$d" | tr a-z A-Z | sed 's/.*-//')" \
    --clearance "NATO SECRET" --write intel >/dev/null
done
"$entente" federation export --config "$fra/node.toml" --url "https://127.0.0.1:$((PORT + 11))" >"$work/fra.partner.toml"
"$entente" federation export --config "$usa/node.toml" >"$work/usa.partner.toml"
"$entente" federation import --config "$fra/node.toml" "$work/usa.partner.toml" >/dev/null
"$entente" federation import --config "$usa/node.toml" "$work/fra.partner.toml" >/dev/null
token="$("$entente" user token --config "$fra/node.toml" --name analyst)"
usa_token="$("$entente" user token --config "$usa/node.toml" --name analyst)"
for i in 1 2 3; do start_process "$fra" "$i"; done
RUST_LOG=info "$entente" node --config "$usa/node.toml" 2>>"$usa/node.log" &
pids[9]=$!
wait_up "http://127.0.0.1:$((PORT + 100))/ready"
alive "${pids[9]}" "$usa/node.log"
marking="$("$entente" label parse --json "NATO SECRET//REL TO FRA, USA")"

publish() { # PROCESS FIRST COUNT: indicators FIRST.. at process PROCESS
  python3 - "$marking" "$2" "$3" >"$work/envelope.json" <<'PY'
import json, sys
marking = json.loads(sys.argv[1]); first, count = int(sys.argv[2]), int(sys.argv[3])
objects = [marking] + [{
    "type": "indicator", "spec_version": "2.1",
    "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
    "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
    "name": f"indicator {n}", "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z",
    "object_marking_refs": [marking["id"]]} for n in range(first, first + count)]
print(json.dumps({"objects": objects}))
PY
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/taxii+json;version=2.1' -H 'Accept: application/taxii+json;version=2.1' \
    --data-binary @"$work/envelope.json" "http://127.0.0.1:$((PORT + 10 * $1))/api/collections/intel/objects/"
}

# The process holding USA's lease and its token, from the logs: "K TOKEN".
holder() {
  for i in 1 2 3; do
    grep -h "dispatch lease taken" "$fra/node-$i.log" 2>/dev/null | grep "partner=USA" \
      | sed -n 's/.*token=\([0-9]*\).*/\1/p' | sed "s/^/$i /"
  done | sort -k2,2n | tail -1
}

usa_count() { # the indicators USA holds, every page read
  python3 - "http://127.0.0.1:$((PORT + 100))/api/collections/intel/objects/" "$usa_token" <<'PY'
import json, sys, urllib.request
url, token, count, after = sys.argv[1], sys.argv[2], 0, None
while True:
    q = "?limit=1000&match%5Btype%5D=indicator" + (f"&next={after}" if after else "")
    req = urllib.request.Request(url + q, headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "application/taxii+json;version=2.1"})
    page = json.load(urllib.request.urlopen(req, timeout=30))
    count += len(page.get("objects", []))
    if not page.get("more"):
        break
    after = page["next"]
print(count)
PY
}

times="$work/failover-times"
: >"$times"
published=0
for kill in $(seq 1 "$KILLS"); do
  # A stream of 400 objects in flight when the holder dies.
  publish $(( (kill % 3) + 1 )) "$published" 400
  published=$((published + 400))
  for _ in $(seq 1 100); do [ -n "$(holder)" ] && break; sleep 0.05; done
  read -r k tok <<<"$(holder)"
  sleep 0.2
  kill -9 "${pids[$k]}"
  killed_ns=$(date +%s%N)
  wait "${pids[$k]}" 2>/dev/null || true
  taken=""
  for _ in $(seq 1 1000); do
    read -r k2 tok2 <<<"$(holder)"
    if [ "$k2" != "$k" ] && [ "${tok2:-0}" -gt "$tok" ]; then taken=$k2; break; fi
    sleep 0.01
  done
  [ -n "$taken" ] || { echo "no process took the lease after kill $kill" >&2; exit 1; }
  # The successor's own timestamp of the takeover (tracing's RFC 3339 time, UTC).
  line="$(grep -h "dispatch lease taken" "$fra/node-$taken.log" | grep "token=$tok2 " | tail -1)"
  taken_ns=$(date -d "$(echo "$line" | awk '{print $1}')" +%s%N)
  echo "kill $kill: process $k (token $tok) killed, process $taken took over (token $tok2) after $(( (taken_ns - killed_ns) / 1000000 )) ms"
  echo $(( taken_ns - killed_ns )) >>"$times"
  start_process "$fra" "$k"
done
# Every object reaches USA once.
for _ in $(seq 1 600); do
  [ "$(usa_count)" = "$published" ] && break
  sleep 0.1
done
usa_holds="$(usa_count)"
echo "USA holds $usa_holds of $published published objects"

python3 - "$times" "$KILLS" "$usa_holds" "$published" >"$results/scale-out-failover.json" <<'PY'
import json, math, sys
ns = sorted(int(l) for l in open(sys.argv[1]) if l.strip())
ms = [n / 1e6 for n in ns]
rank = lambda q: ms[max(1, math.ceil(q * len(ms))) - 1]
print(json.dumps({"kills": int(sys.argv[2]), "ms": ms, "p50_ms": rank(0.5), "p99_ms": rank(0.99),
                  "max_ms": ms[-1], "usa_holds": int(sys.argv[3] or 0), "published": int(sys.argv[4])}, indent=1))
PY

{
  echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); PostgreSQL $(psql -tA "$DATABASE_URL" -c 'SHOW server_version'), client, processes and database on the same machine."
  echo
  python3 - "${files[@]}" "$results/scale-out-failover.json" <<'PY'
import json, sys
runs = [json.load(open(f)) for f in sys.argv[1:-1]]
fail = json.load(open(sys.argv[-1]))
one = runs[0]
print("| processes | ingest objects/s | ratio | paged read objects/s | ratio | 64 readers p50 ms | p99 ms | requests/s |")
print("|---|---|---|---|---|---|---|---|")
for r in runs:
    k = r["server"].rsplit("-", 1)[1]
    i, rd, c = r["ingest"], r.get("read") or {}, r.get("concurrent") or {}
    ri = i["objects_per_s"] / one["ingest"]["objects_per_s"]
    rr = rd.get("objects_per_s", 0) / (one.get("read") or {}).get("objects_per_s", 1)
    print(f"| {k} | {i['objects_per_s']:.0f} | {ri:.2f} | {rd.get('objects_per_s', 0):.0f} | {rr:.2f} | "
          f"{c.get('p50_ms') or 0:.1f} | {c.get('p99_ms') or 0:.1f} | {c.get('requests_per_s') or 0:.0f} |")
print()
print(f"Dispatch failover over {fail['kills']} kills: p50 {fail['p50_ms']:.0f} ms, p99 {fail['p99_ms']:.0f} ms, "
      f"max {fail['max_ms']:.0f} ms; the partner holds {fail['usa_holds']} of {fail['published']} published objects.")
PY
} >"$results/scale-out.md"
cat "$results/scale-out.md"
