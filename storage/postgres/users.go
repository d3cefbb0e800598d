package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

const selectUsers = `
SELECT id, username, email, email_verified, name, given_name, family_name,
       phone_number, phone_number_verified, password_hash, created_at, updated_at
FROM users`

// CreateUser inserts u; ErrAlreadyExists if the id or the username is taken.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO users (id, username, email, email_verified, name, given_name, family_name,
                   phone_number, phone_number_verified, password_hash, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT DO NOTHING`,
		u.ID, u.Username, u.Email, u.EmailVerified, u.Name, u.GivenName, u.FamilyName,
		u.PhoneNumber, u.PhoneNumberVerified, u.PasswordHash, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create user %q: %w", u.ID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create user %q: id or username taken: %w", u.ID, storage.ErrAlreadyExists)
	}
	return nil
}

// GetUser returns the user by id or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := scanUser(s.q(ctx).QueryRow(ctx, selectUsers+` WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserByUsername returns the user by username or ErrNotFound.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (*storage.User, error) {
	u, err := scanUser(s.q(ctx).QueryRow(ctx, selectUsers+` WHERE username = $1`, username))
	if err != nil {
		return nil, fmt.Errorf("postgres: get user by username %q: %w", username, err)
	}
	return u, nil
}

// ListUsers returns every user ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	rows, err := s.q(ctx).Query(ctx, selectUsers+` ORDER BY username COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", mapError(err))
	}
	defer rows.Close()
	var out []storage.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list users: %w", err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", mapError(err))
	}
	return out, nil
}

func scanUser(row pgx.Row) (*storage.User, error) {
	var u storage.User
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.EmailVerified, &u.Name, &u.GivenName,
		&u.FamilyName, &u.PhoneNumber, &u.PhoneNumberVerified, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, mapError(err)
	}
	u.CreatedAt = utc(u.CreatedAt)
	u.UpdatedAt = utc(u.UpdatedAt)
	return &u, nil
}

// DeleteUser removes the user; the schema cascades to their browser
// sessions (and their clients), consents, second factors and pending
// logins. Request rows and authorization flows name the user only as their
// subject, so they are deleted here, in the same transaction.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if id == "" {
		// subject '' is every client credentials token
		return fmt.Errorf("postgres: delete user: empty id: %w", storage.ErrNotFound)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := deleteUserFlows(ctx, tx, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		_, err = sweepUser(ctx, tx, `DELETE FROM oauth2_requests WHERE subject = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete user %q: %w", id, err)
	}
	return nil
}

// deleteUserFlows deletes the user's pending authorization flows: signed
// in (subject) or waiting for a second factor (pending_logins, which go
// with their flow).
func deleteUserFlows(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, `
DELETE FROM auth_flows
WHERE subject = $1 OR id IN (SELECT flow_id FROM pending_logins WHERE user_id = $1)`, userID)
	if err != nil {
		return fmt.Errorf("delete authorization flows: %w", mapError(err))
	}
	return nil
}

// maxSweepPasses bounds sweepUser; each pass after the first only finds
// tokens issued by a transaction the previous pass had to wait for.
const maxSweepPasses = 20

// sweepUser runs a statement over a user's request rows until it matches
// none, and reports how many rows it changed. Each statement of a READ
// COMMITTED transaction sees what committed before it started. A code
// exchange or refresh first deactivates one of the user's active rows
// (code, refresh token) and then inserts new ones, which one statement's
// snapshot misses: the statement waits for that lock, and the next pass
// sees the inserted rows. A pass that matches nothing proves no such
// transaction was in flight.
func sweepUser(ctx context.Context, tx pgx.Tx, sql string, args ...any) (int64, error) {
	var total int64
	for range maxSweepPasses {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return total, mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return total, nil
		}
		total += tag.RowsAffected()
	}
	return total, fmt.Errorf("tokens still being issued after %d passes: %w", maxSweepPasses, storage.ErrConflict)
}
