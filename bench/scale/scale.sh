#!/usr/bin/env bash
# The scale benchmark end to end (make bench-scale): a fresh database, the
# server built from this tree, then for each step the loader adds rows and
# measure.sh takes token and introspection p50/p99 with wrk; at the end the
# janitor's sweep of every expired row under token load (sweep.sh), a
# VACUUM under token load, and the plot. Steps are cumulative row counts
# added per group (live and expired alike):
#
#   bench/scale/scale.sh [added per step...]   default: 1000000 9000000
#
# The default reaches 10 M live + 10 M expired rows: about 20 GB of disk
# and the better part of an hour on two cores. The database is dropped at
# the end; the points and the log stay in OUT (default /tmp/scale-run).
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=("$@"); [ ${#STEPS[@]} -eq 0 ] && STEPS=(1000000 9000000)
BASE=${STRONGROOM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
HOSTPART=${BASE%%/postgres\?*}
DB=strongroom_scale_$$
DBURL="$HOSTPART/$DB?sslmode=disable"
PORT=${PORT:-18091}
OUT=${OUT:-/tmp/scale-run}
mkdir -p "$OUT"
export POINTS=$OUT/points.tsv
: >"$POINTS"
BIN=$OUT/strongroom
export SCALE=$OUT/scale
go build -o "$BIN" ./cmd/strongroom
go build -o "$SCALE" ./bench/scale
psql -q "$BASE" -c "CREATE DATABASE $DB"
cleanup() {
  [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null || true
  psql -q "$BASE" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT
export DATABASE_URL="$DBURL&pool_max_conns=16"
STRONGROOM_SECRET=$(head -c 32 /dev/urandom | base64); export STRONGROOM_SECRET
STRONGROOM_KEK=$(head -c 32 /dev/urandom | base64); export STRONGROOM_KEK
"$BIN" migrate up >/dev/null
# The server's own janitor sweeps at start and every 10 minutes: while rows
# load and steps are measured, a trigger turns its deletes into no-ops (a
# 10-minute tick once removed 5.7 M rows mid-load); dropped before the sweep.
psql -qX "$DBURL" <<'SQL'
CREATE FUNCTION scale_bench_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER scale_bench_keep BEFORE DELETE ON oauth2_requests FOR EACH ROW EXECUTE FUNCTION scale_bench_keep();
SQL
read -r ID SECRET < <("$BIN" clients create --name bench-opaque --grant-type client_credentials --scope payments \
  --introspect --auth-method client_secret_basic --access-token-format opaque -o json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])')
"$BIN" serve --insecure-http --listen 127.0.0.1:$PORT --issuer http://127.0.0.1:$PORT \
  --rate-limit-address off --rate-limit-client off 2>"$OUT/server.log" &
SRV=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.2; done

TOTAL=0
bench/scale/measure.sh "$TOTAL" "http://127.0.0.1:$PORT" "$ID" "$SECRET" "$DBURL"
for n in "${STEPS[@]}"; do
  "$SCALE" load -db "$DBURL" -live "$n" -expired "$n" -chunk 1000000
  TOTAL=$((TOTAL + 2 * n))
  bench/scale/measure.sh "$TOTAL" "http://127.0.0.1:$PORT" "$ID" "$SECRET" "$DBURL"
done
psql -qX "$DBURL" -c "DROP TRIGGER scale_bench_keep ON oauth2_requests"
bench/scale/sweep.sh "$TOTAL" "http://127.0.0.1:$PORT" "$ID" "$SECRET" "$DBURL"
bench/scale/vacuum.sh "$TOTAL" "http://127.0.0.1:$PORT" "$ID" "$SECRET" "$DBURL"
"$SCALE" plot -in "$POINTS" -out "$OUT/scale-p99.png"
echo "== points ($POINTS)"; cat "$POINTS"
