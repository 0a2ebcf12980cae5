#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing (redis-server, redis-tools with
# redis-cli and redis-benchmark, python3-redis, iptables, prometheus with promtool, liblmdb0, nodejs with npm and the
# Node clients of tests/Dynamite.IntegrationTests/Node), builds everything
# in Release and runs every test, then the units of Redis's own test suite that pass (scripts/redis-suite.sh, which
# fetches that suite with apt-get source).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1; } || missing+=(redis-tools)
# The network-namespace fault tests add iptables rules inside namespaces of their own.
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || missing+=(python3-redis)
# The metrics tests check /metrics with promtool and scrape a node with a real Prometheus server.
{ command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; } || missing+=(prometheus)
# The lmdb engine calls the system's LMDB 0.9 (liblmdb.so.0); the library the LightningDB package ships needs a
# newer glibc than Debian 12's.
grep -q 'liblmdb\.so\.0 ' <<<"$(/sbin/ldconfig -p 2>/dev/null || true)" || missing+=(liblmdb0)
# Node.js clients (ioredis) run unchanged against a cluster; npm installs them from the lock file below.
{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing test dependencies: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

(cd "$root/tests/Dynamite.IntegrationTests/Node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
dotnet build Dynamite.sln -c Release -nologo -v quiet
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test Dynamite.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log" || status=$?
# One closing line over every test project, in the plain form CI reads.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "$passed passed, $failed failed, $skipped skipped"
# Redis's own test suite, the units that pass, against a standalone node (tests/redis-suite/README.md).
bash "$root/scripts/redis-suite.sh" || status=1
bash "$root/scripts/redis-suite.sh" --cluster || status=1
# The sorted-set and list units on a cluster of their own: after the other units the 2-core machine's three nodes
# fell behind in them (a peer's heartbeats late enough for the failure detector, FLUSHALL refused).
bash "$root/scripts/redis-suite.sh" --cluster type/zset type/list || status=1
exit "$status"
