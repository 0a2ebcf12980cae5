#!/usr/bin/env bash
# Delta size on a cluster (issue 14, not part of CI): 3 memory nodes, a 100,000-member set and a 100,000-field hash,
# then the bytes node 1 sends to each peer (ss bytes_sent over its peer connections) for one SADD, HSET and SREM.
# Usage: bench/delta-bytes.sh   (ports 17911-17933; BUILD: directory holding dynamite.dll, default the Release build)
set -euo pipefail
cbase=17900; build=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/src/Dynamite.Cli/bin/Release/net10.0}
work=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
for i in 1 2 3; do
  seeds=""; for j in 1 2 3; do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:$((cbase + 10 * j + 1))"; done
  dotnet "$build/dynamite.dll" start --node-id "n$i" --engine memory --rack "rack$i" --n 3 --r 2 --w 2 \
      --listen "127.0.0.1:$((cbase + 10 * i + 2))" --peer-listen "127.0.0.1:$((cbase + 10 * i + 1))" \
      --http "127.0.0.1:$((cbase + 10 * i + 3))" --seeds "${seeds#,}" --cluster-name "prof" --data-dir "$work/n$i" >"$work/n$i.log" 2>&1 &
  pids+=($!)
done
port=$((cbase + 12))
for _ in $(seq 1 300); do [ "$(redis-cli -p $port set warm 1 2>/dev/null)" = OK ] && break; sleep 0.2; done
sleep 3
python3 - <<'PY' | redis-cli -p $port --pipe >/dev/null
import sys
out=sys.stdout
def cmd(*a):
    out.write("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a))
for c in range(0, 100000, 1000):
    cmd("SADD", "bigset", *["member:%06d" % i for i in range(c, c + 1000)])
    args=[]
    for i in range(c, c + 1000): args += ["field:%06d" % i, "v"]
    cmd("HSET", "bighash", *args)
PY
echo "SCARD $(redis-cli -p $port scard bigset) HLEN $(redis-cli -p $port hlen bighash)"
sleep 2
# Bytes sent by node 1's process on its connections to peer port $1 (ss prints each socket's process, then its counters).
sent() {
  ss -tinpH state established "( dport = :$1 )" |
    awk -v pid="pid=${pids[0]}," '/users:/ {mine = index($0, pid) > 0} mine && match($0, /bytes_sent:[0-9]+/) {s += substr($0, RSTART + 11, RLENGTH - 11)} END {print s + 0}'
}
for cmdline in "SADD bigset one-more" "HSET bighash one-more v" "SREM bigset member:000005" "SADD bigset another"; do
  a2=$(sent 17921); a3=$(sent 17931)
  redis-cli -p $port $cmdline >/dev/null
  b2=$(sent 17921); b3=$(sent 17931)
  echo "$cmdline: to n2 $((b2 - a2)) B, to n3 $((b3 - a3)) B"
done
