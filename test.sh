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

say "Checking docker-compose.yml"
if docker compose version >/dev/null 2>&1; then docker compose -f docker-compose.yml config -q
else docker-compose -f docker-compose.yml config -q; fi

say "Building"
dotnet build ScalingLedger.sln -nologo -v q -clp:ErrorsOnly || die "the build failed"

say "Checking the layout of the code (.editorconfig)"
dotnet format ScalingLedger.sln --verify-no-changes -v q || die "dotnet format found code laid out against .editorconfig: run 'dotnet format ScalingLedger.sln' and commit"
long=$(find src tests benchmarks \( -name '*.cs' -o -name '*.razor' \) -not -path '*/obj/*' -not -path '*/bin/*' -print0 \
  | xargs -0 awk 'length > 160 { print FILENAME ":" FNR ": " length " characters" }')
[ -z "$long" ] || die "lines over 160 characters (wrap them):
$long"

say "Running every test"
log=$(mktemp)
set +e
dotnet test ScalingLedger.sln --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over all test assemblies.
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { v = $(i+1); gsub(/,/, "", v)
       if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "test.sh: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
