package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.AuthorizationTypes = (*Store)(nil)

// CreateAuthorizationType inserts t; ErrAlreadyExists if the type is taken.
func (s *Store) CreateAuthorizationType(ctx context.Context, t *storage.AuthorizationType) error {
	tag, err := s.q(ctx).Exec(ctx, `
INSERT INTO authorization_types (type, schema, created_at, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (type) DO NOTHING`, t.Type, string(t.Schema), t.CreatedAt, t.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create authorization type %q: %w", t.Type, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create authorization type %q: %w", t.Type, storage.ErrAlreadyExists)
	}
	return nil
}

// GetAuthorizationType returns the type or ErrNotFound.
func (s *Store) GetAuthorizationType(ctx context.Context, typ string) (*storage.AuthorizationType, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT type, schema, created_at, updated_at FROM authorization_types WHERE type = $1`, typ)
	if err != nil {
		return nil, fmt.Errorf("postgres: get authorization type %q: %w", typ, mapError(err))
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanAuthorizationType)
	if err != nil {
		return nil, fmt.Errorf("postgres: get authorization type %q: %w", typ, mapError(err))
	}
	return &t, nil
}

// ListAuthorizationTypes returns every registered type ordered by name.
func (s *Store) ListAuthorizationTypes(ctx context.Context) ([]storage.AuthorizationType, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT type, schema, created_at, updated_at FROM authorization_types ORDER BY type`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list authorization types: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, scanAuthorizationType)
	if err != nil {
		return nil, fmt.Errorf("postgres: list authorization types: %w", mapError(err))
	}
	return nilIfEmpty(out), nil
}

// DeleteAuthorizationType removes the type; ErrNotFound if missing.
func (s *Store) DeleteAuthorizationType(ctx context.Context, typ string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM authorization_types WHERE type = $1`, typ)
	if err != nil {
		return fmt.Errorf("postgres: delete authorization type %q: %w", typ, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete authorization type %q: %w", typ, storage.ErrNotFound)
	}
	return nil
}

func scanAuthorizationType(row pgx.CollectableRow) (storage.AuthorizationType, error) {
	var t storage.AuthorizationType
	var schema string
	if err := row.Scan(&t.Type, &schema, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return t, err
	}
	t.Schema = []byte(schema)
	t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
	return t, nil
}
