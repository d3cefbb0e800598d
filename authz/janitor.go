package authz

import (
	"context"
	"time"
)

// TokenJanitorInterval is how often each node deletes expired token rows.
const TokenJanitorInterval = 10 * time.Minute

// janitorLeeway keeps rows a little past their expiry, so clock skew between
// nodes and the database never removes a row another node still accepts.
// Expired rows are never returned, so keeping them longer changes nothing.
const janitorLeeway = time.Minute

// SweepExpiredTokens deletes the fosite request rows (authorization codes,
// access and refresh tokens, PKCE, OIDC and PAR state) that expired more than
// a minute ago, and reports how many. The store deletes in bounded batches,
// so the token table's hot path is never blocked for long; several nodes may
// sweep at once.
func (p *Provider) SweepExpiredTokens(ctx context.Context) (int64, error) {
	return p.Store.DeleteExpiredRequests(ctx, p.now().Add(-janitorLeeway))
}

// RunTokenJanitor sweeps expired token rows at start and every interval
// until ctx ends.
func (p *Provider) RunTokenJanitor(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := p.SweepExpiredTokens(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.Log.Warn("expired token cleanup failed", "err", err)
		case n > 0:
			p.Log.Info("expired token cleanup", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
