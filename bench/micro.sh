#!/usr/bin/env bash
# Micro-benchmarks of the hot paths (BenchmarkDotNet, short in-process job) and the allocation budget:
# runs every benchmark, prints benchmark / ns/op / allocated bytes per op / budget / OK|OVER, and exits
# non-zero when any benchmark allocates over bench/allocation-budgets.json or is missing from it.
# Usage: bench/micro.sh                 run and check (a few minutes on 2 cores)
#        bench/micro.sh --check-only    re-check the last run's results
#        bench/micro.sh --update-budgets  run and rewrite the budget (only for an intended allocation change)
# Not part of CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$root/bench/Dynamite.Benchmarks" -c Release -nologo -v quiet >/dev/null
exec dotnet "$root/bench/Dynamite.Benchmarks/bin/Release/net10.0/Dynamite.Benchmarks.dll" "${@:---check}"
