#!/usr/bin/env bash
# Issue 17's rotation under load (not part of CI): three nodes with mutual TLS between peers (--peer-tls on) and
# `dynamite bench` against all three (CONNECTIONS, default 50; mixed reads and writes for DURATION seconds, default 40) while,
# in order: the new CA is added to every node's CA file, every node's certificate and key are replaced by ones of the
# new CA, and the old CA is removed. Prints the bench's JSON (requests, errors) and how many peer connections the nodes
# replaced, then checks that a node still holding an old-CA certificate is refused.
# Usage: bench/cert-rotation.sh    (environment: BUILD, the directory holding dynamite.dll; CONNECTIONS; DURATION)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
connections=${CONNECTIONS:-50}
seconds=${DURATION:-40}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf $work' EXIT
cd $work
dynamite() { dotnet $build/dynamite.dll "$@"; }
mkdir old new
dynamite certs init --dir old --cluster rot > /dev/null
dynamite certs init --dir new --cluster rot > /dev/null
for n in n1 n2 n3 n4; do dynamite certs issue $n --dir old > /dev/null; dynamite certs issue $n --dir new > /dev/null; done
cp old/ca.pem trusted.pem
base=17830
for i in 1 2 3; do
  cp old/n$i.pem n$i.pem; cp old/n$i.key n$i.key
  seeds=""; for j in 1 2 3; do [ $j != $i ] && seeds="$seeds,127.0.0.1:$((base+10*j+1))"; done
  # dotnet directly, not the function: $! must be the node's own process, which the trap stops.
  dotnet $build/dynamite.dll start --node-id n$i --rack rack$i --cluster-name rot --peer-tls on --tls-cert-file n$i.pem --tls-key-file n$i.key --tls-ca-cert-file trusted.pem \
    --listen 127.0.0.1:$((base+10*i+2)) --peer-listen 127.0.0.1:$((base+10*i+1)) --http 127.0.0.1:$((base+10*i+3)) --seeds "${seeds#,}" \
    --data-dir $work/d$i > n$i.log 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 300); do [ "$(redis-cli -p $((base+10*i+2)) set ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done
done
replace() { cp "$2" "$1.new"; mv -f "$1.new" "$1"; }
targets="127.0.0.1:$((base+12)),127.0.0.1:$((base+22)),127.0.0.1:$((base+32))"
dynamite bench --targets "$targets" --duration "$seconds" --connections "$connections" --keyspace 100000 --test mixed --json > bench.json &
bench=$!
sleep $((seconds / 8))
cat old/ca.pem new/ca.pem > both.pem; replace trusted.pem both.pem
sleep $((seconds / 8))
for i in 1 2 3; do replace n$i.key new/n$i.key; replace n$i.pem new/n$i.pem; done
sleep $((seconds / 4))
replace trusted.pem new/ca.pem
wait $bench
cat bench.json
echo "peer connections replaced after a node's new certificate: $(cat n1.log n2.log n3.log | grep -c "so it sees this node's new certificate")"
echo "peer connections replaced or closed for an untrusted certificate: $(cat n1.log n2.log n3.log | grep -c "no longer trusted")"
dotnet $build/dynamite.dll start --node-id n4 --rack rack4 --cluster-name rot --peer-tls on --tls-cert-file old/n4.pem --tls-key-file old/n4.key --tls-ca-cert-file old/ca.pem \
  --listen 127.0.0.1:$((base+42)) --peer-listen 127.0.0.1:$((base+41)) --http 127.0.0.1:$((base+43)) --seeds 127.0.0.1:$((base+11)) --data-dir $work/d4 > n4.log 2>&1 &
pids+=($!)
sleep 5
echo "old-CA node n4 refused by n1: $(grep -c "Refused peer TLS connection" n1.log) refusal(s) logged; n1 lists n4 as a peer: $(redis-cli -p $((base+12)) info cluster | grep -c peer_n4)"
