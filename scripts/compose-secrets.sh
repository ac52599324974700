#!/usr/bin/env bash
# Makes the team topology's secrets once: .env beside docker-compose.yml (mode 0600) with a PostgreSQL password, a
# RabbitMQ password and the ledger's first admin token, each 32 random bytes in hex. docker compose reads .env itself.
# An existing .env is kept (run with --force to make new ones; the database and broker keep their old passwords).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e .env ] && [ "${1:-}" != "--force" ]; then
  echo ".env exists; keeping it (--force makes new secrets)."
  exit 0
fi
umask 077
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
{
  echo "# Made by scripts/compose-secrets.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Keep it private."
  echo "LEDGER_PG_PASSWORD=$(secret)"
  echo "LEDGER_RABBIT_PASSWORD=$(secret)"
  echo "LEDGER_ADMIN_TOKEN=$(secret)"
} > .env
chmod 600 .env
echo "Wrote .env (mode 0600). The first admin's token is LEDGER_ADMIN_TOKEN in it: make the team's tokens with it (docs/operations.md)."
