package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/storage/pgtest"
)

// TestLoaderFillsRealisticRowsAndRebuildsIndexes loads a tiny N twice into a
// migrated database: the rows add up, every index (primary key included)
// is back, signatures have the server's shape and are unique, the data is
// the real token's size, and the janitor's sweep then removes exactly the
// expired rows.
func TestLoaderFillsRealisticRowsAndRebuildsIndexes(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	before, err := Measure(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Load(ctx, pool, Options{Live: 1500, Expired: 700, Chunk: 1000, Clients: 3}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Measure(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if s.Live != 3000 || s.Expired != 1400 {
		t.Fatalf("live=%d expired=%d, want 3000 and 1400", s.Live, s.Expired)
	}
	if len(s.IndexSizes) != len(before.IndexSizes) || len(s.IndexSizes) < 5 {
		t.Fatalf("indexes after load %v, before %v", s.IndexSizes, before.IndexSizes)
	}
	var pk string
	if err := pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'oauth2_requests'::regclass AND contype = 'p'`).Scan(&pk); err != nil {
		t.Fatalf("primary key: %v", err)
	}
	if pk != "PRIMARY KEY (kind, signature)" {
		t.Fatalf("primary key %q", pk)
	}
	var distinct, badSig, clients int
	var minLen, maxLen int
	if err := pool.QueryRow(ctx, `
SELECT count(DISTINCT signature), count(*) FILTER (WHERE signature !~ '^[A-Za-z0-9_-]{43}$'),
       count(DISTINCT client_id), min(length(data)), max(length(data))
FROM oauth2_requests`).Scan(&distinct, &badSig, &clients, &minLen, &maxLen); err != nil {
		t.Fatal(err)
	}
	if distinct != 4400 || badSig != 0 || clients != 3 {
		t.Fatalf("distinct signatures=%d malformed=%d clients=%d", distinct, badSig, clients)
	}
	// The real document is 694 bytes with a 32-character client id; the
	// load clients' ids are shorter.
	if minLen < 600 || maxLen > 800 {
		t.Fatalf("data length %d..%d, want about the real token's 694", minLen, maxLen)
	}
	r, err := Sweep(ctx, dbURL, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r.Removed != 1400 || len(r.Statements) == 0 {
		t.Fatalf("sweep removed %d in %d statements, want 1400", r.Removed, len(r.Statements))
	}
	if s, err = Measure(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if s.Live != 3000 || s.Expired != 0 {
		t.Fatalf("after sweep live=%d expired=%d", s.Live, s.Expired)
	}
}

// TestPlotDrawsMeasuredPoints writes a PNG from a points file.
func TestPlotDrawsMeasuredPoints(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "points.tsv")
	data := "0\ttoken\t1.5\t9\t1000\n0\tintrospect\t1\t5\t3000\n2000000\ttoken\t1.6\t10\t990\nsweep\ttoken\t2\t20\t900\n"
	if err := os.WriteFile(in, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	pts, err := readPoints(in)
	if err != nil || len(pts) != 3 {
		t.Fatalf("points %v, %v", pts, err)
	}
	out := filepath.Join(dir, "p.png")
	if err := plotFile(in, out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 1000 {
		t.Fatalf("png: %v %v", fi, err)
	}
}
