package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// table is the token table the loader fills (migrations/0001_init.sql).
const table = "oauth2_requests"

// dataTemplate is the serialized fosite request of one real
// client_credentials opaque access token, minted by the server
// (694 bytes; below the TOAST threshold, so it is stored inline as in
// production). The placeholders are replaced per row so no two rows carry
// the same document.
const dataTemplate = `{"id":"@RID@","requested_at":"@RAT@","client_id":"@CID@","requested_scope":["payments"],"granted_scope":["payments"],"form":{"grant_type":["client_credentials"],"scope":["payments"]},"session":{"oidc":{"id_token_claims":{"jti":"","iss":"","sub":"","aud":null,"nonce":"","exp":"0001-01-01T00:00:00Z","iat":"0001-01-01T00:00:00Z","rat":"0001-01-01T00:00:00Z","auth_time":"0001-01-01T00:00:00Z","at_hash":"","acr":"","amr":null,"c_hash":"","ext":null},"headers":{"extra":{}},"expires_at":{"access_token":"@EAT@"},"username":"","subject":""},"client_id":"@CID@"}}`

// Options says how many rows to add and where their expiry lies.
type Options struct {
	Live    int64 // access tokens expiring between LiveFrom and LiveFrom+Spread
	Expired int64 // access tokens that expired between Spread+ExpiredAgo and ExpiredAgo ago
	// Chunk is the number of rows per INSERT statement (one transaction).
	Chunk int64
	// Clients is how many load clients (scale-client-N) the rows are spread over.
	Clients int
	// LiveFrom, Spread and ExpiredAgo place the expiries (relative to now).
	LiveFrom, Spread, ExpiredAgo time.Duration
	// KeepIndexes maintains the indexes row by row instead of dropping them
	// and building them again after the load (much slower for millions).
	KeepIndexes bool
	// Log, when set, receives progress lines.
	Log func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Chunk <= 0 {
		o.Chunk = 500_000
	}
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Spread <= 0 {
		o.Spread = 24 * time.Hour
	}
	if o.LiveFrom <= 0 {
		o.LiveFrom = 3 * time.Hour
	}
	if o.ExpiredAgo <= 0 {
		o.ExpiredAgo = time.Hour
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
}

// Load adds opts.Live live and opts.Expired expired access-token rows to
// the token table of a migrated database, then runs VACUUM ANALYZE on it.
// Signatures are 43 characters of base64url over 32 random-looking bytes, as
// the server's; each load draws a fresh seed, so loads add up.
func Load(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	opts.defaults()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("scale: acquire: %w", err)
	}
	defer conn.Release()
	c := conn.Conn()
	for _, s := range []string{
		"SET maintenance_work_mem = '512MB'",
		// The rows reference clients the loader has just created: skip the
		// per-row foreign-key trigger.
		"SET session_replication_role = replica",
		"SET synchronous_commit = off",
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			return fmt.Errorf("scale: %s: %w", s, err)
		}
	}
	for i := 0; i < opts.Clients; i++ {
		if _, err := c.Exec(ctx, `
INSERT INTO clients (id, name, grant_types, scopes, token_endpoint_auth_method, created_at, updated_at)
VALUES ($1, $1, '{client_credentials}', '{payments}', 'client_secret_basic', now(), now())
ON CONFLICT (id) DO NOTHING`, clientID(i)); err != nil {
			return fmt.Errorf("scale: create client: %w", err)
		}
	}
	var rebuild []string
	if !opts.KeepIndexes {
		if rebuild, err = dropIndexes(ctx, c); err != nil {
			return err
		}
	}
	seed := make([]byte, 16)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("scale: seed: %w", err)
	}
	var next int64
	fill := func(n int64, from, to time.Duration, what string) error {
		for done := int64(0); done < n; {
			k := min(opts.Chunk, n-done)
			start := time.Now()
			if _, err := c.Exec(ctx, insertSQL, next, next+k-1, hex.EncodeToString(seed),
				opts.Clients, from.Seconds(), to.Seconds(), dataTemplate); err != nil {
				return fmt.Errorf("scale: insert %s rows: %w", what, err)
			}
			next += k
			done += k
			opts.Log("inserted %d/%d %s rows (%d in %s)", done, n, what, k, time.Since(start).Round(time.Millisecond))
		}
		return nil
	}
	// Expired rows first: in a running server older rows sit earlier in the
	// heap, and a sequential scan for expired rows finds them first.
	if err := fill(opts.Expired, -opts.ExpiredAgo-opts.Spread, -opts.ExpiredAgo, "expired"); err != nil {
		return err
	}
	if err := fill(opts.Live, opts.LiveFrom, opts.LiveFrom+opts.Spread, "live"); err != nil {
		return err
	}
	for _, stmt := range rebuild {
		start := time.Now()
		if _, err := c.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("scale: rebuild index: %w", err)
		}
		opts.Log("%s (%s)", stmt, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	if _, err := c.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		return fmt.Errorf("scale: vacuum: %w", err)
	}
	opts.Log("VACUUM ANALYZE (%s)", time.Since(start).Round(time.Millisecond))
	return nil
}

func clientID(i int) string { return fmt.Sprintf("scale-client-%d", i) }

// insertSQL adds the rows $1..$2 of a load: $3 seeds the signatures, $4 is
// the number of clients, the expiry lies between now()+$5 and now()+$6
// seconds, $7 is the data template.
const insertSQL = `
INSERT INTO ` + table + ` (kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data)
SELECT 'access', sig, rid, cid, '', true, exp - interval '10 minutes', exp,
       convert_to(replace(replace(replace(replace($7::text,
           '@RID@', rid), '@CID@', cid),
           '@RAT@', to_char((exp - interval '10 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"')),
           '@EAT@', to_char(exp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"')), 'UTF8')
FROM (
    SELECT rtrim(translate(encode(sha256(decode($3::text, 'hex') || int8send(g)), 'base64'), '+/', '-_'), '=') AS sig,
           gen_random_uuid()::text AS rid,
           'scale-client-' || (g % $4::int) AS cid,
           now() + make_interval(secs => $5::float8 + random() * ($6::float8 - $5::float8)) AS exp
    FROM generate_series($1::bigint, $2::bigint) AS g
) AS r`

// dropIndexes drops the token table's indexes (primary key included) and
// returns the statements that build them again.
func dropIndexes(ctx context.Context, c *pgx.Conn) ([]string, error) {
	var rebuild, drops []string
	rows, err := c.Query(ctx, `
SELECT i.relname, pg_get_indexdef(x.indexrelid), con.conname, pg_get_constraintdef(con.oid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
WHERE x.indrelid = $1::regclass
ORDER BY x.indisprimary DESC, i.relname`, table)
	if err != nil {
		return nil, fmt.Errorf("scale: list indexes: %w", err)
	}
	for rows.Next() {
		var name, def string
		var con, condef *string
		if err := rows.Scan(&name, &def, &con, &condef); err != nil {
			return nil, fmt.Errorf("scale: list indexes: %w", err)
		}
		if con != nil {
			drops = append(drops, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table, pgx.Identifier{*con}.Sanitize()))
			rebuild = append(rebuild, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", table, pgx.Identifier{*con}.Sanitize(), *condef))
			continue
		}
		drops = append(drops, "DROP INDEX "+pgx.Identifier{name}.Sanitize())
		rebuild = append(rebuild, def)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scale: list indexes: %w", err)
	}
	for _, d := range drops {
		if _, err := c.Exec(ctx, d); err != nil {
			return nil, fmt.Errorf("scale: %s: %w", d, err)
		}
	}
	return rebuild, nil
}

// Sizes reports the token table's row counts and sizes.
type Sizes struct {
	Live, Expired        int64
	Heap, Indexes, Total int64 // bytes
	DeadTuples           int64 // pg_stat_user_tables.n_dead_tup
	IndexSizes           map[string]int64
	indexNames           []string
}

// String is one line per figure, for the results text.
func (s Sizes) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows: live=%d expired=%d dead_tuples=%d\n", s.Live, s.Expired, s.DeadTuples)
	fmt.Fprintf(&b, "size: heap=%s indexes=%s total=%s\n", mb(s.Heap), mb(s.Indexes), mb(s.Total))
	for _, n := range s.indexNames {
		fmt.Fprintf(&b, "  index %s=%s\n", n, mb(s.IndexSizes[n]))
	}
	return b.String()
}

func mb(n int64) string { return fmt.Sprintf("%.1fMB", float64(n)/(1<<20)) }

// Measure reads the token table's counts and sizes.
func Measure(ctx context.Context, pool *pgxpool.Pool) (Sizes, error) {
	var s Sizes
	err := pool.QueryRow(ctx, `
SELECT (SELECT count(*) FROM `+table+` WHERE expires_at > now()),
       (SELECT count(*) FROM `+table+` WHERE expires_at <= now()),
       pg_relation_size($1::regclass), pg_indexes_size($1::regclass), pg_total_relation_size($1::regclass),
       coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = $1::regclass), 0)`, table).Scan(&s.Live, &s.Expired, &s.Heap, &s.Indexes, &s.Total, &s.DeadTuples)
	if err != nil {
		return s, fmt.Errorf("scale: measure: %w", err)
	}
	rows, err := pool.Query(ctx, `
SELECT i.relname, pg_relation_size(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = $1::regclass ORDER BY i.relname`, table)
	if err != nil {
		return s, fmt.Errorf("scale: index sizes: %w", err)
	}
	s.IndexSizes = map[string]int64{}
	for rows.Next() {
		var n string
		var sz int64
		if err := rows.Scan(&n, &sz); err != nil {
			return s, fmt.Errorf("scale: index sizes: %w", err)
		}
		s.IndexSizes[n] = sz
		s.indexNames = append(s.indexNames, n)
	}
	return s, rows.Err()
}
