package janitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Interval is how often each node deletes expired rows.
const Interval = 10 * time.Minute

// janitorLeeway keeps rows a little past their expiry, so clock skew between
// nodes and the database never removes a row another node still accepts.
// Expired rows are never returned, so keeping them longer changes nothing.
const janitorLeeway = time.Minute

// Janitor deletes expired rows: codes and tokens, pending flows, client
// assertion jtis and browser sessions. Every node may run it: deletes are
// idempotent.
type Janitor struct {
	Store storage.Store
	Now   func() time.Time
	Log   *slog.Logger
	// Metrics, when set, counts every sweep Run makes (metrics.Metrics).
	Metrics Metrics
}

// Metrics receives the result of each sweep: the rows deleted per kind
// (Sweep's map) and its error, if any.
type Metrics interface {
	JanitorSwept(removed map[string]int64, err error)
}

// SweepTokens deletes the fosite request rows (authorization codes,
// access and refresh tokens, PKCE, OIDC and PAR state) that expired more than
// a minute ago, and reports how many. The store deletes in bounded batches,
// so the token table's hot path is never blocked for long; several nodes may
// sweep at once.
func (j *Janitor) SweepTokens(ctx context.Context) (int64, error) {
	return j.Store.DeleteExpiredRequests(ctx, j.Now().Add(-janitorLeeway))
}

// Sweep deletes every row that traffic creates and that nothing else
// removes once it has expired (a minute of leeway past expiry):
//   - fosite requests: codes, tokens, PKCE, OIDC and PAR state (SweepExpiredTokens);
//   - pending authorization flows (one per /authorize that needs a login or
//     consent and is never finished), with their pending second-factor logins;
//   - client-assertion JWT ids (one per private_key_jwt authentication);
//   - browser sessions past their absolute lifetime, with the clients
//     recorded on them (sessions that are logged out or replaced are
//     deleted at once; an idle session ends when next used, or here);
//   - grant revocation list entries of stateless JWT access tokens that
//     have expired (the tokens they revoked have expired too).
//
// Login-throttle counters have their own cleanup (RunThrottleCleanup);
// back-channel logout deliveries are deleted once sent or given up (a
// bounded number of attempts); audit events are kept by design (the audit
// trail is evidence: retention is the operator's, never the janitor's).
// Each sweep runs on its own, in bounded batches that skip rows a request
// holds locked; one failing does not stop the others. It reports how many
// rows it deleted per kind.
func (j *Janitor) Sweep(ctx context.Context) (map[string]int64, error) {
	before := j.Now().Add(-janitorLeeway)
	sweeps := []struct {
		what string
		del  func(context.Context, time.Time) (int64, error)
	}{
		{"tokens", j.Store.DeleteExpiredRequests},
		{"auth_flows", j.Store.DeleteExpiredAuthFlows},
		{"client_assertion_jtis", j.Store.DeleteExpiredJTIs},
		{"browser_sessions", j.Store.DeleteExpiredBrowserSessions},
		{"revoked_grants", j.Store.DeleteExpiredRevokedGrants},
	}
	removed := make(map[string]int64, len(sweeps))
	var errs []error
	for _, s := range sweeps {
		n, err := s.del(ctx, before)
		removed[s.what] = n
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep expired %s: %w", s.what, err))
		}
	}
	return removed, errors.Join(errs...)
}

// Run sweeps expired rows (SweepExpired) at start and every
// interval until ctx ends. Every node runs it: the deletes are idempotent.
func (j *Janitor) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		removed, err := j.Sweep(ctx)
		if j.Metrics != nil && (err == nil || ctx.Err() == nil) {
			j.Metrics.JanitorSwept(removed, err)
		}
		if err != nil && ctx.Err() == nil {
			j.Log.Warn("expired row cleanup failed", "err", err)
		}
		for what, n := range removed {
			if n > 0 {
				j.Log.Info("expired row cleanup", "table", what, "removed", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
