#!/usr/bin/env bash
# Side-by-side: redis-benchmark against a local redis-server and through a 3-node Dynamite cluster (N=3)
# at R=W=2 and at R=W=1, interleaved, each run REPEAT times. Prints requests/s, p50/p99 and server
# CPU-seconds per 100k requests (utime+stime summed over every server process of the setup, PERFORMANCE.md).
# Usage: bench/compare-cluster.sh [REPEAT] [REQUESTS]   ENGINE=memory|sqlite (default memory). Not part of CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeat="${1:-3}"
requests="${2:-200000}"
engine="${ENGINE:-memory}"
tick=$(getconf CLK_TCK)
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$work"; }
trap cleanup EXIT

dotnet build "$root/src/Dynamite.Cli" -c Release -nologo -v quiet >/dev/null
dll="$root/src/Dynamite.Cli/bin/Release/net10.0/dynamite.dll"
wait_port() { for _ in $(seq 1 300); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
cpu() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$total"; }

# cluster NAME BASE R W: three nodes on BASE+10i+1/2/3, every node seeded with the others.
declare -A cluster_pids cluster_port
cluster() {
  local name=$1 base=$2 r=$3 w=$4 list=""
  for i in 1 2 3; do
    local seeds=""
    for j in 1 2 3; do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:$((base + 10 * j + 1))"; done
    dotnet "$dll" start --node-id "n$i" --engine "$engine" --fsync batch --rack "rack$i" --r "$r" --w "$w" \
      --listen "127.0.0.1:$((base + 10 * i + 2))" --peer-listen "127.0.0.1:$((base + 10 * i + 1))" \
      --http "127.0.0.1:$((base + 10 * i + 3))" --seeds "${seeds#,}" --cluster-name "$name" \
      --data-dir "$work/$name/n$i" >"$work/$name-n$i.log" 2>&1 &
    pids+=($!); list="$list $!"
  done
  cluster_pids[$name]="$list"; cluster_port[$name]=$((base + 12))
  for i in 1 2 3; do wait_port $((base + 10 * i + 2)); done
  for _ in $(seq 1 100); do redis-cli -p $((base + 12)) info cluster | grep -q "cluster_state:ok" && break; sleep 0.1; done
}

redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 & pids+=($!)
cluster_pids[redis-server]="$!"; cluster_port[redis-server]=16379
wait_port 16379
cluster "quorum-r2w2" 17000 2 2
cluster "one-r1w1" 17100 1 1
sleep 2

setups=(redis-server quorum-r2w2 one-r1w1)
results="$work/results.tsv"
for round in $(seq 1 "$repeat"); do
  for pipeline in 1 16; do
    for test in set get; do
      for setup in "${setups[@]}"; do
        # shellcheck disable=SC2086
        before=$(cpu ${cluster_pids[$setup]})
        line=$(timeout 600 redis-benchmark -p "${cluster_port[$setup]}" -t "$test" -n "$requests" -r 100000 -d 100 -c 50 -P "$pipeline" -q --csv 2>/dev/null | tail -1)
        # shellcheck disable=SC2086
        after=$(cpu ${cluster_pids[$setup]})
        rps=$(echo "$line" | cut -d, -f2 | tr -d '"'); p50=$(echo "$line" | cut -d, -f5 | tr -d '"'); p99=$(echo "$line" | cut -d, -f7 | tr -d '"')
        cpu100k=$(awk -v a="$after" -v b="$before" -v t="$tick" -v n="$requests" 'BEGIN{printf "%.2f", (a-b)/t/n*100000}')
        printf '%s\tP%s\t%s\t%s\t%s\t%s\t%s\n' "$setup" "$pipeline" "$test" "$rps" "$p50" "$p99" "$cpu100k" >>"$results"
      done
    done
  done
done

echo "Medians of $repeat interleaved runs: redis-benchmark -n $requests -r 100000 -d 100 -c 50 [-P 16]; cluster engine $engine"
printf '%-16s %-4s %-4s %12s %8s %8s %10s %8s\n' setup pipe test "req/s" "p50 ms" "p99 ms" "CPU/100k" "vs redis"
awk -F'\t' '
  { key=$1"\t"$2"\t"$3; n[key]++; rps[key,n[key]]=$4; p50[key,n[key]]=$5; p99[key,n[key]]=$6; c[key,n[key]]=$7; keys[key]=1 }
  function median(arr, k, cnt,   i, j, t, v) { for (i=1;i<=cnt;i++) v[i]=arr[k,i]+0; for (i=1;i<=cnt;i++) for (j=i+1;j<=cnt;j++) if (v[j]<v[i]) { t=v[i]; v[i]=v[j]; v[j]=t } return v[int((cnt+1)/2)] }
  END {
    for (k in keys) { m[k]=median(rps,k,n[k]); split(k, parts, "\t"); if (parts[1]=="redis-server") base[parts[2]"\t"parts[3]]=m[k] }
    for (k in keys) { split(k, parts, "\t"); printf "%-16s %-4s %-4s %12.0f %8.3f %8.3f %10.2f %7.2fx\n", parts[1], parts[2], parts[3], m[k], median(p50,k,n[k]), median(p99,k,n[k]), median(c,k,n[k]), m[k]/base[parts[2]"\t"parts[3]] }
  }' "$results" | sort -k2,2 -k3,3 -k1,1
