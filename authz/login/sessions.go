package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// liveSession applies the idle timeout (Config.BrowserSessionIdleTimeout) and
// the absolute one (ExpiresAt, from Config.BrowserSessionLifespan) to a
// stored session. A session idle too long is ended (its clients are told
// through back-channel logout); an active one has its last use recorded,
// at most every touchInterval so that browsing does not write on every request.
func (s *Service) liveSession(ctx context.Context, bs *storage.BrowserSession) (*storage.BrowserSession, error) {
	now := s.now()
	if !now.Before(bs.ExpiresAt) {
		return nil, nil
	}
	idle, limit := now.Sub(bs.LastSeenAt), s.cfg.BrowserSessionIdleTimeout
	if limit <= 0 {
		return bs, nil // not configured (ApplyDefaults sets 30 min)
	}
	if idle > limit {
		err := s.sessions.EndSession(ctx, bs.UserID, bs.ID, authz.ActorSystem, "idle timeout")
		if err != nil && !errors.Is(err, authz.ErrSessionNotFound) {
			return nil, fmt.Errorf("end idle session: %w", err)
		}
		return nil, nil
	}
	if idle >= touchInterval(limit) {
		err := s.store.TouchBrowserSession(ctx, bs.ID, now)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("touch browser session: %w", err)
		}
		bs.LastSeenAt = now
	}
	return bs, nil
}

// touchInterval is how stale LastSeenAt may get before it is rewritten: a
// tenth of the idle timeout, at most a minute.
func touchInterval(idle time.Duration) time.Duration {
	return min(idle/10, time.Minute)
}

// replaceSession runs in the transaction of a login that created next. The
// browser's previous session (prevID, remembered by the flow) stops working at
// once: a new login always gets a new session id (no session fixation). When
// the same user logs in again (prompt=login, max_age), the clients of the old
// session carry over, so that their back-channel logout still comes when the
// new session ends; when another user logs in, the old session ends as if
// logged out.
func (s *Service) replaceSession(ctx context.Context, prevID string, next *storage.BrowserSession) error {
	if prevID == "" || prevID == next.ID {
		return nil
	}
	old, err := s.store.GetBrowserSession(ctx, prevID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get previous session: %w", err)
	}
	if old.UserID != next.UserID {
		return s.sessions.EndSessionInTx(ctx, old.UserID, prevID, authz.UserActor(next.UserID), "replaced by another user's login")
	}
	clients, err := s.store.ListSessionClients(ctx, prevID)
	if err != nil {
		return fmt.Errorf("list previous session clients: %w", err)
	}
	for _, c := range clients {
		if err := s.store.AddSessionClient(ctx, next.ID, c, s.now()); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("carry session client over: %w", err)
		}
	}
	if err := s.store.DeleteBrowserSession(ctx, prevID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("delete previous session: %w", err)
	}
	return nil
}

// firstParty reports whether the client is marked first-party
// (Metadata.SkipConsent): its users are not asked to consent, except when the
// client itself asks with prompt=consent.
func (s *Service) firstParty(ctx context.Context, clientID string) (bool, error) {
	c, err := s.clients.Get(ctx, clientID)
	if err != nil {
		return false, fmt.Errorf("get client: %w", err)
	}
	return c.Registration().Metadata.SkipConsent, nil
}
