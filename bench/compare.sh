#!/usr/bin/env bash
# Side-by-side benchmark, one command from a fresh clone (not part of CI). Starts five setups and measures each
# with redis-benchmark and with `dynamite bench`, interleaved (test by test: A B C D E, A B C D E, ...), REPEAT
# times, and prints one markdown table of medians (also written to bench/results/compare-<date>.md):
#   redis-server               plain redis-server 7 (no persistence): the reference every ratio is taken to
#   dynamite memory            one standalone node, memory engine
#   dynamite sqlite            one standalone node, sqlite engine, --fsync batch
#   3 nodes R=W=2              three nodes on loopback, N=3, R=W=2 (CLUSTER_ENGINE, default memory)
#   3 nodes R=W=1              the same at R=W=1
# Tests: SET and GET of 100-byte values over 100,000 random keys with 50 connections, unpipelined and with
# pipeline 16; GET of 139,000-byte values over 1,000 keys (populated just before); and with one connection, GET
# p50 (redis-server and 3 nodes R=W=2 only). redis-benchmark talks to one node; `dynamite bench` spreads its
# connections over every node of a cluster. Every row: requests/s (median, min–max), p50/p99 ms, server
# CPU-seconds per 100k requests (utime+stime from /proc/PID/stat of every server process of the setup, before
# and after the run), and ratios to redis-server's same test. The load generator shares the machine's cores
# with the servers (PERFORMANCE.md): the CPU figure is the fairer one.
#
# Usage: bench/compare.sh [REPEAT] [REQUESTS]      (or REPEAT=3 REQUESTS=200000 bench/compare.sh)
#   REQUESTS       requests of a 100-byte unpipelined run (default 200000); pipelined runs do 5x, 139 KB and
#                  one-connection runs 1/10
#   CLUSTER_ENGINE memory (default) or sqlite for the two 3-node setups
#   BASE_PORT      first port used (default 16300; the script uses BASE_PORT..BASE_PORT+299)
#   OUT            result file (default bench/results/compare-<date>.md)
#   SETUPS         only these setups, comma-separated (e.g. "redis-server,3 nodes R=W=2"); redis-server is
#                  always kept, since every ratio is taken to it
#   TESTS          only tests whose name matches this extended regex (e.g. "^(SET|GET) c50$")
#   WARMUP_REQUESTS SET and GET requests sent to every node before measuring, unrecorded (default 30000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeat="${1:-${REPEAT:-3}}"
requests="${2:-${REQUESTS:-200000}}"
cluster_engine="${CLUSTER_ENGINE:-memory}"
base="${BASE_PORT:-16300}"
pipelined_requests=$((requests * 5))
small_requests=$((requests / 10 > 1000 ? requests / 10 : 1000))
stamp="$(date +%Y%m%d-%H%M%S)"
out="${OUT:-$root/bench/results/compare-$stamp.md}"
tick=$(getconf CLK_TCK)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
run_timeout=900

for tool in redis-server redis-benchmark redis-cli python3 dotnet; do
  command -v "$tool" >/dev/null 2>&1 || { echo "compare.sh needs $tool (apt-get install redis-server redis-tools python3; the .NET 10 SDK)" >&2; exit 1; }
done
for port in $(seq "$base" $((base + 299))); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; set BASE_PORT" >&2; exit 1; fi
done 2>/dev/null

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Building dynamite (Release)..." >&2
dotnet build "$root/src/Dynamite.Cli" -c Release -nologo -v quiet >/dev/null
dll="$root/src/Dynamite.Cli/bin/Release/net10.0/dynamite.dll"

wait_port() { for _ in $(seq 1 300); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
cpu() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$total"; }

# Every setup: its server PIDs, the port redis-benchmark uses, the targets dynamite bench uses.
setups=(redis-server "dynamite memory" "dynamite sqlite" "3 nodes R=W=2" "3 nodes R=W=1")
if [ -n "${SETUPS:-}" ]; then
  chosen=(redis-server)
  for s in "${setups[@]:1}"; do [[ ",$SETUPS," == *",$s,"* ]] && chosen+=("$s"); done
  setups=("${chosen[@]}")
fi
declare -A setup_pids setup_port setup_targets

redis-server --port "$base" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!); setup_pids[redis-server]=$!; setup_port[redis-server]=$base; setup_targets[redis-server]="127.0.0.1:$base"

single() {
  local name=$1 port=$2 engine=$3
  dotnet "$dll" start --node-id n1 --engine "$engine" --fsync batch --listen "127.0.0.1:$port" --http "127.0.0.1:$((port + 1))" \
    --data-dir "$work/$port" >"$work/$port.log" 2>&1 &
  pids+=($!); setup_pids[$name]=$!; setup_port[$name]=$port; setup_targets[$name]="127.0.0.1:$port"
}
chosen() { local s; for s in "${setups[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
if chosen "dynamite memory"; then single "dynamite memory" $((base + 10)) memory; fi
if chosen "dynamite sqlite"; then single "dynamite sqlite" $((base + 20)) sqlite; fi

# cluster NAME BASE R W: three nodes on BASE+10i+1 (peers), +2 (RESP), +3 (admin), each seeded with the others.
cluster() {
  local name=$1 cbase=$2 r=$3 w=$4 list="" targets=""
  for i in 1 2 3; do
    local seeds=""
    for j in 1 2 3; do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:$((cbase + 10 * j + 1))"; done
    dotnet "$dll" start --node-id "n$i" --engine "$cluster_engine" --fsync batch --rack "rack$i" --n 3 --r "$r" --w "$w" \
      --listen "127.0.0.1:$((cbase + 10 * i + 2))" --peer-listen "127.0.0.1:$((cbase + 10 * i + 1))" \
      --http "127.0.0.1:$((cbase + 10 * i + 3))" --seeds "${seeds#,}" --cluster-name "bench$cbase" \
      --data-dir "$work/$cbase/n$i" >"$work/$cbase-n$i.log" 2>&1 &
    pids+=($!); list="$list $!"; targets="$targets,127.0.0.1:$((cbase + 10 * i + 2))"
  done
  setup_pids[$name]="${list# }"; setup_port[$name]=$((cbase + 12)); setup_targets[$name]="${targets#,}"
}
if chosen "3 nodes R=W=2"; then cluster "3 nodes R=W=2" $((base + 100)) 2 2; fi
if chosen "3 nodes R=W=1"; then cluster "3 nodes R=W=1" $((base + 200)) 1 1; fi

for s in "${setups[@]}"; do
  IFS=, read -ra ts <<<"${setup_targets[$s]}"
  for t in "${ts[@]}"; do wait_port "${t##*:}"; done
done
for s in "3 nodes R=W=2" "3 nodes R=W=1"; do
  chosen "$s" || continue
  ok=""
  for _ in $(seq 1 300); do
    if redis-cli -p "${setup_port[$s]}" info cluster 2>/dev/null | grep -q "cluster_state:ok"; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { echo "$s did not become ready" >&2; exit 1; }
done
# Warm-up, not recorded: the first requests of a .NET node run while the JIT compiles and re-compiles the request
# path (a profile of a 10 s run showed 15% of a cluster node's CPU in the JIT), which measures the JIT instead of
# the node. Every node of every setup coordinates some SETs and GETs first (each is a replica of the others' writes).
for s in "${setups[@]}"; do
  IFS=, read -ra ts <<<"${setup_targets[$s]}"
  for t in "${ts[@]}"; do
    timeout 120 redis-benchmark -p "${t##*:}" -t set,get -n "${WARMUP_REQUESTS:-30000}" -r 100000 -d 100 -c 50 -q >/dev/null 2>&1 || true
  done
done
sleep 2

results="$work/results.tsv"
: >"$results"
# record SETUP TOOL TEST RPS P50 P99 CPU_TICKS REQUESTS ERRORS
record() {
  local cpu100k
  cpu100k=$(awk -v t="$7" -v k="$tick" -v n="$8" 'BEGIN{printf "%.3f", t/k/n*100000}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$cpu100k" "$9" >>"$results"
}

# rb SETUP TEST NAME N ARGS...: one redis-benchmark run (CSV: "test","rps","avg","min","p50","p95","p99","max").
rb() {
  local setup=$1 test=$2 name=$3 n=$4; shift 4
  local before after line
  # shellcheck disable=SC2086
  before=$(cpu ${setup_pids[$setup]})
  line=$(timeout "$run_timeout" redis-benchmark -p "${setup_port[$setup]}" -t "$test" -n "$n" "$@" -q --csv 2>"$work/rb.err" | grep -v '^"test"' | tail -1) || true
  # shellcheck disable=SC2086
  after=$(cpu ${setup_pids[$setup]})
  if [ -z "$line" ]; then
    echo "redis-benchmark $name failed on $setup: $(tail -c 300 "$work/rb.err")" >&2
    record "$setup" redis-benchmark "$name" 0 0 0 0 "$n" "$n"
    return
  fi
  local rps p50 p99
  rps=$(echo "$line" | cut -d, -f2 | tr -d '"'); p50=$(echo "$line" | cut -d, -f5 | tr -d '"'); p99=$(echo "$line" | cut -d, -f7 | tr -d '"')
  local errors=0
  grep -qi error "$work/rb.err" && errors=$(grep -ci error "$work/rb.err")
  record "$setup" redis-benchmark "$name" "$rps" "$p50" "$p99" $((after - before)) "$n" "$errors"
}

# db SETUP NAME N ARGS...: one `dynamite bench` run, JSON read with python3.
db() {
  local setup=$1 name=$2 n=$3; shift 3
  local before after json
  # shellcheck disable=SC2086
  before=$(cpu ${setup_pids[$setup]})
  json=$(timeout "$run_timeout" dotnet "$dll" bench --targets "${setup_targets[$setup]}" --requests "$n" --duration 600 --json "$@" 2>"$work/db.err") || true
  # shellcheck disable=SC2086
  after=$(cpu ${setup_pids[$setup]})
  local fields
  if ! fields=$(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requestsPerSecond"], d["p50Ms"], d["p99Ms"], d["requests"], d["errors"])' 2>/dev/null); then
    echo "dynamite bench $name failed on $setup: $(tail -c 300 "$work/db.err")" >&2
    record "$setup" "dynamite bench" "$name" 0 0 0 0 "$n" "$n"
    return
  fi
  read -r rps p50 p99 done errors <<<"$fields"
  [ "$errors" != 0 ] && echo "dynamite bench $name on $setup: $errors errors ($(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["firstError"] or d["connectionFailure"])'))" >&2
  record "$setup" "dynamite bench" "$name" "$rps" "$p50" "$p99" $((after - before)) "$done" "$errors"
}

# 1,000 keys of 139,000 bytes (key:000000000000..999, the names redis-benchmark -r 1000 uses), not measured.
populate_big() {
  timeout "$run_timeout" dotnet "$dll" bench --targets "${setup_targets[$1]}" --populate --keyspace 1000 --value-size 139000 \
    --test get --requests 1 --connections 10 --json >/dev/null 2>"$work/populate.err" || { echo "populating $1 failed: $(cat "$work/populate.err")" >&2; }
}

small=(-r 100000 -d 100 -c 50)
tests=(
  "rb|set|SET c50|$requests|${small[*]}"
  "rb|get|GET c50|$requests|${small[*]}"
  "rb|set|SET c50 P16|$pipelined_requests|${small[*]} -P 16"
  "rb|get|GET c50 P16|$pipelined_requests|${small[*]} -P 16"
  "rb|get|GET c1|$small_requests|-r 100000 -d 100 -c 1"
  "db|set|SET c50|$requests|--keyspace 100000 --value-size 100 --connections 50"
  "db|get|GET c50|$requests|--keyspace 100000 --value-size 100 --connections 50"
  "db|set|SET c50 P16|$pipelined_requests|--keyspace 100000 --value-size 100 --connections 50 --pipeline 16"
  "db|get|GET c50 P16|$pipelined_requests|--keyspace 100000 --value-size 100 --connections 50 --pipeline 16"
  # Last in a round: they leave keys 0..999 holding 139 KB values (the next round's SETs overwrite most).
  "rb|get|GET 139KB c50|$small_requests|-r 1000 -d 139000 -c 50"
  "db|get|GET 139KB c50|$small_requests|--keyspace 1000 --value-size 139000 --connections 50"
)

started=$(date +%s)
for round in $(seq 1 "$repeat"); do
  for spec in "${tests[@]}"; do
    IFS='|' read -r tool test name n args <<<"$spec"
    if [ -n "${TESTS:-}" ] && ! [[ "$name" =~ $TESTS ]]; then continue; fi
    for setup in "${setups[@]}"; do
      if [ "$name" = "GET c1" ] && [ "$setup" != redis-server ] && [ "$setup" != "3 nodes R=W=2" ]; then continue; fi
      echo "round $round/$repeat: $tool $name on $setup ($(($(date +%s) - started)) s)" >&2
      case "$name" in *139KB*) populate_big "$setup" ;; esac
      # shellcheck disable=SC2086
      if [ "$tool" = rb ]; then rb "$setup" "$test" "$name" "$n" $args; else db "$setup" "$name" "$n" --test "$test" $args; fi
    done
  done
done

# One markdown table of medians, in test order then setup order, with ratios to redis-server's medians.
{
  echo "## bench/compare.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average at start: $load_before;" \
    "$(redis-server --version | cut -d' ' -f3); medians of $repeat interleaved runs (min–max of req/s in brackets)."
  echo "100 B runs: $requests requests (pipelined: $pipelined_requests), keyspace 100000; 139 KB and c1 runs: $small_requests requests," \
    "139 KB keyspace 1000 populated before each run. Clusters: 3 nodes, N=3, $cluster_engine engine; redis-benchmark" \
    "talks to node 1, dynamite bench spreads its connections over all three. CPU = server CPU-seconds per 100k requests." \
    "Ratios: req/s, p50 and CPU divided by redis-server's (same tool, same test, same run)."
  echo
  python3 - "$results" "${setups[@]}" <<'PY'
import sys, statistics
path, setups = sys.argv[1], sys.argv[2:]
rows = {}
order = []
for line in open(path):
    setup, tool, test, rps, p50, p99, cpu, errors = line.rstrip("\n").split("\t")
    key = (tool, test)
    if key not in order:
        order.append(key)
    r = rows.setdefault((tool, test, setup), {"rps": [], "p50": [], "p99": [], "cpu": [], "err": 0})
    r["rps"].append(float(rps)); r["p50"].append(float(p50)); r["p99"].append(float(p99)); r["cpu"].append(float(cpu))
    r["err"] += int(errors)
med = statistics.median
def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"
print("| tool | test | setup | req/s | p50 ms | p99 ms | CPU-s/100k | req/s vs redis | p50 vs redis | CPU vs redis | errors |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for tool, test in order:
    base = rows.get((tool, test, "redis-server"))
    for setup in setups:
        r = rows.get((tool, test, setup))
        if r is None:
            continue
        rps, p50, p99, cpu = med(r["rps"]), med(r["p50"]), med(r["p99"]), med(r["cpu"])
        spread = f" ({min(r['rps']) / 1000:.1f}k–{max(r['rps']) / 1000:.1f}k)" if len(r["rps"]) > 1 else ""
        cells = [tool, test, setup, f"{rps / 1000:.1f}k{spread}", f"{p50:.3f}", f"{p99:.3f}", f"{cpu:.2f}"]
        if base:
            cells += [ratio(rps, med(base["rps"])), ratio(p50, med(base["p50"])), ratio(cpu, med(base["cpu"]))]
        else:
            cells += ["-", "-", "-"]
        cells.append(str(r["err"]))
        print("| " + " | ".join(cells) + " |")
PY
  echo
  echo "Total time: $(($(date +%s) - started)) s."
} >"$work/table.md"

mkdir -p "$(dirname "$out")"
cp "$work/table.md" "$out"
cat "$work/table.md"
echo "Written to $out" >&2
