#!/usr/bin/env bash
# Issue 13's idle cost (not part of CI): 3 nodes (N=3, R=W=2, the default engine unless ENGINE says otherwise) on
# loopback, KEYS distinct keys (default 100,000, 100-byte values) written through node 1, SETTLE seconds (default 30)
# for the writes' background work to end, then each node's CPU over WINDOW seconds (default 60) from /proc/PID/stat
# (user + system ticks), as a percentage of one core. Prints one line per node and the node's log of what ran.
# Usage: bench/idle.sh   KEYS, SETTLE, WINDOW, ENGINE, BASE_PORT (default 17800), BUILD (directory holding dynamite.dll)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
keys=${KEYS:-100000}; settle=${SETTLE:-30}; window=${WINDOW:-60}; base=${BASE_PORT:-17800}
engine_args=(); [ -n "${ENGINE:-}" ] && engine_args=(--engine "$ENGINE")
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf $work' EXIT
for i in 1 2 3; do
  seeds=""; for j in 1 2 3; do [ $j != $i ] && seeds="$seeds,127.0.0.1:$((base+10*j+1))"; done
  dotnet "$build/dynamite.dll" start --node-id n$i --rack rack$i --n 3 --r 2 --w 2 "${engine_args[@]}" --listen 127.0.0.1:$((base+10*i+2)) \
    --peer-listen 127.0.0.1:$((base+10*i+1)) --http 127.0.0.1:$((base+10*i+3)) --seeds "${seeds#,}" --data-dir "$work/n$i" > "$work/n$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do for _ in $(seq 1 300); do [ "$(redis-cli -p $((base+10*i+2)) set ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done; done
python3 - "$keys" <<'PY' | timeout 600 redis-cli -p $((base+12)) --pipe > /dev/null
import sys
value = "v" * 100
out = sys.stdout
for i in range(int(sys.argv[1])):
    key = "key:%010d" % i
    out.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(key), key, value))
PY
echo "node 1 holds $(redis-cli -p $((base+12)) dbsize) keys; settling ${settle} s" >&2
sleep "$settle"
ticks=$(getconf CLK_TCK)
cpu() { for p in "${pids[@]}"; do awk '{print $14+$15}' /proc/$p/stat; done; }
before=($(cpu)); sleep "$window"; after=($(cpu))
for k in 0 1 2; do
  awk -v n=$((k+1)) -v d=$((after[k]-before[k])) -v t="$ticks" -v w="$window" 'BEGIN{printf "node n%d: %.2f%% of a core over %d s (%d ticks)\n", n, 100*d/(t*w), w, d}'
done
