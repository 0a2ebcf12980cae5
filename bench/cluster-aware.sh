#!/usr/bin/env bash
# Issue 15's load-spread measurement (not part of CI): 3 rocksdb nodes (N=3, R=W=2) on loopback, redis-benchmark
# -t set,get (100,000 requests, 50 connections, 100-byte values, 100,000 random keys) against node 1 plainly, then
# with --cluster (it reads CLUSTER SLOTS and sends each key to its slot's first primary); prints requests/s and each
# node's server CPU ticks; then dynamite bench spreading its connections over the three nodes, and with --cluster
# (each key sent to its slot's first node). Usage: bench/cluster-aware.sh   BUILD (directory holding dynamite.dll)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf $work' EXIT
base=17600
for i in 1 2 3; do
  seeds=""; for j in 1 2 3; do [ $j != $i ] && seeds="$seeds,127.0.0.1:$((base+10*j+1))"; done
  dotnet $build/dynamite.dll start --node-id n$i --rack rack$i --n 3 --r 2 --w 2 --listen 127.0.0.1:$((base+10*i+2)) \
    --peer-listen 127.0.0.1:$((base+10*i+1)) --http 127.0.0.1:$((base+10*i+3)) --seeds "${seeds#,}" --data-dir $work/n$i > $work/n$i.log 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do for _ in $(seq 1 300); do [ "$(redis-cli -p $((base+10*i+2)) set ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done; done
for _ in $(seq 1 100); do [ "$(redis-cli -p $((base+12)) cluster nodes 2>/dev/null | wc -l)" = 3 ] && break; sleep 0.3; done
cpu() { for p in "${pids[@]}"; do awk '{print $14+$15}' /proc/$p/stat; done | paste -sd' '; }
all="127.0.0.1:$((base+12)),127.0.0.1:$((base+22)),127.0.0.1:$((base+32))"
for mode in spread slots; do
  for t in set get; do
    before=($(cpu))
    if [ $mode = slots ]; then args=(--targets 127.0.0.1:$((base+12)) --cluster); else args=(--targets "$all"); fi
    rps=$(dotnet $build/dynamite.dll bench "${args[@]}" --test $t --requests 100000 --connections 50 --keyspace 100000 --json | grep -oE '"requestsPerSecond": *[0-9.]+' | grep -oE '[0-9.]+$')
    after=($(cpu))
    d=(); tot=0; for k in 0 1 2; do d[$k]=$((after[$k]-before[$k])); tot=$((tot+d[$k])); done
    echo "dynamite bench $mode $t: $rps requests per second; server CPU ticks per node ${d[0]}/${d[1]}/${d[2]} (total $tot)"
  done
done
for mode in plain cluster; do
  for t in set get; do
    before=($(cpu))
    if [ $mode = cluster ]; then args=(--cluster); else args=(); fi
    rps=$(redis-benchmark -p $((base+12)) "${args[@]}" -t $t -n 100000 -c 50 -r 100000 -d 100 -q 2>/dev/null | grep -oE '[0-9.]+ requests per second' | head -1)
    after=($(cpu))
    d=(); tot=0; for k in 0 1 2; do d[$k]=$((after[$k]-before[$k])); tot=$((tot+d[$k])); done
    echo "$mode $t: $rps; server CPU ticks per node ${d[0]}/${d[1]}/${d[2]} (total $tot)"
  done
done
