#!/usr/bin/env bash
# VACUUM of the token table (what autovacuum does after a sweep) under token
# load: its duration, what it removed, the token p50/p99 meanwhile.
#
#   bench/scale/vacuum.sh LABEL BASE_URL CLIENT_ID CLIENT_SECRET DB_URL
set -euo pipefail
set -m # background jobs keep SIGINT (wrk prints its figures on SIGINT)
cd "$(dirname "$0")/../.."
LABEL=$1 BASE=$2 ID=$3 SECRET=$4 DB=$5
CONNS=${CONNS:-16}
SCALE=${SCALE:-go run ./bench/scale}
OUT=$(mktemp)
echo "== $LABEL uptime: $(uptime)"
AUTH=$(printf '%s:%s' "$ID" "$SECRET" | base64 -w0) BODY="grant_type=client_credentials&scope=payments" \
  wrk -t2 -c"$CONNS" -d3600s --latency -s bench/post.lua "$BASE/oauth2/token" >"$OUT" &
WRK=$!
sleep 2
echo "== $LABEL VACUUM oauth2_requests (token load running)"
start=$(date +%s.%N)
psql -qX "$DB" -c "VACUUM (VERBOSE) oauth2_requests" 2>&1 | grep -E 'pages:|tuples:|index scan|elapsed' | head -5
echo "VACUUM took $(echo "$(date +%s.%N) - $start" | bc)s"
kill -INT "$WRK"; wait "$WRK" || true
echo "== $LABEL token during the VACUUM"
grep -E 'Latency|50%|90%|99%|Requests/sec|non-200' "$OUT"
rm -f "$OUT"
echo "== $LABEL sizes after VACUUM"
$SCALE sizes -db "$DB"
