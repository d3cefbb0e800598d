package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// Session ids are not put in error messages: they are hashes of a cookie.

const sessionColumns = `id, user_id, auth_time, amr, created_at, last_seen_at, expires_at`

// CreateBrowserSession inserts bs; ErrAlreadyExists if the id is taken,
// ErrNotFound if the user does not exist.
func (s *Store) CreateBrowserSession(ctx context.Context, bs *storage.BrowserSession) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO browser_sessions (`+sessionColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO NOTHING`,
		bs.ID, bs.UserID, bs.AuthTime, strs(bs.AMR), bs.CreatedAt, bs.LastSeenAt, bs.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: create browser session: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create browser session: %w", storage.ErrAlreadyExists)
	}
	return nil
}

// GetBrowserSession returns the unexpired session or ErrNotFound.
func (s *Store) GetBrowserSession(ctx context.Context, id string) (*storage.BrowserSession, error) {
	bs, err := scanSession(s.q(ctx).QueryRow(ctx, `
SELECT `+sessionColumns+` FROM browser_sessions WHERE id = $1 AND expires_at > now()`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: get browser session: %w", err)
	}
	return bs, nil
}

func scanSession(row pgx.Row) (*storage.BrowserSession, error) {
	var bs storage.BrowserSession
	err := row.Scan(&bs.ID, &bs.UserID, &bs.AuthTime, &bs.AMR, &bs.CreatedAt, &bs.LastSeenAt, &bs.ExpiresAt)
	if err != nil {
		return nil, mapError(err)
	}
	bs.AMR = nilIfEmpty(bs.AMR)
	bs.AuthTime = utc(bs.AuthTime)
	bs.CreatedAt = utc(bs.CreatedAt)
	bs.LastSeenAt = utc(bs.LastSeenAt)
	bs.ExpiresAt = utc(bs.ExpiresAt)
	return &bs, nil
}

// TouchBrowserSession sets LastSeenAt on the unexpired session.
func (s *Store) TouchBrowserSession(ctx context.Context, id string, at time.Time) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE browser_sessions SET last_seen_at = $2 WHERE id = $1 AND expires_at > now()`, id, at)
	if err != nil {
		return fmt.Errorf("postgres: touch browser session: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: touch browser session: %w", storage.ErrNotFound)
	}
	return nil
}

// DeleteBrowserSession removes the unexpired session; ErrNotFound if it is
// missing or expired.
func (s *Store) DeleteBrowserSession(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `
DELETE FROM browser_sessions WHERE id = $1 AND expires_at > now()`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete browser session: %w", mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete browser session: %w", storage.ErrNotFound)
	}
	return nil
}

// DeleteExpiredBrowserSessions removes the sessions that expired before the
// given time, in batches, and reports how many; the clients recorded on them
// go with them (ON DELETE CASCADE).
func (s *Store) DeleteExpiredBrowserSessions(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteExpired(ctx, "browser_sessions", "browser sessions", before)
}
