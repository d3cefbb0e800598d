package server

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/strongroom/strongroom/authz/janitor"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/throttle"
)

// revocationListInterval is how often the revocation list drops expired
// entries and, when not current, retries its subscription or reload.
const revocationListInterval = 30 * time.Second

// runWorkers starts the server's background work under one errgroup: the
// client cache's change subscription, the signing-key reload (Watch) and,
// when configured, automatic rotation, back-channel logout delivery, the
// login-throttle cleanup and the token janitor (expired codes and tokens
// are deleted on every node). Their context carries ctx's values but
// outlives its cancellation: the workers keep running while the listeners
// drain and finish their requests. The returned stop cancels them and
// waits until every one has returned (no rotation or delivery in flight
// when the store closes).
func (s *Server) runWorkers(ctx context.Context) (stop func() error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// The subscription is made before the listener serves, so that a
	// client changed from then on is never served stale from the cache;
	// the store delivers the notifications until ctx ends or it closes.
	if err := s.OAuth.Tokens.WatchClients(ctx); err != nil {
		s.log.Warn("client change notifications unavailable; relying on cache TTL", "err", err)
	}
	// Likewise the grant revocation list of stateless JWT access tokens:
	// loaded and subscribed before serving; not current, it reads the
	// database for every check until RunRevocations makes it current.
	if err := s.OAuth.Tokens.WatchRevocations(ctx); err != nil {
		s.log.Warn("revocation list not current; JWT checks read the database", "err", err)
	}
	interval := s.cfg.KeyReloadInterval
	if interval == 0 {
		interval = keys.DefaultReloadInterval
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { s.Keys.Watch(ctx, s.Store, interval); return nil })
	if s.cfg.KeyRotationInterval > 0 {
		g.Go(func() error { s.Keys.AutoRotate(ctx, s.cfg.KeyRotationInterval, s.cfg.Authz.IDTokenAlgs); return nil })
	}
	g.Go(func() error { s.Backchannel.Run(ctx, s.cfg.Backchannel); return nil })
	g.Go(func() error { s.Throttle.RunCleanup(ctx, throttle.CleanupInterval, s.log); return nil })
	g.Go(func() error { s.Janitor.Run(ctx, janitor.Interval); return nil })
	g.Go(func() error { s.OAuth.Tokens.RunRevocations(ctx, revocationListInterval); return nil })
	return func() error {
		cancel()
		return g.Wait()
	}
}
