package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// CreateRequest inserts r; ErrAlreadyExists if (kind, signature) is taken
// (even by an expired row not yet deleted), ErrNotFound if the client does
// not exist.
func (s *Store) CreateRequest(ctx context.Context, r *storage.Request) error {
	err := s.write(ctx, func(t *txn) error {
		key := requestKey{r.Kind, r.Signature}
		if _, ok := s.requests[key]; ok {
			return storage.ErrAlreadyExists
		}
		if _, ok := s.clients[r.ClientID]; !ok {
			return fmt.Errorf("client %q: %w", r.ClientID, storage.ErrNotFound)
		}
		put(t, s.requests, key, cloneRequest(*r))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create %s request: %w", r.Kind, err)
	}
	return nil
}

// GetRequest returns the unexpired row, together with ErrInactive when it
// has been deactivated.
func (s *Store) GetRequest(ctx context.Context, kind storage.RequestKind, signature string) (*storage.Request, error) {
	var out storage.Request
	err := s.read(ctx, func() error {
		r, ok := s.requests[requestKey{kind, signature}]
		if !ok || !s.live(r.ExpiresAt) {
			return storage.ErrNotFound
		}
		out = cloneRequest(r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get %s request: %w", kind, err)
	}
	if !out.Active {
		return &out, fmt.Errorf("memory: get %s request: %w", kind, storage.ErrInactive)
	}
	return &out, nil
}

// DeleteRequest removes the unexpired row; ErrNotFound if it is missing or
// expired (expired rows are left to DeleteExpiredRequests).
func (s *Store) DeleteRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	err := s.write(ctx, func(t *txn) error {
		key := requestKey{kind, signature}
		if r, ok := s.requests[key]; !ok || !s.live(r.ExpiresAt) {
			return storage.ErrNotFound
		}
		del(t, s.requests, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete %s request: %w", kind, err)
	}
	return nil
}

// DeactivateRequest marks an active, unexpired row inactive; ErrInactive if
// it already was.
func (s *Store) DeactivateRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	err := s.write(ctx, func(t *txn) error {
		key := requestKey{kind, signature}
		r, ok := s.requests[key]
		switch {
		case !ok || !s.live(r.ExpiresAt):
			return storage.ErrNotFound
		case !r.Active:
			return storage.ErrInactive
		}
		r.Active = false
		r.DeactivatedAt = s.now().UTC()
		put(t, s.requests, key, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: deactivate %s request: %w", kind, err)
	}
	return nil
}

// RevokeRequestID deactivates every row of kind that belongs to requestID.
func (s *Store) RevokeRequestID(ctx context.Context, kind storage.RequestKind, requestID string) error {
	err := s.write(ctx, func(t *txn) error {
		s.deactivateRequests(t, func(key requestKey, r storage.Request) bool {
			return key.kind == kind && r.RequestID == requestID
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: revoke %s requests of grant %q: %w", kind, requestID, err)
	}
	return nil
}

// DeleteExpiredRequests removes rows that expired before the given time and
// reports how many.
func (s *Store) DeleteExpiredRequests(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for key, r := range s.requests {
			if r.ExpiresAt.Before(before) {
				del(t, s.requests, key)
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: delete expired requests: %w", err)
	}
	return n, nil
}

// deactivateRequests marks inactive every active row that match selects and
// reports how many. The caller holds the write transaction t.
func (s *Store) deactivateRequests(t *txn, match func(key requestKey, r storage.Request) bool) int64 {
	var n int64
	for key, r := range s.requests {
		if r.Active && match(key, r) {
			r.Active = false
			r.DeactivatedAt = s.now().UTC()
			put(t, s.requests, key, r)
			n++
		}
	}
	return n
}

// deactivateGrants deactivates the active codes, access tokens and refresh
// tokens that match selects and reports how many; rows of other kinds (OpenID,
// PKCE, PAR) are left alone.
func (s *Store) deactivateGrants(t *txn, match func(r storage.Request) bool) int64 {
	return s.deactivateRequests(t, func(key requestKey, r storage.Request) bool {
		switch key.kind {
		case storage.KindAuthorizeCode, storage.KindAccessToken, storage.KindRefreshToken:
			return match(r)
		}
		return false
	})
}
