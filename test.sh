#!/usr/bin/env bash
# Installs what the tests need (PostgreSQL, Fashion-MNIST, Chromium, build tools) and runs every test:
# domain unit tests, trainer tests on real Fashion-MNIST, Server integration tests on a real PostgreSQL,
# and browser tests in real Chromium.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/setup.sh

ensure_base
ensure_packages "the browser tests (Playwright drives Debian's Chromium)" chromium
ensure_packages "checking docker-compose.yml" docker-compose
ensure_packages "the test that no connection leaves the machine (it traces the Server)" strace
ensure_packages "the team fault tests (RabbitMQ between Servers and trainers, scripts/team.sh)" rabbitmq-server openssl curl

say "Checking docker-compose.yml"
# Its secrets come from .env (scripts/compose-secrets.sh); placeholders stand in for them here.
compose_check() { LEDGER_PG_PASSWORD=x LEDGER_RABBIT_PASSWORD=x LEDGER_ADMIN_TOKEN=x LEDGER_SIGNING_KEY=x "$@" -f docker-compose.yml config -q; }
if docker compose version >/dev/null 2>&1; then compose_check docker compose
else compose_check docker-compose; fi
grep -q 'guest' docker-compose.yml && die "docker-compose.yml holds a default credential (guest): secrets come from .env"

say "Building"
dotnet build ScalingLedger.sln -nologo -v q -clp:ErrorsOnly || die "the build failed"

say "Checking the team's Server builds without the embedded trainer (src/Server/Dockerfile): no TorchSharp, and says so if asked to train"
team_server=$(mktemp -d)
# Its own artifacts folder: the checkout's Release build (./run.sh, the benchmarks) keeps its trainer.
dotnet publish src/Server/ScalingLedger.Server.csproj -c Release -p:EmbeddedTrainer=false --artifacts-path "$team_server.build" -o "$team_server" \
  -nologo -v q -clp:ErrorsOnly \
  || die "the Server did not build without the embedded trainer (-p:EmbeddedTrainer=false)"
torch=$(find "$team_server" -iname '*torch*' -print -quit)
[ -z "$torch" ] || die "the Server built without the embedded trainer still ships TorchSharp or libtorch: $torch"
if Ledger__EmbeddedTrainer=true timeout 60 dotnet "$team_server/ScalingLedger.Server.dll" >"$team_server.log" 2>&1 \
  || ! grep -q 'built without the embedded trainer' "$team_server.log"; then
  die "a Server built without the embedded trainer, asked to train, did not refuse with its reason: $(head -5 "$team_server.log")"
fi
echo "without the trainer: $(du -sh "$team_server" | cut -f1) (the default build ships TorchSharp and libtorch)"
rm -rf "$team_server" "$team_server.build" "$team_server.log"

say "Checking the layout of the code (.editorconfig)"
dotnet format ScalingLedger.sln --verify-no-changes -v q || die "dotnet format found code laid out against .editorconfig: run 'dotnet format ScalingLedger.sln' and commit"
long=$(find src tests benchmarks \( -name '*.cs' -o -name '*.razor' \) -not -path '*/obj/*' -not -path '*/bin/*' -print0 \
  | xargs -0 awk 'length > 160 { print FILENAME ":" FNR ": " length " characters" }')
[ -z "$long" ] || die "lines over 160 characters (wrap them):
$long"

say "Installing the API document's tools (pinned in tools/openapi): Redocly's linter (ApiDocumentTests) and Prism's validating proxy (ContractTests)"
npm ci --prefix tools/openapi --no-audit --no-fund --loglevel=error || die "npm could not install tools/openapi"

say "Running every test"
log=$(mktemp)
set +e
dotnet test ScalingLedger.sln --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# Load over the real broker: nothing lost or duplicated (the benchmark exits 1 otherwise); its figures are printed.
say "Load over RabbitMQ: 2 Servers, 8 trainer processes replaying tiny-432 for 60 s (scripts/team.sh)"
if ! dotnet benchmarks/ScalingLedger.Benchmarks/bin/Debug/net10.0/ScalingLedger.Benchmarks.dll team-load 432 --seconds 60 2>&1 | tee -a "$log"; then
  echo "Failed!  - Failed:     1, Passed:     0, Skipped:     0, Total:     1 - team-load" | tee -a "$log"
  status=1
else
  echo "Passed!  - Failed:     0, Passed:     1, Skipped:     0, Total:     1 - team-load" >>"$log"
fi
# One closing line over all test assemblies.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { v = $(i+1); gsub(/,/, "", v)
       if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "test.sh: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
