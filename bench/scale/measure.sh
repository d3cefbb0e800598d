#!/usr/bin/env bash
# One measurement step of the scale benchmark against a running server:
# token (client_credentials, opaque) and introspection of a token minted
# now, each with wrk --latency at CONNS connections for DUR, then the
# table's sizes. Appends "<label> <endpoint> <p50 ms> <p99 ms> <req/s>" to
# POINTS and the raw output to stdout.
#
#   bench/scale/measure.sh LABEL BASE_URL CLIENT_ID CLIENT_SECRET DB_URL
set -euo pipefail
cd "$(dirname "$0")/../.."
LABEL=$1 BASE=$2 ID=$3 SECRET=$4 DB=$5
DUR=${DUR:-12s}
CONNS=${CONNS:-16}
POINTS=${POINTS:-/tmp/scale/points.tsv}
AUTH=$(printf '%s:%s' "$ID" "$SECRET" | base64 -w0)

ms() { # wrk latency figure (e.g. 812.00us, 3.21ms, 1.02s) -> ms
  awk -v v="$1" 'BEGIN{ if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else { sub(/s$/,"",v); print v*1000 } }'
}
one() { # endpoint path body
  local out
  out=$(AUTH=$AUTH BODY="$3" wrk -t2 -c"$CONNS" -d"$DUR" --latency -s bench/post.lua "$BASE$2")
  echo "== $LABEL $1"; echo "$out" | grep -E 'Latency|50%|90%|99%|Requests/sec|non-200|Socket errors'
  local p50 p99 rps
  p50=$(ms "$(echo "$out" | awk '$1=="50%"{print $2}')")
  p99=$(ms "$(echo "$out" | awk '$1=="99%"{print $2}')")
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  printf '%s\t%s\t%s\t%s\t%s\n' "$LABEL" "$1" "$p50" "$p99" "$rps" >>"$POINTS"
}
echo "== $LABEL uptime: $(uptime)"
one token /oauth2/token "grant_type=client_credentials&scope=payments"
TOKEN=$(curl -s -u "$ID:$SECRET" -d grant_type=client_credentials -d scope=payments "$BASE/oauth2/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
one introspect /oauth2/introspect "token=$TOKEN"
echo "== $LABEL sizes"
go run ./bench/scale sizes -db "$DB"
