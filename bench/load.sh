#!/usr/bin/env bash
# Load test with wrk against the built binary on a fresh PostgreSQL database,
# beside a floor measured in the same run (pgbench: one single-row INSERT per
# transaction at the same concurrency).
#
#   bench/load.sh [duration=15s] [connections=32]
#
# Needs wrk and pgbench (Debian: apt-get install wrk postgresql-contrib).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-15s}
CONNS=${2:-32}
BASE=${STRONGROOM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
HOSTPART=${BASE%%/postgres\?*}
DB=strongroom_bench_$$
PORT=18080
BIN=$(mktemp -d)/strongroom
LOG=$(mktemp)

psql -q "$BASE" -c "CREATE DATABASE $DB"
cleanup() {
  [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null || true
  psql -q "$BASE" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT

go build -o "$BIN" ./cmd/strongroom
export DATABASE_URL="$HOSTPART/$DB?sslmode=disable&pool_max_conns=$CONNS"
export STRONGROOM_SECRET=$(head -c 32 /dev/urandom | base64)
export STRONGROOM_KEK=$(head -c 32 /dev/urandom | base64)
"$BIN" migrate up >/dev/null

mkclient() { # format -> "id secret"
  "$BIN" clients create --name "bench-$1" --grant-type client_credentials --scope payments --introspect \
    --auth-method client_secret_basic --access-token-format "$1" -o json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
read -r OPAQUE_ID OPAQUE_SECRET < <(mkclient opaque)
read -r JWT_ID JWT_SECRET < <(mkclient jwt)

# rate limits off: the benchmark measures throughput, not the limits
"$BIN" serve --insecure-http --listen 127.0.0.1:$PORT --issuer http://127.0.0.1:$PORT \
  --rate-limit-address off --rate-limit-client off 2>"$LOG" &
SRV=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.2; done

run() { # name id secret path body
  echo "== $1"
  AUTH=$(printf '%s:%s' "$2" "$3" | base64 -w0) BODY="$5" \
    wrk -t2 -c"$CONNS" -d"$DUR" -s bench/post.lua "http://127.0.0.1:$PORT$4" | grep -E 'Requests/sec|Latency|non-200'
}
run "client_credentials, opaque tokens (one INSERT each)" "$OPAQUE_ID" "$OPAQUE_SECRET" /oauth2/token "grant_type=client_credentials&scope=payments"
run "client_credentials, ES256 JWT access tokens" "$JWT_ID" "$JWT_SECRET" /oauth2/token "grant_type=client_credentials&scope=payments"
TOKEN=$(curl -s -u "$OPAQUE_ID:$OPAQUE_SECRET" -d grant_type=client_credentials http://127.0.0.1:$PORT/oauth2/token |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
run "introspection" "$OPAQUE_ID" "$OPAQUE_SECRET" /oauth2/introspect "token=$TOKEN"
echo "== JWKS (GET, from memory)"
wrk -t2 -c"$CONNS" -d"$DUR" "http://127.0.0.1:$PORT/.well-known/jwks.json" | grep -E 'Requests/sec'

echo "== floor: pgbench, one single-row INSERT per transaction, $CONNS clients"
psql -q "$HOSTPART/$DB" -c "CREATE TABLE floor (signature text PRIMARY KEY, data bytea, expires_at timestamptz)"
SQL=$(mktemp)
echo "INSERT INTO floor VALUES (md5(random()::text || clock_timestamp()::text), decode(repeat('ab', 600), 'hex'), now());" >"$SQL"
pgbench -n -c "$CONNS" -j 2 -T "${DUR%s}" -f "$SQL" "$HOSTPART/$DB" 2>/dev/null | grep -E '^tps'
