#!/usr/bin/env bash
# Issue 17's TLS cost (not part of CI): redis-benchmark -t set,get (100,000 requests, 50 connections, 100-byte values,
# 100,000 random keys) with --tls and a client certificate, against redis-server with TLS, one Dynamite node (rocksdb)
# with TLS, and 3 Dynamite nodes (N=3, R=W=2) with TLS client ports, each target also without TLS; medians of ROUNDS
# (default 3) runs, each ratio to redis-server's figure of the same kind. The certificates are made with openssl in a
# temporary directory. Usage: bench/tls.sh   BUILD (directory holding dynamite.dll), ROUNDS
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/src/Dynamite.Cli/bin/Release/net10.0}
rounds=${ROUNDS:-3}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf $work' EXIT
cd $work
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=bench ca" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout node.key -out node.csr -subj "/CN=node" 2>/dev/null
printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n" > ext
openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 2 -extfile ext 2>/dev/null
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
for p in 17711 17721 $((base+12)) $((base+22)) $((base+32)); do
  for _ in $(seq 1 300); do [ "$(redis-cli -p $p set ready 1 2>/dev/null)" = OK ] && break; sleep 0.2; done
done
# One figure: requests per second of redis-benchmark against PORT (TLS when the second argument is tls).
measure() {
  local port=$1 tls=$2 test=$3 args=()
  [ $tls = tls ] && args=(--tls --cert node.pem --key node.key --cacert ca.pem)
  redis-benchmark -p $port "${args[@]}" -t $test -n 100000 -c 50 -r 100000 -d 100 -q 2>/dev/null | grep -oE '[0-9.]+ requests per second' | head -1 | grep -oE '^[0-9.]+'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A result
for round in $(seq 1 $rounds); do
  for target in redis:17711:17712 one:17721:17722 three:$((base+12)):$((base+14)); do
    IFS=: read -r name plain tls <<< "$target"
    for test in set get; do
      result[$name.plain.$test]+="$(measure $plain plain $test) "
      result[$name.tls.$test]+="$(measure $tls tls $test) "
    done
  done
done
printf '| target | SET c50 | GET c50 | SET c50 TLS | GET c50 TLS |\n|---|---|---|---|---|\n'
for name in redis one three; do
  row="| $name |"
  for kind in plain tls; do
    for test in set get; do
      m=$(median ${result[$name.$kind.$test]}); r=$(median ${result[redis.$kind.$test]})
      row="$row $m ($(awk -v a=$m -v b=$r 'BEGIN { printf "%.2fx", a / b }')) |"
    done
  done
  echo "$row"
done
