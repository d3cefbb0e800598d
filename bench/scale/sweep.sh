#!/usr/bin/env bash
# The janitor's token sweep under load: wrk drives the token endpoint
# (client_credentials, opaque: one INSERT each) at CONNS connections while
# `go run ./bench/scale sweep` runs postgres.Store.DeleteExpiredRequests
# once; wrk is stopped when the sweep ends. Prints the sweep's figures, the
# token latencies during it, and the table's sizes before and after.
#
#   bench/scale/sweep.sh LABEL BASE_URL CLIENT_ID CLIENT_SECRET DB_URL
set -euo pipefail
set -m # background jobs keep SIGINT (wrk prints its figures on SIGINT)
cd "$(dirname "$0")/../.."
LABEL=$1 BASE=$2 ID=$3 SECRET=$4 DB=$5
CONNS=${CONNS:-16}
POINTS=${POINTS:-/tmp/scale/points.tsv}
SCALE=${SCALE:-go run ./bench/scale}
OUT=$(mktemp)
echo "== $LABEL uptime: $(uptime)"
echo "== $LABEL sizes before"
$SCALE sizes -db "$DB"
AUTH=$(printf '%s:%s' "$ID" "$SECRET" | base64 -w0) BODY="grant_type=client_credentials&scope=payments" \
  wrk -t2 -c"$CONNS" -d3600s --latency -s bench/post.lua "$BASE/oauth2/token" >"$OUT" &
WRK=$!
sleep 2
echo "== $LABEL sweep (token load running)"
$SCALE sweep -db "$DB" ${SWEEP_TIMEOUT:+-timeout $SWEEP_TIMEOUT} || true
kill -INT "$WRK"; wait "$WRK" || true
echo "== $LABEL token during the sweep"
grep -E 'Latency|50%|90%|99%|Requests/sec|non-200' "$OUT"
ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'; }
printf '%s\t%s\t%s\t%s\t%s\n' "sweep-$LABEL" token "$(ms "$(awk '$1=="50%"{print $2}' "$OUT")")" \
  "$(ms "$(awk '$1=="99%"{print $2}' "$OUT")")" "$(awk '/Requests\/sec/{print $2}' "$OUT")" >>"$POINTS"
rm -f "$OUT"
echo "== $LABEL sizes after"
$SCALE sizes -db "$DB"
