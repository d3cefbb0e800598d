package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// RevokeGrant records g (keeping the later expiry of an entry already
// there) and publishes it on storage.TopicRevokedGrants on commit.
func (s *Store) RevokeGrant(ctx context.Context, g storage.RevokedGrant) error {
	err := s.write(ctx, func(t *txn) error {
		g.ExpiresAt = tm(g.ExpiresAt)
		if old, ok := s.revoked[g.GrantID]; ok && old.ExpiresAt.After(g.ExpiresAt) {
			g.ExpiresAt = old.ExpiresAt
		}
		put(t, s.revoked, g.GrantID, g)
		t.notify(storage.TopicRevokedGrants, g.Payload())
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: revoke grant: %w", err)
	}
	return nil
}

// ListRevokedGrants returns the unexpired entries.
func (s *Store) ListRevokedGrants(context.Context) ([]storage.RevokedGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.RevokedGrant
	for _, g := range s.revoked {
		if s.live(g.ExpiresAt) {
			out = append(out, g)
		}
	}
	return out, nil
}

// IsGrantRevoked reports whether grantID has an unexpired entry.
func (s *Store) IsGrantRevoked(_ context.Context, grantID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.revoked[grantID]
	return ok && s.live(g.ExpiresAt), nil
}

// DeleteExpiredRevokedGrants removes the entries that expired before the
// given time and reports how many.
func (s *Store) DeleteExpiredRevokedGrants(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for id, g := range s.revoked {
			if g.ExpiresAt.Before(before) {
				del(t, s.revoked, id)
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: delete expired revoked grants: %w", err)
	}
	return n, nil
}
