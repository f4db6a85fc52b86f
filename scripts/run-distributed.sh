#!/usr/bin/env bash
# Distributed mode on this machine: PostgreSQL + Redis (local), two projection workers,
# the scheduler and the API. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
DB=${CRM_DB_NAME:-crm}
if ! psql -h "$PGHOST" -U "$PGUSER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -c "CREATE DATABASE \"$DB\"" >/dev/null
fi
redis-cli -h 127.0.0.1 ping >/dev/null || { echo "Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }

export CRM_MODE=distributed
export CRM_DATABASE_URL=${CRM_DATABASE_URL:-postgresql+psycopg2://$PGUSER@$PGHOST:5432/$DB}
export CRM_REDIS_URL=${CRM_REDIS_URL:-redis://127.0.0.1:6379/0}
# The distributed mode needs CRM_SECRET_KEY (at least 32 characters, the same for every
# process). Unless one is given, this local run makes one for itself, and says so.
if [ -z "${CRM_SECRET_KEY:-}" ]; then
  CRM_SECRET_KEY=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')
  echo "CRM_SECRET_KEY is not set: using a key made for this run only; sessions end when it stops." >&2
  echo "Set CRM_SECRET_KEY (e.g. from a secrets manager) to keep sessions across restarts." >&2
fi
export CRM_SECRET_KEY

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT INT TERM
$BIN/crm worker & pids+=($!)
$BIN/crm worker & pids+=($!)
$BIN/crm scheduler & pids+=($!)
$BIN/crm api --demo --port "${CRM_PORT:-8000}" & pids+=($!)
wait -n "${pids[@]}"
