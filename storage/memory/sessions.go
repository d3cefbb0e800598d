package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// CreateBrowserSession inserts bs; ErrAlreadyExists if the id is taken,
// ErrNotFound if the user does not exist.
func (s *Store) CreateBrowserSession(ctx context.Context, bs *storage.BrowserSession) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.sessions[bs.ID]; ok {
			return storage.ErrAlreadyExists
		}
		if _, ok := s.users[bs.UserID]; !ok {
			return fmt.Errorf("user %q: %w", bs.UserID, storage.ErrNotFound)
		}
		put(t, s.sessions, bs.ID, cloneSession(*bs))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create browser session: %w", err)
	}
	return nil
}

// GetBrowserSession returns the unexpired session or ErrNotFound.
func (s *Store) GetBrowserSession(ctx context.Context, id string) (*storage.BrowserSession, error) {
	var out storage.BrowserSession
	err := s.read(ctx, func() error {
		bs, ok := s.sessions[id]
		if !ok || !s.live(bs.ExpiresAt) {
			return storage.ErrNotFound
		}
		out = cloneSession(bs)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get browser session: %w", err)
	}
	return &out, nil
}

// TouchBrowserSession sets LastSeenAt on the unexpired session.
func (s *Store) TouchBrowserSession(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		bs, ok := s.sessions[id]
		if !ok || !s.live(bs.ExpiresAt) {
			return storage.ErrNotFound
		}
		bs.LastSeenAt = tm(at)
		put(t, s.sessions, id, bs)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: touch browser session: %w", err)
	}
	return nil
}

// DeleteBrowserSession removes the unexpired session; ErrNotFound if it is
// missing or expired.
func (s *Store) DeleteBrowserSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(t *txn) error {
		if bs, ok := s.sessions[id]; !ok || !s.live(bs.ExpiresAt) {
			return storage.ErrNotFound
		}
		del(t, s.sessions, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete browser session: %w", err)
	}
	return nil
}

// DeleteExpiredBrowserSessions removes the sessions that expired before the
// given time and reports how many; the clients recorded on sessions that are
// gone go with them (the cascade of the SQL schema).
func (s *Store) DeleteExpiredBrowserSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for id, bs := range s.sessions {
			if bs.ExpiresAt.Before(before) {
				del(t, s.sessions, id)
				n++
			}
		}
		for key := range s.logout.sessionClients {
			if _, ok := s.sessions[key.sessionID]; !ok {
				del(t, s.logout.sessionClients, key)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: delete expired browser sessions: %w", err)
	}
	return n, nil
}
