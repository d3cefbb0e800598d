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

// CreateRequestOnce records jti and inserts r in one statement: the
// request row is written only from the jti row's RETURNING, so a replay
// writes nothing, and the pair costs one round trip and (outside a
// transaction) one commit.
func (s *Store) CreateRequestOnce(ctx context.Context, r *storage.Request, jti string, exp time.Time) error {
	var jtis, rows int
	err := s.q(ctx).QueryRow(ctx, `
WITH j AS (
  INSERT INTO client_assertion_jtis (jti, expires_at) VALUES ($10, $11)
  ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
  WHERE client_assertion_jtis.expires_at <= now()
  RETURNING 1
), ins AS (
  INSERT INTO oauth2_requests (kind, signature, request_id, client_id, subject, active,
                               requested_at, expires_at, data)
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM j
  ON CONFLICT (kind, signature) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM ins)`,
		string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active,
		r.RequestedAt, r.ExpiresAt, nilIfEmpty(r.Data), jti, exp).Scan(&jtis, &rows)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: create %s request once: %w", r.Kind, mapError(err))
	case jtis == 0:
		return fmt.Errorf("postgres: create %s request once: jti %q: %w", r.Kind, jti, storage.ErrJTIUsed)
	case rows == 0:
		return fmt.Errorf("postgres: create %s request once: %w", r.Kind, storage.ErrAlreadyExists)
	}
	return nil
}
