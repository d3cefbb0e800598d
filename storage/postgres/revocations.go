package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// RevokeGrant records g and publishes it on storage.TopicRevokedGrants in
// one transaction: Postgres delivers the notification when (and only if)
// the row is committed. An entry already there keeps the later expiry.
func (s *Store) RevokeGrant(ctx context.Context, g storage.RevokedGrant) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
INSERT INTO revoked_grants (grant_id, client_id, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (grant_id) DO UPDATE SET expires_at = GREATEST(revoked_grants.expires_at, EXCLUDED.expires_at)`,
			g.GrantID, g.ClientID, g.ExpiresAt); err != nil {
			return mapError(err)
		}
		return notify(ctx, tx, storage.TopicRevokedGrants, g.Payload())
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke grant: %w", err)
	}
	return nil
}

// ListRevokedGrants returns the unexpired entries.
func (s *Store) ListRevokedGrants(ctx context.Context) ([]storage.RevokedGrant, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT grant_id, client_id, expires_at FROM revoked_grants WHERE expires_at > now()`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list revoked grants: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.RevokedGrant, error) {
		var g storage.RevokedGrant
		err := row.Scan(&g.GrantID, &g.ClientID, &g.ExpiresAt)
		g.ExpiresAt = g.ExpiresAt.UTC()
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list revoked grants: %w", mapError(err))
	}
	return out, nil
}

// IsGrantRevoked reports whether grantID has an unexpired entry.
func (s *Store) IsGrantRevoked(ctx context.Context, grantID string) (bool, error) {
	var revoked bool
	err := s.q(ctx).QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM revoked_grants WHERE grant_id = $1 AND expires_at > now())`, grantID).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("postgres: read revoked grant: %w", mapError(err))
	}
	return revoked, nil
}

// DeleteExpiredRevokedGrants removes the entries that expired before the
// given time, in batches, and reports how many.
func (s *Store) DeleteExpiredRevokedGrants(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteExpired(ctx, "revoked_grants", "revoked grants", before)
}
