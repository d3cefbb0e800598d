#!/usr/bin/env bash
# The price of partitioning the token table by expiry, measured in SQL with
# pgbench on a scratch database (the server cannot run on it unchanged: a
# partitioned table's primary key must include expires_at, so
# ON CONFLICT (kind, signature) has no matching constraint).
#
#   flat: oauth2_requests as migrated (PK (kind, signature) + 4 indexes)
#   part: the same columns PARTITION BY RANGE (expires_at), hourly,
#         PK (kind, signature, expires_at), the same secondary indexes
#
# Both get N live + N expired rows (expiries as the loader's: live 3-27 h
# ahead, expired 1-25 h ago). Measured at CONNS clients for DUR seconds each:
# the GetRequest lookup by (kind, signature, expires_at > now()) of random
# live signatures, and the token INSERT; then the drop of the oldest
# partition (DETACH + DROP) with the lookups running, against the batched
# DELETE of the same hour's rows from flat.
#
#   bench/scale/partition.sh [N=500000] [DUR=12] [CONNS=16]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-500000} DUR=${2:-12} CONNS=${3:-16}
BASE=${STRONGROOM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
HOSTPART=${BASE%%/postgres\?*}
DB=strongroom_scale_part_$$
URL="$HOSTPART/$DB?sslmode=disable"
TMP=$(mktemp -d)
psql -q "$BASE" -c "CREATE DATABASE $DB"
cleanup() { psql -q "$BASE" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true; rm -rf "$TMP"; }
trap cleanup EXIT
P() { psql -qX -v ON_ERROR_STOP=1 "$URL" "$@"; }

echo "== uptime: $(uptime)"
P <<SQL
CREATE TABLE flat (
    kind text NOT NULL, signature text NOT NULL, request_id text NOT NULL, client_id text NOT NULL,
    subject text NOT NULL DEFAULT '', active boolean NOT NULL DEFAULT true,
    requested_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, data bytea, deactivated_at timestamptz,
    PRIMARY KEY (kind, signature));
CREATE TABLE part (LIKE flat INCLUDING DEFAULTS, PRIMARY KEY (kind, signature, expires_at))
    PARTITION BY RANGE (expires_at);
DO \$\$
DECLARE h timestamptz := date_trunc('hour', now()) - interval '26 hours';
BEGIN
  WHILE h < date_trunc('hour', now()) + interval '29 hours' LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF part FOR VALUES FROM (%L) TO (%L)',
                   'part_' || to_char(h, 'YYYYMMDDHH24'), h, h + interval '1 hour');
    h := h + interval '1 hour';
  END LOOP;
END \$\$;
CREATE TABLE sigs (i int PRIMARY KEY, signature text NOT NULL);
SQL
for T in flat part; do
  P <<SQL
INSERT INTO $T (kind, signature, request_id, client_id, requested_at, expires_at, data)
SELECT 'access', rtrim(translate(encode(sha256(convert_to('$T' || g, 'UTF8')), 'base64'), '+/', '-_'), '='),
       gen_random_uuid()::text, 'scale-client-' || (g % 8), exp - interval '10 minutes', exp,
       convert_to(repeat(md5(g::text), 21) || left(md5(g::text), 22), 'UTF8')
FROM (SELECT g, CASE WHEN g <= $N THEN now() + make_interval(secs => 10800 + random() * 86400)
                     ELSE now() - make_interval(secs => 3600 + random() * 86400) END AS exp
      FROM generate_series(1, 2 * $N) AS g) AS r;
CREATE INDEX ON $T (request_id, kind);
CREATE INDEX ON $T (expires_at);
CREATE INDEX ON $T (client_id);
CREATE INDEX ON $T (subject, client_id);
VACUUM ANALYZE $T;
SQL
done
P -c "INSERT INTO sigs SELECT row_number() OVER (), signature FROM (SELECT signature FROM flat WHERE expires_at > now() ORDER BY random() LIMIT 100000) s"
P -c "SELECT 'partitions' AS what, count(*) FROM pg_inherits WHERE inhparent = 'part'::regclass UNION ALL
      SELECT 'live partitions', count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE inhparent = 'part'::regclass AND c.relname > 'part_' || to_char(now(), 'YYYYMMDDHH24')"

pct() { # pgbench per-transaction log files -> p50 p99 max (ms)
  cat "$@" | awk '{print $3/1000}' | sort -n | awk '{a[NR]=$1} END{printf "n=%d p50=%.2fms p99=%.2fms max=%.2fms\n", NR, a[int(NR*0.5)+1], a[int(NR*0.99)+1], a[NR]}'
}
bench() { # name script
  rm -f "$TMP"/pgbench_log.*
  (cd "$TMP" && pgbench -n -M prepared -c "$CONNS" -j 2 -T "$DUR" -l -f "$2" "$URL" 2>&1 | grep -E '^tps|error|FATAL' | sed 's/^/  /') || true
  echo "  $1: $(pct "$TMP"/pgbench_log.* 2>/dev/null || echo no transactions)"
}
for T in flat part; do
  printf '\\set i random(1, 100000)\nSELECT kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data, deactivated_at FROM %s WHERE kind = '"'"'access'"'"' AND signature = (SELECT signature FROM sigs WHERE i = :i) AND expires_at > now();\n' "$T" >"$TMP/get_$T.sql"
done
printf "INSERT INTO flat (kind, signature, request_id, client_id, requested_at, expires_at, data) VALUES ('access', md5(random()::text || clock_timestamp()::text), gen_random_uuid()::text, 'scale-client-1', now(), now() + interval '10 minutes', convert_to(repeat('x', 694), 'UTF8')) ON CONFLICT (kind, signature) DO NOTHING;\n" >"$TMP/ins_flat.sql"
printf "INSERT INTO part (kind, signature, request_id, client_id, requested_at, expires_at, data) VALUES ('access', md5(random()::text || clock_timestamp()::text), gen_random_uuid()::text, 'scale-client-1', now(), now() + interval '10 minutes' + interval '3 hours', convert_to(repeat('x', 694), 'UTF8')) ON CONFLICT DO NOTHING;\n" >"$TMP/ins_part.sql"
echo "== EXPLAIN of the lookup on part (generic plan, as the server's prepared statements)"
P -c "SET plan_cache_mode = force_generic_plan" -c "PREPARE g(text) AS SELECT * FROM part WHERE kind = 'access' AND signature = \$1 AND expires_at > now()" \
  -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE g('x')" | grep -E 'Subplans Removed|Append|Execution Time|Planning Time' || true
for round in 1 2; do
  echo "== round $round: lookup by (kind, signature), $CONNS clients, ${DUR}s"
  bench "flat get" "$TMP/get_flat.sql"
  bench "part get" "$TMP/get_part.sql"
  echo "== round $round: token INSERT"
  bench "flat insert (ON CONFLICT (kind, signature))" "$TMP/ins_flat.sql"
  bench "part insert (no cross-partition uniqueness)" "$TMP/ins_part.sql"
done

H=$(P -tAc "SELECT date_trunc('hour', now() - interval '24 hours')")
OLDEST=$(P -tAc "SELECT 'part_' || to_char('$H'::timestamptz, 'YYYYMMDDHH24')")
ROWS=$(P -tAc "SELECT count(*) FROM $OLDEST")
echo "== dropping $OLDEST ($ROWS rows) while lookups run on part"
rm -f "$TMP"/pgbench_log.*
(cd "$TMP" && pgbench -n -M prepared -c "$CONNS" -j 2 -T "$DUR" -l -f "$TMP/get_part.sql" "$URL" >/dev/null 2>&1 || true) &
PB=$!
sleep 3
P -c '\timing on' -c "ALTER TABLE part DETACH PARTITION $OLDEST" -c "DROP TABLE $OLDEST" | grep Time
wait $PB
echo "  part get during the drop: $(pct "$TMP"/pgbench_log.*)"
echo "== deleting the same hour's rows from flat (DELETE of one hour, one statement) while lookups run on flat"
rm -f "$TMP"/pgbench_log.*
(cd "$TMP" && pgbench -n -M prepared -c "$CONNS" -j 2 -T "$DUR" -l -f "$TMP/get_flat.sql" "$URL" >/dev/null 2>&1 || true) &
PB=$!
sleep 3
P -c '\timing on' -c "DELETE FROM flat WHERE expires_at >= '$H' AND expires_at < '$H'::timestamptz + interval '1 hour'" | grep -E 'Time|DELETE'
wait $PB
echo "  flat get during the delete: $(pct "$TMP"/pgbench_log.*)"
echo "== sizes"
P -c "SELECT 'flat' AS t, pg_size_pretty(pg_total_relation_size('flat')) UNION ALL
      SELECT 'part', pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'part'::regclass"
