package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/storage/postgres"
)

// SweepResult is what one janitor sweep of the token table cost.
type SweepResult struct {
	Removed    int64
	Took       time.Duration
	Statements []time.Duration // each DELETE batch, in order
	// MaxLockWait is the longest time any backend of the database was seen
	// waiting for a heavyweight lock while the sweep ran (sampled).
	MaxLockWait time.Duration
	// LockWaiters is how many samples saw a backend waiting for a lock.
	LockWaiters int
}

// String is the results text's lines.
func (r SweepResult) String() string {
	var b strings.Builder
	rate := float64(r.Removed) / r.Took.Seconds()
	fmt.Fprintf(&b, "sweep: removed=%d took=%s rows/s=%.0f batches=%d\n", r.Removed, r.Took.Round(time.Millisecond), rate, len(r.Statements))
	if n := len(r.Statements); n > 0 {
		s := slices.Clone(r.Statements)
		slices.Sort(s)
		pct := func(p float64) time.Duration { return s[min(n-1, int(p*float64(n)))].Round(10 * time.Microsecond) }
		fmt.Fprintf(&b, "batch statement time: p50=%s p99=%s max=%s first=%s last-full=%s\n",
			pct(0.5), pct(0.99), s[n-1].Round(10*time.Microsecond), r.Statements[0].Round(10*time.Microsecond),
			r.Statements[max(0, n-2)].Round(10*time.Microsecond))
	}
	fmt.Fprintf(&b, "lock waits seen: samples=%d longest=%s\n", r.LockWaiters, r.MaxLockWait.Round(time.Millisecond))
	return b.String()
}

// statementTimer records the duration of every DELETE the store runs.
type statementTimer struct {
	mu    sync.Mutex
	times []time.Duration
}

type startKey struct{}

func (t *statementTimer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !strings.Contains(d.SQL, "DELETE") {
		return ctx
	}
	return context.WithValue(ctx, startKey{}, time.Now())
}

func (t *statementTimer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	start, ok := ctx.Value(startKey{}).(time.Time)
	if !ok {
		return
	}
	t.mu.Lock()
	t.times = append(t.times, time.Since(start))
	t.mu.Unlock()
}

// Sweep runs the janitor's token sweep (postgres.Store.DeleteExpiredRequests,
// the code the server runs) once over the database at dbURL, timing every
// batch and sampling pg_stat_activity for lock waits meanwhile.
func Sweep(ctx context.Context, dbURL string, before time.Time) (SweepResult, error) {
	var r SweepResult
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return r, fmt.Errorf("scale: parse url: %w", err)
	}
	timer := &statementTimer{}
	cfg.ConnConfig.Tracer = timer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return r, fmt.Errorf("scale: connect: %w", err)
	}
	defer pool.Close()
	mon, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return r, fmt.Errorf("scale: connect: %w", err)
	}
	defer mon.Close()

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var n int
			var longest time.Duration
			err := mon.QueryRow(ctx, `
SELECT count(*), coalesce(max(clock_timestamp() - state_change), '0')
FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n, &longest)
			if err != nil {
				continue
			}
			if n > 0 {
				r.LockWaiters++
				r.MaxLockWait = max(r.MaxLockWait, longest)
			}
		}
	}()
	store := postgres.New(pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now()
	r.Removed, err = store.DeleteExpiredRequests(ctx, before)
	r.Took = time.Since(start)
	close(done)
	wg.Wait()
	timer.mu.Lock()
	r.Statements = timer.times
	timer.mu.Unlock()
	if err != nil {
		return r, fmt.Errorf("scale: sweep: %w", err)
	}
	return r, nil
}
