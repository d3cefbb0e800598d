package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// UseJTI records jti until exp in one atomic statement. The upsert only
// overwrites a row that has already expired, so of several concurrent callers
// exactly one affects a row; a replay affects none and gets ErrAlreadyExists.
func (s *Store) UseJTI(ctx context.Context, jti string, exp time.Time) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO client_assertion_jtis (jti, expires_at) VALUES ($1, $2)
ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
WHERE client_assertion_jtis.expires_at <= now()`, jti, exp)
	if err != nil {
		return fmt.Errorf("postgres: use jti %q: %w", jti, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: use jti %q: replayed: %w", jti, storage.ErrAlreadyExists)
	}
	return nil
}

// DeleteExpiredJTIs removes the records that expired before the given time,
// in batches, and reports how many.
func (s *Store) DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteExpired(ctx, "client_assertion_jtis", "client assertion ids", before)
}
