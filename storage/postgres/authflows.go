package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// Flow ids are not put in error messages: they are hashes of a bearer
// challenge, and logs don't need them.

const authFlowColumns = `id, client_id, form, subject, auth_time, session_id, binding, created_at, expires_at`

// CreateAuthFlow inserts f; ErrAlreadyExists if the id is taken, ErrNotFound
// if the client does not exist.
func (s *Store) CreateAuthFlow(ctx context.Context, f *storage.AuthFlow) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO auth_flows (`+authFlowColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO NOTHING`,
		f.ID, f.ClientID, nilIfEmpty(f.Form), f.Subject, f.AuthTime, f.SessionID, f.Binding, f.CreatedAt, f.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: create auth flow: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create auth flow: %w", storage.ErrAlreadyExists)
	}
	return nil
}

// GetAuthFlow returns the unexpired flow or ErrNotFound.
func (s *Store) GetAuthFlow(ctx context.Context, id string) (*storage.AuthFlow, error) {
	f, err := scanAuthFlow(s.q(ctx).QueryRow(ctx, `
SELECT `+authFlowColumns+` FROM auth_flows WHERE id = $1 AND expires_at > now()`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: get auth flow: %w", err)
	}
	return f, nil
}

// UpdateAuthFlow records the login (Subject, AuthTime, SessionID) on the
// unexpired flow f.ID; the other fields are fixed at creation.
func (s *Store) UpdateAuthFlow(ctx context.Context, f *storage.AuthFlow) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE auth_flows SET subject = $2, auth_time = $3, session_id = $4
WHERE id = $1 AND expires_at > now()`,
		f.ID, f.Subject, f.AuthTime, f.SessionID)
	if err != nil {
		return fmt.Errorf("postgres: update auth flow: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: update auth flow: %w", storage.ErrNotFound)
	}
	return nil
}

// ConsumeAuthFlow deletes the unexpired flow and returns it. DELETE ...
// RETURNING gives the row to exactly one of several concurrent callers: the
// others block on its row lock, then find it gone.
func (s *Store) ConsumeAuthFlow(ctx context.Context, id string) (*storage.AuthFlow, error) {
	f, err := scanAuthFlow(s.q(ctx).QueryRow(ctx, `
DELETE FROM auth_flows WHERE id = $1 AND expires_at > now()
RETURNING `+authFlowColumns, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: consume auth flow: %w", err)
	}
	return f, nil
}

func scanAuthFlow(row pgx.Row) (*storage.AuthFlow, error) {
	var f storage.AuthFlow
	err := row.Scan(&f.ID, &f.ClientID, &f.Form, &f.Subject, &f.AuthTime, &f.SessionID, &f.Binding,
		&f.CreatedAt, &f.ExpiresAt)
	if err != nil {
		return nil, mapError(err)
	}
	f.Form = nilIfEmpty(f.Form)
	f.AuthTime = utcPtr(f.AuthTime)
	f.CreatedAt = utc(f.CreatedAt)
	f.ExpiresAt = utc(f.ExpiresAt)
	return &f, nil
}

// DeleteExpiredAuthFlows removes the flows that expired before the given
// time, in batches, and reports how many; their pending logins go with them
// (ON DELETE CASCADE).
func (s *Store) DeleteExpiredAuthFlows(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteExpired(ctx, "auth_flows", "auth flows", before)
}
