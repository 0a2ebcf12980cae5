#!/usr/bin/env bash
# Issue 17's TLS cost (not part of CI): redis-benchmark -t set,get (100,000 requests, 50 connections, 100-byte values,
# 100,000 random keys) with --tls and a client certificate, against redis-server with TLS, one Dynamite node (rocksdb)
# with TLS, 3 Dynamite nodes (N=3, R=W=2) with TLS client ports and plaintext peers, and 3 more whose peers use mutual
# TLS (--peer-tls on), each target also without TLS on the client side; medians of ROUNDS (default 3) runs, each ratio
# to redis-server's figure of the same kind. The certificates are made with `dynamite certs` in a temporary directory.
# Usage: bench/tls.sh   BUILD (directory holding dynamite.dll), ROUNDS
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
rounds=${ROUNDS:-3}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf $work' EXIT
cd $work
dotnet $build/dynamite.dll certs init --dir . --cluster bench > /dev/null
for name in node n1 n2 n3 m1 m2 m3; do dotnet $build/dynamite.dll certs issue $name --dir . > /dev/null; done
dotnet $build/dynamite.dll certs issue client --client --dir . > /dev/null
tlsargs=(--tls-cert-file node.pem --tls-key-file node.key --tls-ca-cert-file ca.pem)
redis-server --port 17711 --tls-port 17712 "${tlsargs[@]}" --save "" --appendonly no > redis.log 2>&1 &
pids+=($!)
dotnet $build/dynamite.dll start --node-id s1 --listen 127.0.0.1:17721 --tls-port 17722 "${tlsargs[@]}" --http 127.0.0.1:17723 --data-dir $work/s1 > s1.log 2>&1 &
pids+=($!)
base=17730
for i in 1 2 3; do
  seeds=""; for j in 1 2 3; do [ $j != $i ] && seeds="$seeds,127.0.0.1:$((base+10*j+1))"; done
  dotnet $build/dynamite.dll start --node-id n$i --rack rack$i --n 3 --r 2 --w 2 --listen 127.0.0.1:$((base+10*i+2)) --tls-port $((base+10*i+4)) "${tlsargs[@]}" \
    --peer-listen 127.0.0.1:$((base+10*i+1)) --http 127.0.0.1:$((base+10*i+3)) --seeds "${seeds#,}" --data-dir $work/n$i > n$i.log 2>&1 &
  pids+=($!)
done
# The same cluster with mutual TLS between its nodes, each presenting its own node certificate.
mbase=17770
for i in 1 2 3; do
  seeds=""; for j in 1 2 3; do [ $j != $i ] && seeds="$seeds,127.0.0.1:$((mbase+10*j+1))"; done
  dotnet $build/dynamite.dll start --node-id m$i --rack rack$i --n 3 --r 2 --w 2 --listen 127.0.0.1:$((mbase+10*i+2)) --tls-port $((mbase+10*i+4)) \
    --tls-cert-file m$i.pem --tls-key-file m$i.key --tls-ca-cert-file ca.pem --peer-tls on --cluster-name bench \
    --peer-listen 127.0.0.1:$((mbase+10*i+1)) --http 127.0.0.1:$((mbase+10*i+3)) --seeds "${seeds#,}" --data-dir $work/m$i > m$i.log 2>&1 &
  pids+=($!)
done
for p in 17711 17721 $((base+12)) $((base+22)) $((base+32)) $((mbase+12)) $((mbase+22)) $((mbase+32)); do
  for _ in $(seq 1 300); do [ "$(redis-cli -p $p set ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done
done
# One figure: requests per second of redis-benchmark against PORT (TLS when the second argument is tls).
measure() {
  local port=$1 tls=$2 test=$3 args=()
  [ $tls = tls ] && args=(--tls --cert client.pem --key client.key --cacert ca.pem)
  redis-benchmark -p $port "${args[@]}" -t $test -n 100000 -c 50 -r 100000 -d 100 -q 2>/dev/null | grep -oE '[0-9.]+ requests per second' | head -1 | grep -oE '^[0-9.]+'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A result
for round in $(seq 1 $rounds); do
  for target in redis:17711:17712 one:17721:17722 three:$((base+12)):$((base+14)) three-mtls:$((mbase+12)):$((mbase+14)); do
    IFS=: read -r name plain tls <<< "$target"
    for test in set get; do
      result[$name.plain.$test]+="$(measure $plain plain $test) "
      result[$name.tls.$test]+="$(measure $tls tls $test) "
    done
  done
done
printf '| target | SET c50 | GET c50 | SET c50 TLS | GET c50 TLS |\n|---|---|---|---|---|\n'
for name in redis one three three-mtls; do
  row="| $name |"
  for kind in plain tls; do
    for test in set get; do
      m=$(median ${result[$name.$kind.$test]}); r=$(median ${result[redis.$kind.$test]})
      row="$row $m ($(awk -v a=$m -v b=$r 'BEGIN { printf "%.2fx", a / b }')) |"
    done
  done
  echo "$row"
done
