#!/usr/bin/env bash
# Makes the team topology's secrets once: .env beside docker-compose.yml (mode 0600) with a PostgreSQL password, a
# RabbitMQ password and the ledger's first admin token, each 32 random bytes in hex, and the ledger's signing key (ECDSA
# P-256, base64 DER: the Servers sign the studies they export with it). docker compose reads .env itself.
# An existing .env is kept (run with --force to make new ones; the database and broker keep their old passwords, and the
# signing key is kept: the ledgers that trust this one know it by that key).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e .env ] && [ "${1:-}" != "--force" ]; then
  echo ".env exists; keeping it (--force makes new secrets)."
  exit 0
fi
umask 077
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
key=$( [ -f .env ] && grep '^LEDGER_SIGNING_KEY=' .env | cut -d= -f2- || true)
[ -n "$key" ] || key=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER | base64 -w0) \
  || { echo "openssl could not make the signing key" >&2; exit 1; }
{
  echo "# Made by scripts/compose-secrets.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Keep it private."
  echo "LEDGER_PG_PASSWORD=$(secret)"
  echo "LEDGER_RABBIT_PASSWORD=$(secret)"
  echo "LEDGER_ADMIN_TOKEN=$(secret)"
  echo "LEDGER_SIGNING_KEY=$key"
} > .env.new
mv .env.new .env
chmod 600 .env
echo "Wrote .env (mode 0600). The first admin's token is LEDGER_ADMIN_TOKEN in it: make the team's tokens with it (docs/operations.md)."
