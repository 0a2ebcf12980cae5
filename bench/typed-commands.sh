#!/usr/bin/env bash
# The typed commands beside strings (issue 14's benchmark, not part of CI): redis-benchmark at 50 connections, 100-byte
# values, 100,000 random elements, against redis-server, one Dynamite node and 3 nodes (N=3, R=W=2), the default engine
# (rocksdb, --fsync batch) unless ENGINE says otherwise; one setup at a time, each started fresh. Prints a markdown table:
# requests/s, server CPU-seconds per 100k requests (every process of the setup), and both as ratios to redis-server's.
# Usage: bench/typed-commands.sh   REQUESTS (default 100000), REPEAT (default 1: runs per test, the median kept),
#        ENGINE (default rocksdb), BASE_PORT (default 17400), BUILD (directory holding dynamite.dll)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
requests=${REQUESTS:-100000}; repeat=${REPEAT:-1}; engine=${ENGINE:-rocksdb}; base=${BASE_PORT:-17400}
work=$(mktemp -d); pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop; rm -rf "$work"' EXIT
# name|redis-benchmark arguments (a test name for -t, or a command)
tests=("SET|-t set" "GET|-t get" "INCR|-t incr" "HSET|-t hset" "HGET|HGET myhash element:__rand_int__" "SADD|-t sadd" "SISMEMBER|SISMEMBER myset element:__rand_int__")
cpu() { local s=0 p; for p in "${pids[@]}"; do s=$((s + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$s"; }
wait_ready() { for _ in $(seq 1 300); do [ "$(redis-cli -p "$1" set ready 1 2>/dev/null)" = OK ] && return 0; sleep 0.2; done; echo "port $1 never answered" >&2; exit 1; }
start() {
  case $1 in
    redis) redis-server --port "$base" --save "" --appendonly no >"$work/redis.log" 2>&1 & pids+=($!); port=$base ;;
    single) dotnet "$build/dynamite.dll" start --node-id n1 --engine "$engine" --listen "127.0.0.1:$((base + 10))" \
              --http "127.0.0.1:$((base + 11))" --peer-listen "127.0.0.1:$((base + 12))" --data-dir "$work/single" >"$work/single.log" 2>&1 &
            pids+=($!); port=$((base + 10)) ;;
    cluster)
      for i in 1 2 3; do
        local seeds="" j
        for j in 1 2 3; do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:$((base + 100 + 10 * j + 1))"; done
        dotnet "$build/dynamite.dll" start --node-id "n$i" --engine "$engine" --rack "rack$i" --n 3 --r 2 --w 2 \
          --listen "127.0.0.1:$((base + 100 + 10 * i + 2))" --peer-listen "127.0.0.1:$((base + 100 + 10 * i + 1))" \
          --http "127.0.0.1:$((base + 100 + 10 * i + 3))" --seeds "${seeds#,}" --cluster-name typedbench --data-dir "$work/c$i" >"$work/c$i.log" 2>&1 &
        pids+=($!)
      done
      port=$((base + 112)) ;;
  esac
  wait_ready "$port"
  [ "$1" = cluster ] && sleep 3
  return 0
}
declare -A rate cost
for setup in redis single cluster; do
  start "$setup"
  for entry in "${tests[@]}"; do
    name=${entry%%|*}; args=${entry#*|}
    # shellcheck disable=SC2086
    timeout 300 redis-benchmark -p "$port" -c 50 -n 20000 -r 100000 -d 100 -q $args >/dev/null 2>&1 || true
    runs=()
    for _ in $(seq 1 "$repeat"); do
      before=$(cpu)
      # shellcheck disable=SC2086
      r=$(timeout 300 redis-benchmark -p "$port" -c 50 -n "$requests" -r 100000 -d 100 -q $args 2>/dev/null | tr '\r' '\n' | grep -a "per second" | tail -1 | awk '{for (i = 2; i <= NF; i++) if ($i == "requests") print $(i - 1)}' || true)
      runs+=("${r:-0} $(awk -v a="$(cpu)" -v b="$before" -v n="$requests" 'BEGIN{printf "%.2f", (a-b)/(n/1000)}')")
    done
    median=$(printf '%s\n' "${runs[@]}" | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
    rate[$setup,$name]=${median%% *}; cost[$setup,$name]=${median##* }
  done
  stop
done
echo "| test | setup | req/s | CPU-s/100k | req/s vs redis | CPU vs redis |"
echo "|---|---|---:|---:|---:|---:|"
for entry in "${tests[@]}"; do
  name=${entry%%|*}
  for setup in redis single cluster; do
    label=$([ "$setup" = redis ] && echo "redis-server" || { [ "$setup" = single ] && echo "dynamite 1 node $engine" || echo "3 nodes R=W=2 $engine"; })
    awk -v n="$name" -v l="$label" -v r="${rate[$setup,$name]}" -v c="${cost[$setup,$name]}" -v rr="${rate[redis,$name]}" -v rc="${cost[redis,$name]}" \
      'BEGIN{printf "| %s c50 | %s | %.1fk | %.2f | %.2fx | %.2fx |\n", n, l, r/1000, c, (rr>0?r/rr:0), (rc>0?c/rc:0)}'
  done
done
