#!/usr/bin/env bash
# Runs units of Redis 7.0.15's own TCL test suite against a standalone Dynamite node, or against node 1 of a 3-node
# cluster (tests/redis-suite/README.md).
# Usage: scripts/redis-suite.sh [--cluster] [UNIT...]
#   default units: type/hash type/incr type/set type/zset type/list type/string bitops bitfield keyspace expire protocol other multi scripting functions pubsub info-command hyperloglog dynamite-acl tracking on a standalone node, the same without type/zset, type/list and tracking (refused on a cluster node) on a cluster (the ones CI runs)
#   dynamite-acl is unit/acl's first server block, whose tests need nothing but a client, with its "external:skip" tag
#   dropped (the suite skips the whole unit against an external server; the later blocks restart servers with files)
#   REDIS_SUITE_DIR  where the suite is unpacked (default ${XDG_CACHE_HOME:-$HOME/.cache}/dynamite/redis-suite)
#   ENGINE           the nodes' storage engine (default: the node's default)
# Installs tcl and dpkg-dev and adds a deb-src line when they are missing (as root, or through sudo), fetches the
# source once, builds the node if needed, starts the node(s) on free loopback ports, runs each unit and stops them.
# Exit status 1 when any test of any unit failed or a unit aborted.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cluster=0
if [ "${1:-}" = "--cluster" ]; then
  cluster=1
  shift
fi
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
  units=(type/hash type/incr type/set type/zset type/list type/string bitops bitfield keyspace expire protocol other multi scripting functions pubsub info-command hyperloglog dynamite-acl tracking)
  # On a cluster the sorted-set and list units are left out of the default list: with them, the 2-core CI machine's
  # three nodes fell behind (a peer's heartbeats late enough for the failure detector, FLUSHALL refused) in later
  # units. CI runs them on a fresh cluster of their own (scripts/test.sh: --cluster type/zset type/list).
  [ $cluster -eq 1 ] && units=(type/hash type/incr type/set type/string bitops bitfield keyspace expire protocol other multi scripting functions pubsub info-command hyperloglog dynamite-acl)
fi
suite_home="${REDIS_SUITE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamite/redis-suite}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

if ! command -v tclsh >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null 2>&1; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq tcl dpkg-dev >/dev/null
fi

src="$suite_home/redis-7.0.15"
if [ ! -x "$src/runtest" ]; then
  if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $sudo tee /etc/apt/sources.list.d/dynamite-deb-src.sources >/dev/null
  fi
  $sudo apt-get update -qq
  fetch="$(mktemp -d)"
  (cd "$fetch" && apt-get source -qq redis >/dev/null 2>&1) || { echo "apt-get source redis failed" >&2; exit 1; }
  [ -x "$fetch/redis-7.0.15/runtest" ] || { echo "apt-get source redis did not give redis-7.0.15: $(ls "$fetch")" >&2; exit 1; }
  mkdir -p "$suite_home"
  rm -rf "$src"
  mv "$fetch/redis-7.0.15" "$src"
  rm -rf "$fetch"
fi

# unit/dynamite-acl: unit/acl up to its second start_server (the blocks after it need config files and restarts). Its
# tests expect the fresh server the suite would start, so it first deletes the users earlier units made (unit/scripting
# makes "bob") and resets the default user.
awk 'NR == 1 { sub(/ external:skip/, ""); print
               print "    foreach user [r ACL USERS] { if {$user ne \"default\"} { r ACL DELUSER $user } }"
               print "    r ACL SETUSER default reset on nopass ~* &* +@all"
               next }
     /^set server_path/ { exit } { print }' "$src/tests/unit/acl.tcl" >"$src/tests/unit/dynamite-acl.tcl"

dll="$root/src/Dynamite.Cli/bin/Release/net10.0/dynamite.dll"
[ -f "$dll" ] || dotnet build "$root/src/Dynamite.Cli" -c Release -nologo -v quiet >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
engine=()
[ -n "${ENGINE:-}" ] && engine=(--engine "$ENGINE")
nodes=()
# Stops the nodes this script started (by PID) and keeps the script's own exit status: a node's exit status on
# SIGTERM is not the suite's result.
stop_nodes() {
  local result=$?
  local i
  # A failed run shows whether each node is still running and how its log ends (a node marked unreachable: dead or hung?).
  if [ "$result" -ne 0 ]; then
    for i in "${!nodes[@]}"; do
      if kill -0 "${nodes[$i]}" 2>/dev/null; then echo "node $((i + 1)) (pid ${nodes[$i]}) is running; its log ends:"; else echo "node $((i + 1)) (pid ${nodes[$i]}) has exited; its log ends:"; fi
      tail -n 25 "$work/node$i.log" 2>/dev/null || true
    done
  fi
  for n in "${nodes[@]}"; do kill "$n" 2>/dev/null || true; done
  for n in "${nodes[@]}"; do wait "$n" 2>/dev/null || true; done
  rm -rf "$work"
  exit $result
}
trap stop_nodes EXIT
count=1
[ $cluster -eq 1 ] && count=3
ports=() peers=()
for i in $(seq 1 $count); do ports+=("$(free_port)"); peers+=("$(free_port)"); done
for i in $(seq 0 $((count - 1))); do
  cluster_arguments=()
  if [ $cluster -eq 1 ]; then
    seeds=""
    for j in $(seq 0 $((count - 1))); do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:${peers[$j]}"; done
    cluster_arguments=(--rack "rack$i" --n 3 --r 2 --w 2 --seeds "${seeds#,}" --cluster-name redis-suite)
  fi
  # max-value-size above the default 32 MiB: a hyperloglog test stores a 33 MB corrupt sketch (README there).
  dotnet "$dll" start --node-id "suite$((i + 1))" "${engine[@]}" "${cluster_arguments[@]}" --listen "127.0.0.1:${ports[$i]}" \
    --max-value-size 50331648 --http 127.0.0.1:0 --peer-listen "127.0.0.1:${peers[$i]}" --data-dir "$work/data$i" >"$work/node$i.log" 2>&1 &
  nodes+=($!)
done
port=${ports[0]}
# Ready when (on a cluster) every node has a ring and sees every peer up, as the integration tests wait: a node with a
# ring alone may still find its peers down and answer NOQUORUM. At most 60 s.
node_ready() {
  local i=$1
  if [ $cluster -eq 0 ]; then
    redis-cli -p "${ports[$i]}" ping 2>/dev/null | grep -q PONG
    return
  fi
  local info
  info="$(redis-cli -p "${ports[$i]}" info cluster 2>/dev/null)" || return 1
  grep -q "cluster_state:ok" <<<"$info" || return 1
  for j in $(seq 0 $((count - 1))); do
    [ "$j" = "$i" ] && continue
    grep -q "peer_suite$((j + 1)):health=up" <<<"$info" || return 1
  done
}
ready=0
for _ in $(seq 1 300); do
  ready=1
  for i in $(seq 0 $((count - 1))); do
    node_ready "$i" || { ready=0; break; }
  done
  [ $ready -eq 1 ] && break
  kill -0 "${nodes[0]}" 2>/dev/null || { echo "the node did not start:" >&2; cat "$work/node0.log" >&2; exit 1; }
  sleep 0.2
done
if [ $ready -ne 1 ]; then
  echo "the node(s) did not become ready in 60 s:" >&2
  for i in $(seq 0 $((count - 1))); do redis-cli -p "${ports[$i]}" info cluster >&2 || true; tail -20 "$work/node$i.log" >&2; done
  exit 1
fi
where="a standalone node"
[ $cluster -eq 1 ] && where="node 1 of a 3-node cluster"

# On a cluster, the tests tests/redis-suite/skip-cluster.txt names are set aside too (reasons in the README there).
skipfile="$work/skip.txt"
cat "$root/tests/redis-suite/skip.txt" >"$skipfile"
[ $cluster -eq 1 ] && cat "$root/tests/redis-suite/skip-cluster.txt" >>"$skipfile"

status=0
for unit in "${units[@]}"; do
  log="$work/$(echo "$unit" | tr / -).log"
  (cd "$src" && timeout 1200 ./runtest --host 127.0.0.1 --port "$port" --singledb --ignore-encoding --ignore-digest \
    --tags -needs:repl --tags -needs:debug --tags -needs:pfdebug \
    --tags -needs:config-resetstat --tags -needs:save \
    --skipfile "$skipfile" --single "unit/$unit" --clients 1) 2>&1 \
    | sed 's/\x1b\[[0-9;]*m//g' >"$log" || true
  ok=$(grep -c '^\[ok\]' "$log" || true)
  err=$(grep -c '^\[err\]' "$log" || true)
  exc=$(grep -c '^\[exception\]' "$log" || true)
  aside=$(grep -c '^\[skip\]' "$log" || true)
  skipped=$(grep -c '^\[ignore\]' "$log" || true)
  share=$(awk -v ok="$ok" -v err="$err" -v aside="$aside" 'BEGIN { t = ok + err + aside; printf "%.1f", t ? 100 * ok / t : 0 }')
  echo "redis suite unit/$unit on $where: $ok passed, $err failed, $exc aborted, $aside set aside (skip files), $skipped skipped by the suite's tags: $share% of the applicable tests pass"
  if [ "$err" -gt 0 ] || [ "$exc" -gt 0 ] || [ "$ok" -eq 0 ]; then
    status=1
    # A unit that ran nothing has no such lines: grep's "no match" must not stop the remaining units (pipefail).
    grep -A3 '^\[err\]\|^\[exception\]' "$log" | head -40 || true
  fi
done
exit $status
