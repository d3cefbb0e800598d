package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

// TestSweepDeletesAcrossBatches: a backlog larger than one batch is
// deleted completely by one sweep (several bounded statements).
func TestSweepDeletesAcrossBatches(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := openStore(t, url)
	pool := newPool(t, url)
	const n = 12_001 // more than two batches of 5,000
	_, err := pool.Exec(t.Context(), `
INSERT INTO client_assertion_jtis (jti, expires_at)
SELECT 'jti-' || i, now() - interval '1 hour' FROM generate_series(1, $1) AS i`, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UseJTI(t.Context(), "live", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeleteExpiredJTIs(t.Context(), time.Now())
	if err != nil || got != n {
		t.Fatalf("swept %d, %v; want all %d expired ids", got, err, n)
	}
	var left int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM client_assertion_jtis`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("%d rows left (%v), want the live one", left, err)
	}
}

// TestSweepSkipsLockedRowsInsteadOfWaiting: rows another transaction holds
// (a request in flight, another node's sweep) are skipped, never waited
// for, so the janitor cannot stall behind, or stall, a hot path.
func TestSweepSkipsLockedRowsInsteadOfWaiting(t *testing.T) {
	t.Parallel()
	s := openStore(t, pgtest.NewDatabase(t))
	ctx := t.Context()
	past := time.Now().Add(-time.Hour)
	if err := s.CreateClient(ctx, &storage.Client{ID: "c1", CreatedAt: past, UpdatedAt: past}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAuthFlow(ctx, &storage.AuthFlow{ID: "f1", ClientID: "c1", CreatedAt: past, ExpiresAt: past}); err != nil {
		t.Fatal(err)
	}
	txCtx, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.RollbackTx(txCtx) }()
	if n, err := s.DeleteExpiredAuthFlows(txCtx, time.Now()); err != nil || n != 1 {
		t.Fatalf("sweep in the holding transaction: %d, %v", n, err)
	}
	// The row is locked by the open transaction: a second sweep returns at
	// once without it.
	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	n, err := s.DeleteExpiredAuthFlows(quick, time.Now())
	if err != nil || n != 0 || time.Since(start) > time.Second {
		t.Fatalf("sweep beside a lock holder: %d, %v after %v; want 0 at once", n, err, time.Since(start))
	}
	if err := s.RollbackTx(txCtx); err != nil {
		t.Fatal(err)
	}
	// Released, the next sweep takes it.
	if n, err := s.DeleteExpiredAuthFlows(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("sweep after the release: %d, %v", n, err)
	}
}
