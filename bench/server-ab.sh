#!/usr/bin/env bash
# A/B of two server builds under one load generator (not part of CI): one standalone memory node per run, 200k SET
# then 200k GET at 50 connections over 100,000 keys of 100 bytes from `dynamite bench`, after a 200k SET warm-up;
# prints the server's CPU-seconds per 100k requests (utime+stime from /proc/PID/stat). Builds alternate, ROUNDS times,
# so a noisy machine shifts both alike; the same bench binary drives both, so only the server differs.
# Usage: bench/server-ab.sh BUILD_A BUILD_B [BENCH_BUILD]     (directories holding dynamite.dll; BENCH_BUILD: BUILD_B)
#   ROUNDS (default 4), PORT (default 17600)
# A build directory: `dotnet build src/Dynamite.Cli -c Release -o DIR` at the commit wanted (a git worktree).
set -euo pipefail
a=$1; b=$2; bench=${3:-$2}; rounds=${ROUNDS:-4}; port=${PORT:-17600}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() {
  local build=$1 pid out="" before
  rm -rf "$work/n1"
  dotnet "$build/dynamite.dll" start --node-id n1 --engine memory --listen 127.0.0.1:$port --http 127.0.0.1:$((port + 1)) \
    --peer-listen 127.0.0.1:$((port + 2)) --data-dir "$work/n1" >"$work/n1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do redis-cli -p $port ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
  bench_run() { timeout 200 dotnet "$bench/dynamite.dll" bench --targets 127.0.0.1:$port --requests 200000 --test "$1" \
    --keyspace 100000 --value-size 100 --connections 50 >/dev/null 2>&1 || echo "bench $1 failed" >&2; }
  bench_run set
  for test in set get; do
    before=$(cpu $pid); bench_run $test
    out="$out $test $(awk -v a="$(cpu $pid)" -v b="$before" 'BEGIN{printf "%.2f", (a-b)/100/2}')"
  done
  echo "$(basename "$build"):$out CPU-s/100k"
  kill $pid; wait $pid 2>/dev/null || true
}
for _ in $(seq 1 "$rounds"); do run "$a"; run "$b"; done
