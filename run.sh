#!/usr/bin/env bash
# Starts ScalingLedger at http://127.0.0.1:5080 with its own PostgreSQL and an in-process trainer,
# and submits examples/quick-demo.json when the ledger holds no study yet. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/setup.sh

URL=${LEDGER_URL:-http://127.0.0.1:5080}
ensure_packages "talking to the ledger's API" curl
ensure_base

if curl -fsS "$URL/health" >/dev/null 2>&1; then
  die "something already answers at $URL: a ledger is running there (stop it first, or set LEDGER_URL)"
fi

say "Building the Server (Release)"
dotnet build src/Server/ScalingLedger.Server.csproj -c Release -nologo -v q -clp:ErrorsOnly || die "the build failed"

say "Starting the ledger at $URL"
dotnet src/Server/bin/Release/net10.0/ScalingLedger.Server.dll --urls "$URL" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; exit 130' INT TERM

for _ in $(seq 1 120); do
  curl -fsS "$URL/health" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || die "the Server exited during start-up (see the log above)"
  sleep 1
done
curl -fsS "$URL/health" >/dev/null 2>&1 || die "the Server did not answer $URL/health within 120 s"

if [ "$(curl -fsS "$URL/api/studies")" = "[]" ]; then
  say "The ledger is empty: submitting examples/quick-demo.json"
  curl -fsS -X POST "$URL/api/studies" -H 'Content-Type: application/json' \
    --data @examples/quick-demo.json && echo
fi
say "ScalingLedger is running: open $URL/studies  (Ctrl-C to stop)"
wait $server
