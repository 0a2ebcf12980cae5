#!/usr/bin/env bash
# Side-by-side: redis-benchmark against a local redis-server, `dynamite --engine memory` and
# `dynamite --engine sqlite` (fsync always), interleaved, each run REPEAT times. Prints requests/s,
# p50/p99 and server CPU-seconds per 100k requests (utime+stime of the server process, PERFORMANCE.md).
# Usage: bench/compare-single-node.sh [REPEAT] [REQUESTS]   (not part of CI)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeat="${1:-3}"
requests="${2:-200000}"
tick=$(getconf CLK_TCK)
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

dotnet build "$root/src/Dynamite.Cli" -c Release -nologo -v quiet >/dev/null
dll="$root/src/Dynamite.Cli/bin/Release/net10.0/dynamite.dll"

wait_port() { for _ in $(seq 1 200); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }

redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 & pids+=($!); redis_pid=$!
dotnet "$dll" start --engine memory --listen 127.0.0.1:16380 --http 127.0.0.1:16390 --data-dir "$work/mem" >"$work/mem.log" 2>&1 & pids+=($!); mem_pid=$!
dotnet "$dll" start --engine sqlite --fsync always --listen 127.0.0.1:16381 --http 127.0.0.1:16391 --data-dir "$work/sql" >"$work/sql.log" 2>&1 & pids+=($!); sql_pid=$!
wait_port 16379; wait_port 16380; wait_port 16381

declare -A names=([16379]="redis-server" [16380]="dynamite memory" [16381]="dynamite sqlite")
declare -A server_pid=([16379]=$redis_pid [16380]=$mem_pid [16381]=$sql_pid)
results="$work/results.tsv"
for round in $(seq 1 "$repeat"); do
  for pipeline in 1 16; do
    for test in set get; do
      for port in 16379 16380 16381; do
        before=$(cpu "${server_pid[$port]}")
        line=$(timeout 300 redis-benchmark -p "$port" -t "$test" -n "$requests" -r 100000 -d 100 -c 50 -P "$pipeline" -q --csv 2>/dev/null | tail -1)
        after=$(cpu "${server_pid[$port]}")
        # CSV: "test","rps","avg","min","p50","p95","p99","max"
        rps=$(echo "$line" | cut -d, -f2 | tr -d '"'); p50=$(echo "$line" | cut -d, -f5 | tr -d '"'); p99=$(echo "$line" | cut -d, -f7 | tr -d '"')
        cpu100k=$(awk -v a="$after" -v b="$before" -v t="$tick" -v n="$requests" 'BEGIN{printf "%.2f", (a-b)/t/n*100000}')
        printf '%s\tP%s\t%s\t%s\t%s\t%s\t%s\n' "${names[$port]}" "$pipeline" "$test" "$rps" "$p50" "$p99" "$cpu100k" >>"$results"
      done
    done
  done
done

echo "Medians of $repeat interleaved runs: redis-benchmark -n $requests -r 100000 -d 100 -c 50 [-P 16]"
printf '%-16s %-4s %-4s %12s %8s %8s %10s %8s\n' setup pipe test "req/s" "p50 ms" "p99 ms" "CPU/100k" "vs redis"
sort -t$'\t' -k2,2 -k3,3 -k1,1 "$results" | awk -F'\t' '
  { key=$1"\t"$2"\t"$3; n[key]++; rps[key,n[key]]=$4; p50[key,n[key]]=$5; p99[key,n[key]]=$6; c[key,n[key]]=$7; keys[key]=1 }
  function median(arr, k, cnt,   i, j, t, v) { for (i=1;i<=cnt;i++) v[i]=arr[k,i]+0; for (i=1;i<=cnt;i++) for (j=i+1;j<=cnt;j++) if (v[j]<v[i]) { t=v[i]; v[i]=v[j]; v[j]=t } return v[int((cnt+1)/2)] }
  END {
    for (k in keys) { m[k]=median(rps,k,n[k]); split(k, parts, "\t"); if (parts[1]=="redis-server") base[parts[2]"\t"parts[3]]=m[k] }
    for (k in keys) { split(k, parts, "\t"); printf "%-16s %-4s %-4s %12.0f %8.3f %8.3f %10.2f %7.2fx\n", parts[1], parts[2], parts[3], m[k], median(p50,k,n[k]), median(p99,k,n[k]), median(c,k,n[k]), m[k]/base[parts[2]"\t"parts[3]] }
  }' | sort -k2,2 -k3,3 -k1,1
