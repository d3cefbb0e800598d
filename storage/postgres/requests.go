package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Signatures are not put in error messages: together with the key part they
// make up a token.

// CreateRequest inserts r; ErrAlreadyExists if (kind, signature) is taken,
// ErrNotFound if the client does not exist.
func (s *Store) CreateRequest(ctx context.Context, r *storage.Request) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO oauth2_requests (kind, signature, request_id, client_id, subject, active,
                             requested_at, expires_at, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (kind, signature) DO NOTHING`,
		string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active,
		r.RequestedAt, r.ExpiresAt, nilIfEmpty(r.Data))
	if err != nil {
		return fmt.Errorf("postgres: create %s request: %w", r.Kind, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create %s request: %w", r.Kind, storage.ErrAlreadyExists)
	}
	return nil
}

// GetRequest returns the unexpired row, together with ErrInactive when it
// has been deactivated.
func (s *Store) GetRequest(ctx context.Context, kind storage.RequestKind, signature string) (*storage.Request, error) {
	var r storage.Request
	var k string
	var deactivated *time.Time
	err := s.q(ctx).QueryRow(ctx, `
SELECT kind, signature, request_id, client_id, subject, active, requested_at, expires_at, data, deactivated_at
FROM oauth2_requests
WHERE kind = $1 AND signature = $2 AND expires_at > now()`,
		string(kind), signature).Scan(&k, &r.Signature, &r.RequestID, &r.ClientID, &r.Subject,
		&r.Active, &r.RequestedAt, &r.ExpiresAt, &r.Data, &deactivated)
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s request: %w", kind, mapError(err))
	}
	r.Kind = storage.RequestKind(k)
	r.RequestedAt = utc(r.RequestedAt)
	r.ExpiresAt = utc(r.ExpiresAt)
	r.Data = nilIfEmpty(r.Data)
	if deactivated != nil {
		r.DeactivatedAt = utc(*deactivated)
	}
	if !r.Active {
		return &r, fmt.Errorf("postgres: get %s request: %w", kind, storage.ErrInactive)
	}
	return &r, nil
}

// DeleteRequest removes the unexpired row; ErrNotFound if it is missing or
// expired (expired rows are left to DeleteExpiredRequests).
func (s *Store) DeleteRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	tag, err := s.q(ctx).Exec(ctx, `
DELETE FROM oauth2_requests WHERE kind = $1 AND signature = $2 AND expires_at > now()`,
		string(kind), signature)
	if err != nil {
		return fmt.Errorf("postgres: delete %s request: %w", kind, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete %s request: %w", kind, storage.ErrNotFound)
	}
	return nil
}

// DeactivateRequest marks an active, unexpired row inactive. The conditional
// UPDATE makes exactly one of several concurrent callers win: a loser blocks
// on the winner's row lock, then finds the row inactive and gets ErrInactive.
func (s *Store) DeactivateRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	q := s.q(ctx)
	tag, err := q.Exec(ctx, `
UPDATE oauth2_requests SET active = false, deactivated_at = now()
WHERE kind = $1 AND signature = $2 AND active AND expires_at > now()`,
		string(kind), signature)
	if err != nil {
		return fmt.Errorf("postgres: deactivate %s request: %w", kind, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing matched: say why.
	var active bool
	err = q.QueryRow(ctx, `
SELECT active FROM oauth2_requests
WHERE kind = $1 AND signature = $2 AND expires_at > now()`,
		string(kind), signature).Scan(&active)
	switch {
	case err != nil:
		err = mapError(err)
	case !active:
		err = storage.ErrInactive
	default:
		// Active again after our UPDATE matched nothing: a concurrent writer
		// replaced the row in between.
		err = storage.ErrConflict
	}
	return fmt.Errorf("postgres: deactivate %s request: %w", kind, err)
}

// RevokeRequestID deactivates every row of kind that belongs to requestID.
func (s *Store) RevokeRequestID(ctx context.Context, kind storage.RequestKind, requestID string) error {
	_, err := s.q(ctx).Exec(ctx, `
UPDATE oauth2_requests SET active = false, deactivated_at = now()
WHERE request_id = $1 AND kind = $2 AND active`,
		requestID, string(kind))
	if err != nil {
		return fmt.Errorf("postgres: revoke %s requests of grant %q: %w", kind, requestID, mapError(err))
	}
	return nil
}

// deleteExpiredBatch bounds each DELETE of the janitor's sweeps so that
// cleaning up a large backlog never holds many row locks or one long
// transaction on a hot table.
const deleteExpiredBatch = 5000

// DeleteExpiredRequests removes rows that expired before the given time, in
// batches, and reports how many.
func (s *Store) DeleteExpiredRequests(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteExpired(ctx, "oauth2_requests", "requests", before)
}

// deleteExpired deletes the rows of table whose expires_at is before the
// given time, deleteExpiredBatch rows per statement, until a statement
// deletes fewer. Rows locked by a request in flight are skipped (SKIP
// LOCKED), never waited for: the next sweep takes them. table is one of our
// constant table names, never input.
func (s *Store) deleteExpired(ctx context.Context, table, what string, before time.Time) (int64, error) {
	q := s.q(ctx)
	var total int64
	for {
		tag, err := q.Exec(ctx, `
DELETE FROM `+table+`
WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM `+table+` WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
			before, deleteExpiredBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: delete expired %s: %w", what, mapError(err))
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < deleteExpiredBatch {
			return total, nil
		}
	}
}
