package postgres_test

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

// TestSweepDeletesSpreadExpiriesAcrossBatches: the token sweep removes a
// backlog of more than two batches whose expiries spread over an hour,
// three rows sharing each instant so the 5,000-row batch boundary falls
// inside a tie: every expired row goes, while the live rows and the one
// expiring exactly at the cut-off stay.
func TestSweepDeletesSpreadExpiriesAcrossBatches(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := openStore(t, url)
	pool := newPool(t, url)
	ctx := t.Context()
	cut := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := s.CreateClient(ctx, &storage.Client{ID: "c1", CreatedAt: cut, UpdatedAt: cut}); err != nil {
		t.Fatal(err)
	}
	const expired = 12_000 // more than two batches; 5,000 is not a multiple of 3
	if _, err := pool.Exec(ctx, `
INSERT INTO oauth2_requests (kind, signature, request_id, client_id, requested_at, expires_at, data)
SELECT 'access', 'sig-' || i, 'req-' || i, 'c1', $2::timestamptz - interval '2 hours',
       $2::timestamptz - make_interval(secs => 1 + (i / 3)), '\x7b7d'::bytea
FROM generate_series(0, $1 - 1) AS i
UNION ALL
SELECT 'access', 'live-' || i, 'req-live-' || i, 'c1', $2::timestamptz, $2::timestamptz + make_interval(secs => i), NULL::bytea
FROM generate_series(0, 99) AS i`, expired, cut); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeleteExpiredRequests(ctx, cut)
	if err != nil || got != expired {
		t.Fatalf("swept %d, %v; want all %d expired rows", got, err, expired)
	}
	var left, early int
	if err := pool.QueryRow(ctx, `
SELECT count(*), count(*) FILTER (WHERE expires_at < $1) FROM oauth2_requests`, cut).Scan(&left, &early); err != nil {
		t.Fatal(err)
	}
	if left != 100 || early != 0 {
		t.Fatalf("%d rows left, %d of them expired before the cut-off; want the 100 live ones", left, early)
	}
	// A second sweep finds nothing.
	if got, err := s.DeleteExpiredRequests(ctx, cut); err != nil || got != 0 {
		t.Fatalf("second sweep removed %d, %v", got, err)
	}
}
