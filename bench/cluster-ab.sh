#!/usr/bin/env bash
# A/B of 3-node clusters under one load generator (not part of CI). Each setup is a build directory and, optionally,
# environment settings for its nodes; every setup is a cluster of three nodes on loopback (N=3, R=W=2, racks 1-3,
# --fsync batch), all started at once and all frozen (SIGSTOP) except the one being warmed up or measured. Each is
# warmed with 100k SET, then ROUNDS rounds measure every setup once, in turn (even rounds in reverse order), with
# redis-benchmark against node 1 (REQUESTS requests of TEST, 100-byte values, 100,000 random keys, 50 connections). A
# round is short and the setups alternate within it, so this machine's slow drifts (other tenants) shift every setup
# alike; the medians of requests/s and of server CPU-seconds per 100k requests (utime+stime of the three nodes,
# /proc/PID/stat) are compared. Differences under about 5% are noise here (PERFORMANCE.md); look for a sign that
# repeats in most rounds, and repeat the A/B before believing it (a 20% difference has reversed on the repeat).
#
# Usage: bench/cluster-ab.sh 'LABEL=BUILD_DIR[;NAME=VALUE...]' 'LABEL=BUILD_DIR[;NAME=VALUE...]' ...
#   e.g. bench/cluster-ab.sh "base=/tmp/a" "spin=/tmp/a;DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=20"
#   ROUNDS (default 6), REQUESTS (default 60000), TEST (set or get; default set), ENGINE (default rocksdb),
#   BASE_PORT (default 18000; setup i uses BASE_PORT+100i .. +33), PIPELINE (commands in flight per connection,
#   redis-benchmark -P; default 1)
# A build directory: `dotnet build src/Dynamite.Cli -c Release -o DIR` at the commit wanted (a git worktree).
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,17p' "$0"; exit 2; }
rounds=${ROUNDS:-6}; requests=${REQUESTS:-60000}; test=${TEST:-set}; engine=${ENGINE:-rocksdb}; base=${BASE_PORT:-18000}
pipeline=${PIPELINE:-1}
work=$(mktemp -d); all_pids=()
cleanup() {
  for p in "${all_pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ticks=$(getconf CLK_TCK)
cpu() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
rps_of() { tr '\r' '\n' | grep "requests per second" | tail -n 1 | awk '{print $2}'; }

labels=(); setup_pids=(); ports=()
i=0
for spec in "$@"; do
  label=${spec%%=*}; rest=${spec#*=}; build=${rest%%;*}; envs=()
  [ "$rest" != "$build" ] && IFS=';' read -r -a envs <<< "${rest#*;}"
  [ -f "$build/dynamite.dll" ] || { echo "no dynamite.dll in $build" >&2; exit 2; }
  cbase=$((base + 100 * i)); list=""
  for n in 1 2 3; do
    seeds=""; for m in 1 2 3; do [ $m != $n ] && seeds="$seeds,127.0.0.1:$((cbase + 10 * m + 1))"; done
    env "${envs[@]}" dotnet "$build/dynamite.dll" start --node-id "n$n" --engine "$engine" --fsync batch --rack "rack$n" \
      --n 3 --r 2 --w 2 --listen "127.0.0.1:$((cbase + 10 * n + 2))" --peer-listen "127.0.0.1:$((cbase + 10 * n + 1))" \
      --http "127.0.0.1:$((cbase + 10 * n + 3))" --seeds "${seeds#,}" --cluster-name "ab$cbase" \
      --data-dir "$work/$cbase/n$n" > "$work/$cbase-n$n.log" 2>&1 &
    all_pids+=($!); list="$list $!"
  done
  for n in 1 2 3; do
    for _ in $(seq 1 300); do [ "$(redis-cli -p $((cbase + 10 * n + 2)) set ab-ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done
  done
  labels+=("$label"); setup_pids+=("${list# }"); ports+=($((cbase + 12)))
  # shellcheck disable=SC2086
  kill -STOP ${list}
  i=$((i + 1))
done

results="$work/results"; : > "$results"
# run INDEX REQUESTS: resume setup INDEX, let it settle, run, freeze it again; prints "rps cpu-s/100k".
run() {
  local j=$1 n=$2 before after rps
  # shellcheck disable=SC2086
  kill -CONT ${setup_pids[$j]}; sleep 3
  # shellcheck disable=SC2086
  before=$(cpu ${setup_pids[$j]})
  rps=$(timeout 600 redis-benchmark -p "${ports[$j]}" -t "$test" -n "$n" -r 100000 -d 100 -c 50 -P "$pipeline" -q 2>/dev/null | rps_of)
  # shellcheck disable=SC2086
  after=$(cpu ${setup_pids[$j]})
  # shellcheck disable=SC2086
  kill -STOP ${setup_pids[$j]}
  awk -v r="${rps:-0}" -v d=$((after - before)) -v t="$ticks" -v n="$n" 'BEGIN{printf "%s %.2f\n", r, d / t * 100000 / n}'
}
for ((j = 0; j < ${#labels[@]}; j++)); do
  # shellcheck disable=SC2086
  kill -CONT ${setup_pids[$j]}; sleep 2
  timeout 600 redis-benchmark -p "${ports[$j]}" -t set -n 100000 -r 100000 -d 100 -c 50 -q > /dev/null 2>&1 || true
  # shellcheck disable=SC2086
  kill -STOP ${setup_pids[$j]}
done
# Even rounds measure the setups in reverse order: a setup measured in the same place in every round showed a 20%
# "gain" that reversed when the order was swapped (cluster-write-profile-2026-12-07.md, session 15).
for r in $(seq 1 "$rounds"); do
  line="round $r:"
  for ((k = 0; k < ${#labels[@]}; k++)); do
    j=$k; [ $((r % 2)) -eq 0 ] && j=$((${#labels[@]} - 1 - k))
    m=$(run "$j" "$requests")
    echo "${labels[$j]} $m" >> "$results"
    line="$line ${labels[$j]} $m |"
  done
  echo "$line"
done
median() { sort -n | awk '{a[NR]=$1} END{ if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "$test c50 P$pipeline, $engine, $rounds rounds of $requests requests; medians: requests/s, server CPU-s per 100k"
for l in "${labels[@]}"; do
  echo "$l: $(grep "^$l " "$results" | awk '{print $2}' | median) req/s, $(grep "^$l " "$results" | awk '{print $3}' | median) CPU-s/100k"
done
