#!/usr/bin/env bash
# Runs the browser tests N times in a row (default 10) with a CPU burner on every core, the way a fresh clone's
# ./test.sh loads the machine while other test assemblies run beside them. Stops at the first failing run and
# prints what the Server logged. Usage: scripts/browser-under-load.sh [runs] [test filter]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
filter=${2:-FullyQualifiedName~BrowserTests}
burners=()
cleanup() { for p in "${burners[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq "$(nproc)"); do (while :; do :; done) & burners+=($!); done
dotnet build tests/ScalingLedger.Server.Tests -nologo -v q -clp:ErrorsOnly
passed=0
for i in $(seq "$runs"); do
  if dotnet test tests/ScalingLedger.Server.Tests --no-build -nologo --filter "$filter" >"/tmp/browser-under-load.$i.log" 2>&1; then
    passed=$((passed + 1)); echo "run $i: passed ($(grep -Eo 'Passed: +[0-9]+' "/tmp/browser-under-load.$i.log" | tail -1))"
  else
    echo "run $i: FAILED (log: /tmp/browser-under-load.$i.log)"; grep -E 'Failed |Error Message|circuit' "/tmp/browser-under-load.$i.log" | head -40
    echo "browser-under-load: $passed of $i runs passed"; exit 1
  fi
done
echo "browser-under-load: $passed of $runs runs passed with $(nproc) burners"
