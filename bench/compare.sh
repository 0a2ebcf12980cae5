#!/usr/bin/env bash
# Side-by-side benchmark, one command from a fresh clone (not part of CI). Starts the setups below and measures each
# with redis-benchmark and with `dynamite bench`, interleaved (test by test: A B C D E, A B C D E, ...), REPEAT
# times, and prints one markdown table of medians (also written to bench/results/compare-<date>.md):
#   redis-server               plain redis-server 7 (no persistence): the reference every ratio is taken to
#   dynamite ENGINE            one standalone node per engine of SINGLE_ENGINES (default memory,rocksdb), --fsync batch (the default)
#   Garnet 1 node              Microsoft Garnet, no persistence (anchor)
#   3 nodes R=W=2 ENGINE       three nodes on loopback, N=3, R=W=2, one cluster per engine of CLUSTER_ENGINE
#   3 nodes R=W=1 ENGINE       the same at R=W=1, first engine of CLUSTER_ENGINE only
#   Netflix DC_QUORUM          Netflix Dynomite, 3 racks of one node, each in front of its own redis-server (anchor)
#   Netflix DC_ONE             the same at DC_ONE (only when SETUPS names it)
#   Garnet 1+2 replicas        a Garnet cluster: one primary with every slot, two replicas (AOF in memory) (anchor)
# The anchors are started through anchors.sh (ANCHORS_SH) from the binaries `anchors.sh build` installed under
# ANCHORS_ROOT; when they are missing, the script runs `anchors.sh build` once (ANCHORS=0: skips the anchors instead).
# While one setup is warmed up, populated or measured, every other setup's server processes are stopped with
# SIGSTOP and resumed with SIGCONT afterwards (FREEZE=0: not), so idle setups (failure detectors, gossip, Garnet's
# and Dynomite's background threads) take no CPU from it; a resumed cluster is measured only once it answers and,
# for a dynamite cluster, every node sees its peers up again.
# Tests: SET and GET of 100-byte values over 100,000 random keys with 50 connections, unpipelined and with
# pipeline 16; GET of 139,000-byte values over 1,000 keys (populated just before); and with one connection, GET
# p50 (redis-server, the R=W=2 clusters and Netflix DC_QUORUM only). redis-benchmark talks to one node (rack 1 of
# Dynomite, the primary of Garnet's cluster); `dynamite bench` spreads its connections over every node of a
# dynamite or Dynomite cluster (Garnet's: the primary only). Every row: requests/s (median, min–max), p50/p99 ms,
# server CPU-seconds per 100k requests (utime+stime from /proc/PID/stat of every server process of the setup,
# Dynomite's redis-servers included, before and after the run), and ratios to redis-server's same test. The load
# generator shares the machine's cores with the servers (PERFORMANCE.md): the CPU figure is the fairer one.
#
# Usage: bench/compare.sh [REPEAT] [REQUESTS]      (or REPEAT=3 REQUESTS=200000 bench/compare.sh)
#   REQUESTS       requests of a 100-byte unpipelined run (default 200000); pipelined runs do 5x, 139 KB and
#                  one-connection runs 1/10
#   SINGLE_ENGINES engines of the one-node setups, comma-separated (default memory,rocksdb; also sqlite, lmdb, or any
#                  engine `dynamite start --help` lists; others are skipped with a note)
#   CLUSTER_ENGINE engines of the 3-node R=W=2 setups, comma-separated (default memory,rocksdb; e.g. sqlite,lmdb)
#   ANCHORS        0: no Netflix Dynomite or Garnet setups (default 1: build them when missing, then run them)
#   ANCHORS_SH     anchors.sh (default ../shared/anchors/anchors.sh beside the repository)
#   ANCHORS_ROOT   where `anchors.sh build` installs Dynomite and Garnet (default /tmp/anchors); the servers run
#                  under a private root in the script's temporary directory
#   FREEZE         0: do not SIGSTOP the setups not under test (default 1)
#   BASE_PORT      first port used (default 16300; the script uses BASE_PORT..BASE_PORT+599)
#   OUT            result file (default bench/results/compare-<date>.md)
#   SETUPS         only these setups, comma-separated (e.g. "redis-server,3 nodes R=W=2 memory"; "3 nodes R=W=2"
#                  keeps every R=W=2 cluster); redis-server is always kept, since every ratio is taken to it
#   TESTS          only tests whose name matches this extended regex (e.g. "^(SET|GET) c50$")
#   WARMUP_REQUESTS SET and GET requests sent to every node before measuring, unrecorded (default 30000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
repeat="${1:-${REPEAT:-3}}"
requests="${2:-${REQUESTS:-200000}}"
single_engines="${SINGLE_ENGINES:-memory,rocksdb}"
cluster_engines="${CLUSTER_ENGINE:-memory,rocksdb}"
anchors_wanted="${ANCHORS:-1}"
anchors_sh="${ANCHORS_SH:-$root/../shared/anchors/anchors.sh}"
anchors_home="${ANCHORS_ROOT:-/tmp/anchors}"
freeze="${FREEZE:-1}"
base="${BASE_PORT:-16300}"
pipelined_requests=$((requests * 5))
small_requests=$((requests / 10 > 1000 ? requests / 10 : 1000))
stamp="$(date +%Y%m%d-%H%M%S)"
out="${OUT:-$root/bench/results/compare-$stamp.md}"
tick=$(getconf CLK_TCK)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
run_timeout=900

for tool in redis-server redis-benchmark redis-cli python3 dotnet; do
  command -v "$tool" >/dev/null 2>&1 || { echo "compare.sh needs $tool (apt-get install redis-server redis-tools python3; the .NET 10 SDK)" >&2; exit 1; }
done
for port in $(seq "$base" $((base + 599))); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; set BASE_PORT" >&2; exit 1; fi
done 2>/dev/null

work="$(mktemp -d)"
anchors_run="$work/anchors"   # the anchors' private ANCHORS_ROOT: `anchors.sh stop` there stops only this run's
pids=()         # server processes this script started itself
anchor_pids=()  # server processes anchors.sh started for this script (also listed in $anchors_run/pids)
cleanup() {
  local p
  # Frozen processes are resumed first: a stopped process acts on TERM only once it runs again.
  for p in "${pids[@]}" "${anchor_pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
  if [ -s "$anchors_run/pids" ]; then
    ANCHORS_ROOT="$anchors_run" timeout 60 bash "$anchors_sh" stop >/dev/null 2>&1 ||
      for p in "${anchor_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Building dynamite (Release)..." >&2
dotnet build "$root/src/Dynamite.Cli" -c Release -nologo -v quiet >/dev/null
dll="$root/src/Dynamite.Cli/bin/Release/net10.0/dynamite.dll"

wait_port() { for _ in $(seq 1 300); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
cpu() {
  local total=0 p
  for p in "$@"; do [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14+$15}' "/proc/$p/stat"))); done
  echo "$total"
}
notes=()   # setups skipped and why: printed on stderr and under the table
note() { echo "$*" >&2; notes+=("$*"); }

# Every setup: its name, then (once started) its server PIDs, the port redis-benchmark uses, the targets dynamite
# bench uses. Engines are checked against the list `dynamite start --help` prints (--engine <a|b|c>).
known_engines=" $(dotnet "$dll" start --help 2>/dev/null | grep -o -- '--engine <[^>]*>' | sed 's/.*<\(.*\)>/\1/' | tr '|' ' ') "
IFS=, read -ra single_list <<<"${single_engines// /}"
IFS=, read -ra cluster_list <<<"${cluster_engines// /}"
all=(redis-server)
for e in "${single_list[@]}"; do
  if [[ "$known_engines" == *" $e "* ]]; then all+=("dynamite $e"); else note "SINGLE_ENGINES: dynamite start does not accept engine '$e' (it knows:$known_engines): skipped"; fi
done
all+=("Garnet 1 node")
cluster_engines_ok=()
for e in "${cluster_list[@]}"; do
  if [[ "$known_engines" == *" $e "* ]]; then cluster_engines_ok+=("$e"); all+=("3 nodes R=W=2 $e"); else note "CLUSTER_ENGINE: dynamite start does not accept engine '$e' (it knows:$known_engines): skipped"; fi
done
[ "${#cluster_engines_ok[@]}" -gt 0 ] && all+=("3 nodes R=W=1 ${cluster_engines_ok[0]}")
all+=("Netflix DC_QUORUM" "Netflix DC_ONE" "Garnet 1+2 replicas")
[ "${#single_list[@]}" -le 9 ] || { echo "at most 9 SINGLE_ENGINES" >&2; exit 1; }
[ "${#cluster_engines_ok[@]}" -le 9 ] || { echo "at most 9 CLUSTER_ENGINE engines" >&2; exit 1; }

# SETUPS names setups exactly, or a cluster setup without its engine ("3 nodes R=W=2": every engine's).
wanted() {
  [[ ",$SETUPS," == *",$1,"* ]] && return 0
  case "$1" in "3 nodes "*) [[ ",$SETUPS," == *",${1% *},"* ]] ;; *) return 1 ;; esac
}
setups=(redis-server)
for s in "${all[@]:1}"; do
  if [ -n "${SETUPS:-}" ]; then wanted "$s" || continue; elif [ "$s" = "Netflix DC_ONE" ]; then continue; fi
  setups+=("$s")
done
chosen() { local s; for s in "${setups[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
drop() { local s kept=(); for s in "${setups[@]}"; do [ "$s" = "$1" ] || kept+=("$s"); done; setups=("${kept[@]}"); }
is_anchor() { case "$1" in Netflix*|Garnet*) return 0 ;; *) return 1 ;; esac; }
declare -A setup_pids setup_port setup_targets frozen

# The anchors: built once when missing (unless ANCHORS=0), run from a private ANCHORS_ROOT that links the binaries.
anchor_setups=()
for s in "${setups[@]}"; do is_anchor "$s" && anchor_setups+=("$s"); done
if [ "${#anchor_setups[@]}" -gt 0 ]; then
  dyn_bin="$anchors_home/dynomite/bin/dynomite" garnet_bin="$anchors_home/garnet/garnet-server" why=""
  if [ "$anchors_wanted" = 0 ]; then
    why="ANCHORS=0"
  elif [ ! -f "$anchors_sh" ]; then
    why="no anchors.sh at $anchors_sh (set ANCHORS_SH)"
  elif [ ! -x "$dyn_bin" ] || [ ! -x "$garnet_bin" ]; then
    echo "Building the anchors once (anchors.sh build into $anchors_home; several minutes)..." >&2
    if ! ANCHORS_ROOT="$anchors_home" timeout 3600 bash "$anchors_sh" build >"$work/anchors-build.log" 2>&1; then
      tail -n 20 "$work/anchors-build.log" >&2
      why="anchors.sh build failed"
    fi
  fi
  if [ -z "$why" ] && [ ! -x "$dyn_bin" ]; then for s in "${anchor_setups[@]}"; do [[ "$s" == Netflix* ]] && { note "$s skipped: no $dyn_bin"; drop "$s"; }; done; fi
  if [ -z "$why" ] && [ ! -x "$garnet_bin" ]; then for s in "${anchor_setups[@]}"; do [[ "$s" == Garnet* ]] && { note "$s skipped: no $garnet_bin"; drop "$s"; }; done; fi
  if [ -n "$why" ]; then
    for s in "${anchor_setups[@]}"; do note "$s skipped: $why"; drop "$s"; done
  else
    mkdir -p "$anchors_run/dynomite"
    ln -s "$anchors_home/dynomite/bin" "$anchors_run/dynomite/bin"
    ln -s "$anchors_home/garnet" "$anchors_run/garnet"
  fi
fi

redis-server --port "$base" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!); setup_pids[redis-server]=$!; setup_port[redis-server]=$base; setup_targets[redis-server]="127.0.0.1:$base"

# single NAME PORT ENGINE: one standalone node on PORT (RESP) and PORT+1 (admin).
single() {
  local name=$1 port=$2 engine=$3
  dotnet "$dll" start --node-id n1 --engine "$engine" --fsync batch --listen "127.0.0.1:$port" --http "127.0.0.1:$((port + 1))" \
    --data-dir "$work/$port" >"$work/$port.log" 2>&1 &
  pids+=($!); setup_pids[$name]=$!; setup_port[$name]=$port; setup_targets[$name]="127.0.0.1:$port"
}
i=0
for e in "${single_list[@]}"; do
  i=$((i + 1))
  if chosen "dynamite $e"; then single "dynamite $e" $((base + 10 * i)) "$e"; fi
done

# cluster NAME BASE R W ENGINE: three nodes on BASE+10i+1 (peers), +2 (RESP), +3 (admin), each seeded with the others.
cluster() {
  local name=$1 cbase=$2 r=$3 w=$4 engine=$5 list="" targets=""
  for i in 1 2 3; do
    local seeds=""
    for j in 1 2 3; do [ "$j" != "$i" ] && seeds="$seeds,127.0.0.1:$((cbase + 10 * j + 1))"; done
    dotnet "$dll" start --node-id "n$i" --engine "$engine" --fsync batch --rack "rack$i" --n 3 --r "$r" --w "$w" \
      --listen "127.0.0.1:$((cbase + 10 * i + 2))" --peer-listen "127.0.0.1:$((cbase + 10 * i + 1))" \
      --http "127.0.0.1:$((cbase + 10 * i + 3))" --seeds "${seeds#,}" --cluster-name "bench$cbase" \
      --data-dir "$work/$cbase/n$i" >"$work/$cbase-n$i.log" 2>&1 &
    pids+=($!); list="$list $!"; targets="$targets,127.0.0.1:$((cbase + 10 * i + 2))"
  done
  setup_pids[$name]="${list# }"; setup_port[$name]=$((cbase + 12)); setup_targets[$name]="${targets#,}"
}
# Clusters at BASE+100, +140, ... (each uses its base +11..+33).
cbase=$((base + 100))
for e in "${cluster_engines_ok[@]}"; do
  if chosen "3 nodes R=W=2 $e"; then cluster "3 nodes R=W=2 $e" "$cbase" 2 2 "$e"; fi
  cbase=$((cbase + 40))
done
if [ "${#cluster_engines_ok[@]}" -gt 0 ] && chosen "3 nodes R=W=1 ${cluster_engines_ok[0]}"; then
  cluster "3 nodes R=W=1 ${cluster_engines_ok[0]}" "$cbase" 1 1 "${cluster_engines_ok[0]}"
fi

# anchor NAME PORT TARGETS VERB ARGS...: anchors.sh VERB ARGS (it waits until the setup answers); the setup's PIDs
# are the lines it added to $anchors_run/pids (Dynomite's redis-servers included). A setup that does not start is
# stopped again and skipped with a note.
anchor() {
  local name=$1 port=$2 targets=$3; shift 3
  local before=0 list="" p
  [ -f "$anchors_run/pids" ] && before=$(wc -l <"$anchors_run/pids")
  echo "starting $name (anchors.sh $*)" >&2
  local ok=1
  ANCHORS_ROOT="$anchors_run" timeout 300 bash "$anchors_sh" "$@" >"$work/anchor-$port.log" 2>&1 || ok=""
  if [ -f "$anchors_run/pids" ]; then
    for p in $(tail -n +$((before + 1)) "$anchors_run/pids" | awk '{print $1}'); do list="$list $p"; anchor_pids+=("$p"); done
  fi
  if [ -z "$ok" ]; then
    note "$name skipped: anchors.sh $* failed: $(grep -m1 ERROR "$work/anchor-$port.log" || tail -n 1 "$work/anchor-$port.log")"
    # shellcheck disable=SC2086
    for p in $list; do kill -9 "$p" 2>/dev/null || true; done
    drop "$name"
    return 0
  fi
  setup_pids[$name]="${list# }"; setup_port[$name]=$port; setup_targets[$name]=$targets
}
# Anchors at BASE+500.. (Dynomite uses its base +0..+32, Garnet's cluster +0..+2).
if chosen "Garnet 1 node"; then anchor "Garnet 1 node" $((base + 580)) "127.0.0.1:$((base + 580))" start-garnet $((base + 580)); fi
for mode in quorum:500 one:540; do
  b=$((base + ${mode#*:})) name="Netflix DC_$(echo "${mode%:*}" | tr '[:lower:]' '[:upper:]')"
  if chosen "$name"; then
    anchor "$name" "$b" "127.0.0.1:$b,127.0.0.1:$((b + 1)),127.0.0.1:$((b + 2))" start-netflix-3 "${mode%:*}" "$b"
  fi
done
if chosen "Garnet 1+2 replicas"; then
  GARNET_CLUSTER_LAYOUT=replicas anchor "Garnet 1+2 replicas" $((base + 590)) "127.0.0.1:$((base + 590))" start-garnet-cluster $((base + 590))
fi

# ready SETUP: every target answers PING and, for a cluster, the cluster is whole again: each dynamite node says
# cluster_state:ok and sees both peers up (its failure detector runs every 500 ms), Garnet's primary has both replicas
# online, a Dynomite write through rack 1 reads back through racks 2 and 3. Bounded (about 30 s); 1 if not ready.
ready() {
  local s=$1 t port ok=""
  IFS=, read -ra ts <<<"${setup_targets[$s]}"
  for t in "${ts[@]}"; do wait_port "${t##*:}"; done
  case "$s" in
    "3 nodes "*)
      for _ in $(seq 1 300); do
        ok=1
        for t in "${ts[@]}"; do
          info=$(redis-cli -p "${t##*:}" info cluster 2>/dev/null) || { ok=""; break; }
          grep -q "cluster_state:ok" <<<"$info" && [ "$(grep -c 'health=up' <<<"$info")" = 2 ] || { ok=""; break; }
        done
        [ -n "$ok" ] && break
        sleep 0.1
      done ;;
    "Garnet 1+2 replicas")
      port=${setup_port[$s]}
      for _ in $(seq 1 300); do
        redis-cli -p "$port" cluster info 2>/dev/null | grep -q "cluster_state:ok" &&
          [ "$(redis-cli -p "$port" info replication 2>/dev/null | grep -c 'state=online')" = 2 ] && { ok=1; break; }
        sleep 0.1
      done ;;
    Netflix*)
      port=${setup_port[$s]}
      for _ in $(seq 1 150); do
        [ "$(redis-cli -p "$port" set compare:ready "$s" 2>/dev/null)" = OK ] &&
          [ "$(redis-cli -p $((port + 1)) get compare:ready 2>/dev/null)" = "$s" ] &&
          [ "$(redis-cli -p $((port + 2)) get compare:ready 2>/dev/null)" = "$s" ] && { ok=1; break; }
        sleep 0.2
      done ;;
    *) ok=1 ;;
  esac
  [ -n "$ok" ]
}

# activate SETUP: SIGSTOP every other setup's server processes (only PIDs this script started), SIGCONT this one's,
# and after a resume wait until it is ready again. Never freezes part of the setup under test.
active=""
activate() {
  local s=$1 o p
  [ "$active" = "$s" ] && return 0
  if [ "$freeze" = 1 ]; then
    for o in "${setups[@]}"; do
      [ "$o" = "$s" ] || [ "${frozen[$o]:-0}" = 1 ] && continue
      # shellcheck disable=SC2086
      for p in ${setup_pids[$o]}; do kill -STOP "$p" 2>/dev/null || true; done
      frozen[$o]=1
    done
  fi
  active=$s
  if [ "${frozen[$s]:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    for p in ${setup_pids[$s]}; do kill -CONT "$p" 2>/dev/null || true; done
    frozen[$s]=0
    case "$s" in "3 nodes "*) sleep 1 ;; esac   # let the failure detectors run on fresh pings before asking them
    ready "$s" || echo "warning: $s not whole again 30 s after SIGCONT; measuring anyway" >&2
  fi
}

for s in "${setups[@]}"; do
  ready "$s" || { echo "$s did not become ready" >&2; exit 1; }
done
# Warm-up, not recorded, each setup alone (the others frozen): the first requests of a .NET node run while the JIT
# compiles and re-compiles the request path (a profile of a 10 s run showed 15% of a cluster node's CPU in the
# JIT), which measures the JIT instead of the node. Every node of every setup coordinates some SETs and GETs first
# (each is a replica of the others' writes); then 2 s for the background recompilation before it is frozen.
for s in "${setups[@]}"; do
  activate "$s"
  IFS=, read -ra ts <<<"${setup_targets[$s]}"
  for t in "${ts[@]}"; do
    timeout 120 redis-benchmark -p "${t##*:}" -t set,get -n "${WARMUP_REQUESTS:-30000}" -r 100000 -d 100 -c 50 -q >/dev/null 2>&1 || true
  done
  sleep 2
done

results="$work/results.tsv"
: >"$results"
# record SETUP TOOL TEST RPS P50 P99 CPU_TICKS REQUESTS ERRORS
record() {
  local cpu100k
  cpu100k=$(awk -v t="$7" -v k="$tick" -v n="$8" 'BEGIN{printf "%.3f", t/k/n*100000}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$cpu100k" "$9" >>"$results"
}

# rb SETUP TEST NAME N ARGS...: one redis-benchmark run (CSV: "test","rps","avg","min","p50","p95","p99","max").
rb() {
  local setup=$1 test=$2 name=$3 n=$4; shift 4
  local before after line
  # shellcheck disable=SC2086
  before=$(cpu ${setup_pids[$setup]})
  line=$(timeout "$run_timeout" redis-benchmark -p "${setup_port[$setup]}" -t "$test" -n "$n" "$@" -q --csv 2>"$work/rb.err" | grep -v '^"test"' | tail -1) || true
  # shellcheck disable=SC2086
  after=$(cpu ${setup_pids[$setup]})
  if [ -z "$line" ]; then
    echo "redis-benchmark $name failed on $setup: $(tail -c 300 "$work/rb.err")" >&2
    record "$setup" redis-benchmark "$name" 0 0 0 0 "$n" "$n"
    return
  fi
  local rps p50 p99
  rps=$(echo "$line" | cut -d, -f2 | tr -d '"'); p50=$(echo "$line" | cut -d, -f5 | tr -d '"'); p99=$(echo "$line" | cut -d, -f7 | tr -d '"')
  local errors=0
  grep -qi error "$work/rb.err" && errors=$(grep -ci error "$work/rb.err")
  record "$setup" redis-benchmark "$name" "$rps" "$p50" "$p99" $((after - before)) "$n" "$errors"
}

# db SETUP NAME N ARGS...: one `dynamite bench` run, JSON read with python3.
db() {
  local setup=$1 name=$2 n=$3; shift 3
  local before after json
  # shellcheck disable=SC2086
  before=$(cpu ${setup_pids[$setup]})
  json=$(timeout "$run_timeout" dotnet "$dll" bench --targets "${setup_targets[$setup]}" --requests "$n" --duration 600 --json "$@" 2>"$work/db.err") || true
  # shellcheck disable=SC2086
  after=$(cpu ${setup_pids[$setup]})
  local fields
  if ! fields=$(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requestsPerSecond"], d["p50Ms"], d["p99Ms"], d["requests"], d["errors"])' 2>/dev/null); then
    echo "dynamite bench $name failed on $setup: $(tail -c 300 "$work/db.err")" >&2
    record "$setup" "dynamite bench" "$name" 0 0 0 0 "$n" "$n"
    return
  fi
  read -r rps p50 p99 done errors <<<"$fields"
  [ "$errors" != 0 ] && echo "dynamite bench $name on $setup: $errors errors ($(echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["firstError"] or d["connectionFailure"])'))" >&2
  record "$setup" "dynamite bench" "$name" "$rps" "$p50" "$p99" $((after - before)) "$done" "$errors"
}

# 1,000 keys of 139,000 bytes (key:000000000000..999, the names redis-benchmark -r 1000 uses), not measured.
populate_big() {
  timeout "$run_timeout" dotnet "$dll" bench --targets "${setup_targets[$1]}" --populate --keyspace 1000 --value-size 139000 \
    --test get --requests 1 --connections 10 --json >/dev/null 2>"$work/populate.err" || { echo "populating $1 failed: $(cat "$work/populate.err")" >&2; }
}

small=(-r 100000 -d 100 -c 50)
tests=(
  "rb|set|SET c50|$requests|${small[*]}"
  "rb|get|GET c50|$requests|${small[*]}"
  "rb|set|SET c50 P16|$pipelined_requests|${small[*]} -P 16"
  "rb|get|GET c50 P16|$pipelined_requests|${small[*]} -P 16"
  "rb|get|GET c1|$small_requests|-r 100000 -d 100 -c 1"
  "db|set|SET c50|$requests|--keyspace 100000 --value-size 100 --connections 50"
  "db|get|GET c50|$requests|--keyspace 100000 --value-size 100 --connections 50"
  "db|set|SET c50 P16|$pipelined_requests|--keyspace 100000 --value-size 100 --connections 50 --pipeline 16"
  "db|get|GET c50 P16|$pipelined_requests|--keyspace 100000 --value-size 100 --connections 50 --pipeline 16"
  # Last in a round: they leave keys 0..999 holding 139 KB values (the next round's SETs overwrite most).
  "rb|get|GET 139KB c50|$small_requests|-r 1000 -d 139000 -c 50"
  "db|get|GET 139KB c50|$small_requests|--keyspace 1000 --value-size 139000 --connections 50"
)

anchor_versions=""
for s in "${setups[@]}"; do
  case "$s" in
    Netflix*) [[ "$anchor_versions" == *Dynomite* ]] ||
      anchor_versions="$anchor_versions; Netflix Dynomite $(head -c 7 "$anchors_home/dynomite/COMMIT" 2>/dev/null || echo "?") (3 racks of one node, each with its own redis-server, which CPU includes; redis-benchmark to rack 1, dynamite bench to all three)" ;;
    Garnet*) [[ "$anchor_versions" == *Garnet* ]] ||
      anchor_versions="$anchor_versions; Garnet $("$anchors_home/garnet/garnet-server" --version 2>/dev/null | head -n 1 | awk '{print $2}' | cut -d+ -f1 || echo "?") (no persistence; the cluster: one primary with every slot and two replicas fed by an in-memory AOF, measured on the primary)" ;;
  esac
done
anchor_versions="${anchor_versions#; }"

started=$(date +%s)
for round in $(seq 1 "$repeat"); do
  for spec in "${tests[@]}"; do
    IFS='|' read -r tool test name n args <<<"$spec"
    if [ -n "${TESTS:-}" ] && ! [[ "$name" =~ $TESTS ]]; then continue; fi
    for setup in "${setups[@]}"; do
      if [ "$name" = "GET c1" ]; then
        case "$setup" in redis-server | "3 nodes R=W=2 "* | "Netflix DC_QUORUM") ;; *) continue ;; esac
      fi
      echo "round $round/$repeat: $tool $name on $setup ($(($(date +%s) - started)) s)" >&2
      activate "$setup"
      case "$name" in *139KB*) populate_big "$setup" ;; esac
      # shellcheck disable=SC2086
      if [ "$tool" = rb ]; then rb "$setup" "$test" "$name" "$n" $args; else db "$setup" "$name" "$n" --test "$test" $args; fi
    done
  done
done

# One markdown table of medians, in test order then setup order, with ratios to redis-server's medians.
{
  echo "## bench/compare.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average at start: $load_before;" \
    "$(redis-server --version | cut -d' ' -f3); medians of $repeat interleaved runs (min–max of req/s in brackets)."
  echo "100 B runs: $requests requests (pipelined: $pipelined_requests), keyspace 100000; 139 KB and c1 runs: $small_requests requests," \
    "139 KB keyspace 1000 populated before each run. Dynamite clusters: 3 nodes, N=3, engine as named; redis-benchmark" \
    "talks to node 1, dynamite bench spreads its connections over all three. CPU = server CPU-seconds per 100k requests" \
    "(every server process of the setup). Ratios: req/s, p50 and CPU divided by redis-server's (same tool, same test, same run)."
  if [ -n "$anchor_versions" ]; then
    echo "Anchors: $anchor_versions."
  fi
  if [ "$freeze" = 1 ]; then
    echo "While a setup was warmed up, populated or measured, every other setup's servers were stopped (SIGSTOP)."
  else
    echo "FREEZE=0: setups not under test kept running."
  fi
  for n in "${notes[@]}"; do echo "Note: $n"; done
  echo
  python3 - "$results" "${setups[@]}" <<'PY'
import sys, statistics
path, setups = sys.argv[1], sys.argv[2:]
rows = {}
order = []
for line in open(path):
    setup, tool, test, rps, p50, p99, cpu, errors = line.rstrip("\n").split("\t")
    key = (tool, test)
    if key not in order:
        order.append(key)
    r = rows.setdefault((tool, test, setup), {"rps": [], "p50": [], "p99": [], "cpu": [], "err": 0})
    r["rps"].append(float(rps)); r["p50"].append(float(p50)); r["p99"].append(float(p99)); r["cpu"].append(float(cpu))
    r["err"] += int(errors)
med = statistics.median
def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"
print("| tool | test | setup | req/s | p50 ms | p99 ms | CPU-s/100k | req/s vs redis | p50 vs redis | CPU vs redis | errors |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for tool, test in order:
    base = rows.get((tool, test, "redis-server"))
    for setup in setups:
        r = rows.get((tool, test, setup))
        if r is None:
            continue
        rps, p50, p99, cpu = med(r["rps"]), med(r["p50"]), med(r["p99"]), med(r["cpu"])
        spread = f" ({min(r['rps']) / 1000:.1f}k–{max(r['rps']) / 1000:.1f}k)" if len(r["rps"]) > 1 else ""
        cells = [tool, test, setup, f"{rps / 1000:.1f}k{spread}", f"{p50:.3f}", f"{p99:.3f}", f"{cpu:.2f}"]
        if base:
            cells += [ratio(rps, med(base["rps"])), ratio(p50, med(base["p50"])), ratio(cpu, med(base["cpu"]))]
        else:
            cells += ["-", "-", "-"]
        cells.append(str(r["err"]))
        print("| " + " | ".join(cells) + " |")
PY
  echo
  echo "Total time: $(($(date +%s) - started)) s."
} >"$work/table.md"

mkdir -p "$(dirname "$out")"
cp "$work/table.md" "$out"
cat "$work/table.md"
echo "Written to $out" >&2
