#!/usr/bin/env bash
# The leaderboard benchmark (issue 16, not part of CI): a sorted set of MEMBERS members (default 1,000,000), then at 50
# connections ZINCRBY of random members and ZREVRANGE lb 0 9 WITHSCORES, with redis-benchmark, against redis-server,
# one Dynamite node and 3 nodes (N=3, R=W=2), the default engine (rocksdb, --fsync batch) unless ENGINE says otherwise;
# one setup at a time, each started fresh and populated with pipelined ZADDs of 1,000 members. Prints a markdown table:
# requests/s, p50 ms, server CPU-seconds per 100k requests (every process of the setup), ratios to redis-server; then
# bytes stored per member (redis-server: used_memory growth; Dynamite: the data directory's growth, per node) and, on
# the cluster, the bytes node 1 sends to each peer per ZINCRBY it coordinates (ss bytes_sent over its peer connections).
# Usage: bench/leaderboard.sh   MEMBERS (default 1000000), REQUESTS (ZINCRBY requests, default 100000),
#        RANGE_REQUESTS (ZREVRANGE requests, default 2000), ENGINE (default rocksdb), BASE_PORT (default 17600),
#        BUILD (directory holding dynamite.dll), SETUPS (default "redis single cluster"), SETTLE (seconds between the
#        population and the first test, default 2: RocksDB's flushes and compactions of the load run during it).
#        Every redis-benchmark run is bounded by RUN_TIMEOUT seconds (default 600).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
members=${MEMBERS:-1000000}; requests=${REQUESTS:-100000}; range_requests=${RANGE_REQUESTS:-2000}
engine=${ENGINE:-rocksdb}; base=${BASE_PORT:-17600}; run_timeout=${RUN_TIMEOUT:-600}
read -ra setups <<< "${SETUPS:-redis single cluster}"; settle=${SETTLE:-2}
work=$(mktemp -d); pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop; rm -rf "$work"' EXIT
cpu() { local s=0 p; for p in "${pids[@]}"; do s=$((s + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$s"; }
wait_ready() { for _ in $(seq 1 300); do [ "$(redis-cli -p "$1" set ready 1 2>/dev/null)" = OK ] && return 0; sleep 0.2; done; echo "port $1 never answered" >&2; exit 1; }
peer_port() { echo $((base + 100 + 10 * $1 + 1)); }
start() {
  case $1 in
    redis) redis-server --port "$base" --save "" --appendonly no >"$work/redis.log" 2>&1 & pids+=($!); port=$base ;;
    single) dotnet "$build/dynamite.dll" start --node-id n1 --engine "$engine" --listen "127.0.0.1:$((base + 10))" \
              --http "127.0.0.1:$((base + 11))" --peer-listen "127.0.0.1:$((base + 12))" --data-dir "$work/single" >"$work/single.log" 2>&1 &
            pids+=($!); port=$((base + 10)) ;;
    cluster)
      for i in 1 2 3; do
        local seeds="" j
        for j in 1 2 3; do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:$(peer_port "$j")"; done
        dotnet "$build/dynamite.dll" start --node-id "n$i" --engine "$engine" --rack "rack$i" --n 3 --r 2 --w 2 \
          --listen "127.0.0.1:$((base + 100 + 10 * i + 2))" --peer-listen "127.0.0.1:$(peer_port "$i")" \
          --http "127.0.0.1:$((base + 100 + 10 * i + 3))" --seeds "${seeds#,}" --cluster-name leaderboard --data-dir "$work/c$i" >"$work/c$i.log" 2>&1 &
        pids+=($!)
      done
      port=$((base + 112)) ;;
  esac
  wait_ready "$port"
  [ "$1" = cluster ] && sleep 3
  return 0
}
populate() {
  python3 - "$members" <<'PY' | timeout "$run_timeout" redis-cli -p "$port" --pipe >/dev/null
import sys
members = int(sys.argv[1])
out = sys.stdout
for start in range(0, members, 1000):
    args = ["ZADD", "lb"]
    for i in range(start, min(start + 1000, members)):
        args += [str(i % 1000), "member:%012d" % i]
    out.write("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
}
# redis-benchmark's requests/s and p50 (ms) of one run, and the server CPU it cost per 100k requests.
measure() {
  local n=$1; shift
  local before out r p50
  before=$(cpu)
  out=$(timeout "$run_timeout" redis-benchmark -p "$port" -c 50 -n "$n" -r "$members" --csv "$@" 2>/dev/null | tail -1 || true)
  r=$(echo "$out" | awk -F'","' '{print $2}'); p50=$(echo "$out" | awk -F'","' '{print $5}')
  # A run that hit RUN_TIMEOUT prints no result row: reported as 0 requests/s.
  [[ "$r" =~ ^[0-9.]+$ ]] || { r=0; p50="timeout"; }
  echo "$r $p50 $(awk -v a="$(cpu)" -v b="$before" -v n="$n" 'BEGIN{printf "%.2f", (a-b)/(n/1000)}')"
}
size_of() {
  case $1 in
    redis) redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}' ;;
    single) du -sb "$work/single" | awk '{print $1}' ;;
    cluster) du -sb "$work/c1" | awk '{print $1}' ;;
  esac
}
# Bytes node 1's process sent on its connections to peer port $1.
sent() {
  ss -tinpH state established "( dport = :$1 )" |
    awk -v pid="pid=${pids[0]}," '/users:/ {mine = index($0, pid) > 0} mine && match($0, /bytes_sent:[0-9]+/) {s += substr($0, RSTART + 11, RLENGTH - 11)} END {print s + 0}'
}
declare -A result per_member
replica_bytes="n/a"
for setup in "${setups[@]}"; do
  start "$setup"
  empty=$(size_of "$setup")
  populate
  sleep "$settle"
  echo "$setup: ZCARD $(redis-cli -p "$port" zcard lb)" >&2
  per_member[$setup]=$(( ($(size_of "$setup") - empty) / members ))
  if [ "$setup" = cluster ]; then
    a2=$(sent "$(peer_port 2)"); a3=$(sent "$(peer_port 3)")
    for i in $(seq 1 1000); do echo "ZINCRBY lb 1 member:$(printf '%012d' $((i * 997 % members)))"; done | redis-cli -p "$port" >/dev/null
    sleep 1
    b2=$(sent "$(peer_port 2)"); b3=$(sent "$(peer_port 3)")
    replica_bytes="to n2 $(( (b2 - a2) / 1000 )) B, to n3 $(( (b3 - a3) / 1000 )) B"
  fi
  result[$setup,ZINCRBY]=$(measure "$requests" ZINCRBY lb 1 member:__rand_int__)
  result[$setup,ZREVRANGE]=$(measure "$range_requests" ZREVRANGE lb 0 9 WITHSCORES)
  stop
done
echo "| test | setup | req/s | p50 ms | CPU-s/100k | req/s vs redis | CPU vs redis |"
echo "|---|---|---:|---:|---:|---:|---:|"
for name in ZINCRBY ZREVRANGE; do
  for setup in "${setups[@]}"; do
    label=$([ "$setup" = redis ] && echo "redis-server" || { [ "$setup" = single ] && echo "dynamite 1 node $engine" || echo "3 nodes R=W=2 $engine"; })
    read -r r p c <<<"${result[$setup,$name]}"; read -r rr _ rc <<<"${result[redis,$name]:-0 0 0}"
    awk -v n="$name" -v l="$label" -v r="$r" -v p="$p" -v c="$c" -v rr="$rr" -v rc="$rc" \
      'BEGIN{printf "| %s c50 | %s | %.1fk | %s | %.2f | %.3fx | %.2fx |\n", n, l, r/1000, p, c, (rr>0?r/rr:0), (rc>0?c/rc:0)}'
  done
done
echo
echo "Bytes per member: redis-server ${per_member[redis]:-n/a} (used_memory), dynamite 1 node ${per_member[single]:-n/a}, 3 nodes ${per_member[cluster]:-n/a} per node (data directory)."
echo "Bytes node 1 sends per ZINCRBY it coordinates: $replica_bytes."
