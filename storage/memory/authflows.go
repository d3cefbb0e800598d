package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// CreateAuthFlow inserts f; ErrAlreadyExists if the id is taken, ErrNotFound
// if the client does not exist.
func (s *Store) CreateAuthFlow(ctx context.Context, f *storage.AuthFlow) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.flows[f.ID]; ok {
			return storage.ErrAlreadyExists
		}
		if _, ok := s.clients[f.ClientID]; !ok {
			return fmt.Errorf("client %q: %w", f.ClientID, storage.ErrNotFound)
		}
		put(t, s.flows, f.ID, cloneFlow(*f))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create auth flow: %w", err)
	}
	return nil
}

// GetAuthFlow returns the unexpired flow or ErrNotFound.
func (s *Store) GetAuthFlow(ctx context.Context, id string) (*storage.AuthFlow, error) {
	var out storage.AuthFlow
	err := s.read(ctx, func() error {
		f, ok := s.flows[id]
		if !ok || !s.live(f.ExpiresAt) {
			return storage.ErrNotFound
		}
		out = cloneFlow(f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get auth flow: %w", err)
	}
	return &out, nil
}

// UpdateAuthFlow records the login (Subject, AuthTime, SessionID) on the
// unexpired flow f.ID; the other fields are fixed at creation.
func (s *Store) UpdateAuthFlow(ctx context.Context, f *storage.AuthFlow) error {
	err := s.write(ctx, func(t *txn) error {
		old, ok := s.flows[f.ID]
		if !ok || !s.live(old.ExpiresAt) {
			return storage.ErrNotFound
		}
		old.Subject = f.Subject
		old.AuthTime = tmPtr(f.AuthTime)
		old.SessionID = f.SessionID
		put(t, s.flows, f.ID, old)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update auth flow: %w", err)
	}
	return nil
}

// ConsumeAuthFlow deletes the unexpired flow and returns it; ErrNotFound if
// it is missing or expired.
func (s *Store) ConsumeAuthFlow(ctx context.Context, id string) (*storage.AuthFlow, error) {
	var out storage.AuthFlow
	err := s.write(ctx, func(t *txn) error {
		f, ok := s.flows[id]
		if !ok || !s.live(f.ExpiresAt) {
			return storage.ErrNotFound
		}
		del(t, s.flows, id)
		out = cloneFlow(f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: consume auth flow: %w", err)
	}
	return &out, nil
}

// DeleteExpiredAuthFlows removes the flows that expired before the given
// time and reports how many; the pending logins of flows that are gone go
// with them (the cascade of the SQL schema).
func (s *Store) DeleteExpiredAuthFlows(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for id, f := range s.flows {
			if f.ExpiresAt.Before(before) {
				del(t, s.flows, id)
				n++
			}
		}
		for id := range s.mfa.pending {
			if _, ok := s.flows[id]; !ok {
				del(t, s.mfa.pending, id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: delete expired auth flows: %w", err)
	}
	return n, nil
}
