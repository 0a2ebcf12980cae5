#!/usr/bin/env bash
# Issue 15's pub/sub load measurement (not part of CI): 3 rocksdb nodes (N=3, R=W=2) on loopback.
#  1. steady: dynamite bench-pubsub, SUBSCRIBERS (default 100) subscribers and one publisher per node, RATE (default
#     10,000) messages/s in total for SECONDS (default 30); every message checked at every subscriber;
#  2. a node killed: the same for SECONDS, node 3 killed (SIGKILL) at a third of it: its subscribers and publisher
#     reconnect to the next node; what the others missed is reported apart;
#  3. a subscriber that stops reading: node 1's RSS while 64 KiB messages are published to it until it is cut off
#     (client-output-buffer-limit pubsub 32mb 8mb 60, the default).
# Prints the JSON of each run and the RSS figures. Usage: bench/pubsub-load.sh   BUILD (directory holding dynamite.dll)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
subscribers=${SUBSCRIBERS:-100}; rate=${RATE:-10000}; seconds=${SECONDS_PER_RUN:-30}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf $work' EXIT
base=17700
start_node() {
  local i=$1 seeds=""
  for j in 1 2 3; do [ $j != $i ] && seeds="$seeds,127.0.0.1:$((base+10*j+1))"; done
  dotnet $build/dynamite.dll start --node-id n$i --rack rack$i --n 3 --r 2 --w 2 --listen 127.0.0.1:$((base+10*i+2)) \
    --peer-listen 127.0.0.1:$((base+10*i+1)) --http 127.0.0.1:$((base+10*i+3)) --seeds "${seeds#,}" --data-dir $work/n$i >> $work/n$i.log 2>&1 &
  pids[$i]=$!
}
wait_ready() {
  for i in 1 2 3; do for _ in $(seq 1 300); do [ "$(redis-cli -p $((base+10*i+2)) set ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done; done
  for _ in $(seq 1 100); do [ "$(redis-cli -p $((base+12)) cluster nodes 2>/dev/null | wc -l)" = 3 ] && break; sleep 0.3; done
}
for i in 1 2 3; do start_node $i; done
wait_ready
all="127.0.0.1:$((base+12)),127.0.0.1:$((base+22)),127.0.0.1:$((base+32))"
rss() { awk '/VmRSS/{print $2}' /proc/$1/status; }
cpu() { awk '{print $14+$15}' /proc/$1/stat; }

echo "== redis-server: $subscribers subscribers, $rate messages/s (3 publishers) for $seconds s"
redis-server --port $((base+50)) --save '' --appendonly no --daemonize no > $work/redis.log 2>&1 &
redis=$!; pids+=($redis)
for _ in $(seq 1 100); do redis-cli -p $((base+50)) ping >/dev/null 2>&1 && break; sleep 0.1; done
before=$(cpu $redis)
dotnet $build/dynamite.dll bench-pubsub --targets 127.0.0.1:$((base+50)) --publishers 3 --subscribers $subscribers --rate $rate --duration $seconds
echo "redis-server CPU ticks: $(( $(cpu $redis) - before ))"
kill $redis

echo "== steady: $subscribers subscribers, $rate messages/s through 3 nodes for $seconds s"
before=($(cpu ${pids[1]}) $(cpu ${pids[2]}) $(cpu ${pids[3]}))
dotnet $build/dynamite.dll bench-pubsub --targets "$all" --subscribers $subscribers --rate $rate --duration $seconds
echo "node CPU ticks: $(( $(cpu ${pids[1]}) - before[0] )) / $(( $(cpu ${pids[2]}) - before[1] )) / $(( $(cpu ${pids[3]}) - before[2] )); RSS (KiB): $(rss ${pids[1]}) / $(rss ${pids[2]}) / $(rss ${pids[3]})"

echo "== node 3 killed at $((seconds / 3)) s"
( sleep $((seconds / 3 + 2)); kill -9 ${pids[3]} ) &
killer=$!
dotnet $build/dynamite.dll bench-pubsub --targets "$all" --subscribers $subscribers --rate $rate --duration $seconds
wait $killer || true
start_node 3
wait_ready

echo "== a subscriber that stops reading (node 1, 64 KiB messages)"
before=$(rss ${pids[1]})
exec 3<>/dev/tcp/127.0.0.1/$((base+12))
printf '*2\r\n$9\r\nSUBSCRIBE\r\n$7\r\nstalled\r\n' >&3
payload=$(head -c 65536 /dev/zero | tr '\0' x)
peak=$before; published=0
for n in $(seq 1 3000); do
  delivered=$(redis-cli -p $((base+12)) publish stalled "$payload")
  published=$n
  r=$(rss ${pids[1]}); [ "$r" -gt "$peak" ] && peak=$r
  [ "$delivered" = 0 ] && break
done
exec 3>&-
echo "stalled subscriber cut off after $published messages ($((published * 64)) KiB published); node 1 RSS before ${before} KiB, peak ${peak} KiB, after $(rss ${pids[1]}) KiB"
