package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// selectClients reads clients joined with their secrets, one row per secret
// (or one row with NULL secret columns for a client without secrets), in a
// single snapshot. scanClients folds the rows back into clients.
const selectClients = `
SELECT c.id, c.name, c.redirect_uris, c.post_logout_redirect_uris, c.grant_types,
       c.response_types, c.scopes, c.audience, c.public, c.token_endpoint_auth_method,
       c.require_par, c.jwks_uri, c.jwks, c.access_token_format,
       c.id_token_signed_response_alg, c.disabled, c.metadata, c.created_at, c.updated_at,
       s.position, s.id, s.hash, s.created_at, s.expires_at
FROM clients c
LEFT JOIN client_secrets s ON s.client_id = c.id`

// CreateClient inserts c and its secrets; ErrAlreadyExists if the id is taken.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
INSERT INTO clients (id, name, redirect_uris, post_logout_redirect_uris, grant_types,
                     response_types, scopes, audience, public, token_endpoint_auth_method,
                     require_par, jwks_uri, jwks, access_token_format,
                     id_token_signed_response_alg, disabled, created_at, updated_at, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT (id) DO NOTHING`,
			c.ID, c.Name, strs(c.RedirectURIs), strs(c.PostLogoutRedirectURIs), strs(c.GrantTypes),
			strs(c.ResponseTypes), strs(c.Scopes), strs(c.Audience), c.Public, c.TokenEndpointAuthMethod,
			c.RequirePAR, c.JWKSURI, nilIfEmpty(c.JWKS), c.AccessTokenFormat,
			c.IDTokenSignedResponseAlg, c.Disabled, c.CreatedAt, c.UpdatedAt, c.Metadata)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrAlreadyExists
		}
		if err := insertSecrets(ctx, tx, c.ID, c.Secrets); err != nil {
			return err
		}
		return notify(ctx, tx, storage.TopicClients, c.ID)
	})
	if err != nil {
		return fmt.Errorf("postgres: create client %q: %w", c.ID, err)
	}
	return nil
}

func insertSecrets(ctx context.Context, tx pgx.Tx, clientID string, secrets []storage.ClientSecret) error {
	for i, sec := range secrets {
		_, err := tx.Exec(ctx, `
INSERT INTO client_secrets (client_id, position, id, hash, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)`,
			clientID, i, sec.ID, sec.Hash, sec.CreatedAt, sec.ExpiresAt)
		if err != nil {
			return fmt.Errorf("insert secret: %w", mapError(err))
		}
	}
	return nil
}

// GetClient returns the client or ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := getClient(ctx, s.q(ctx), id, "")
	if err != nil {
		return nil, fmt.Errorf("postgres: get client %q: %w", id, err)
	}
	return c, nil
}

// getClient reads one client; lock is appended to the query (e.g. "FOR UPDATE OF c").
func getClient(ctx context.Context, q querier, id, lock string) (*storage.Client, error) {
	rows, err := q.Query(ctx, selectClients+` WHERE c.id = $1 ORDER BY s.position `+lock, id)
	if err != nil {
		return nil, mapError(err)
	}
	clients, err := scanClients(rows)
	if err != nil {
		return nil, err
	}
	if len(clients) == 0 {
		return nil, storage.ErrNotFound
	}
	return &clients[0], nil
}

// ListClients returns every client ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	rows, err := s.q(ctx).Query(ctx, selectClients+` ORDER BY c.id COLLATE "C", s.position`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", mapError(err))
	}
	clients, err := scanClients(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
	}
	return clients, nil
}

// scanClients reads the rows of selectClients, ordered by client id and
// secret position, into clients with their secrets.
func scanClients(rows pgx.Rows) ([]storage.Client, error) {
	defer rows.Close()
	var out []storage.Client
	for rows.Next() {
		var (
			c         storage.Client
			position  *int32
			secretID  *string
			hash      []byte
			createdAt *time.Time
			expiresAt *time.Time
		)
		err := rows.Scan(&c.ID, &c.Name, &c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes,
			&c.ResponseTypes, &c.Scopes, &c.Audience, &c.Public, &c.TokenEndpointAuthMethod,
			&c.RequirePAR, &c.JWKSURI, &c.JWKS, &c.AccessTokenFormat,
			&c.IDTokenSignedResponseAlg, &c.Disabled, &c.Metadata, &c.CreatedAt, &c.UpdatedAt,
			&position, &secretID, &hash, &createdAt, &expiresAt)
		if err != nil {
			return nil, mapError(err)
		}
		if n := len(out); n == 0 || out[n-1].ID != c.ID {
			c.RedirectURIs = nilIfEmpty(c.RedirectURIs)
			c.PostLogoutRedirectURIs = nilIfEmpty(c.PostLogoutRedirectURIs)
			c.GrantTypes = nilIfEmpty(c.GrantTypes)
			c.ResponseTypes = nilIfEmpty(c.ResponseTypes)
			c.Scopes = nilIfEmpty(c.Scopes)
			c.Audience = nilIfEmpty(c.Audience)
			c.JWKS = nilIfEmpty(c.JWKS)
			c.CreatedAt = utc(c.CreatedAt)
			c.UpdatedAt = utc(c.UpdatedAt)
			out = append(out, c)
		}
		if position != nil {
			last := &out[len(out)-1]
			last.Secrets = append(last.Secrets, storage.ClientSecret{
				ID:        *secretID,
				Hash:      nilIfEmpty(hash),
				CreatedAt: utc(*createdAt),
				ExpiresAt: utcPtr(expiresAt),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

// UpdateClient locks the client row, lets fn change a copy and writes it back
// with its secrets. fn must not change the id.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(c *storage.Client) error) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := getClient(ctx, tx, id, "FOR UPDATE OF c")
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		if c.ID != id {
			return errors.New("the update changed the client id")
		}
		_, err = tx.Exec(ctx, `
UPDATE clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4,
       grant_types = $5, response_types = $6, scopes = $7, audience = $8, public = $9,
       token_endpoint_auth_method = $10, require_par = $11, jwks_uri = $12, jwks = $13,
       access_token_format = $14, id_token_signed_response_alg = $15, disabled = $16,
       created_at = $17, updated_at = $18, metadata = $19
WHERE id = $1`,
			c.ID, c.Name, strs(c.RedirectURIs), strs(c.PostLogoutRedirectURIs),
			strs(c.GrantTypes), strs(c.ResponseTypes), strs(c.Scopes), strs(c.Audience), c.Public,
			c.TokenEndpointAuthMethod, c.RequirePAR, c.JWKSURI, nilIfEmpty(c.JWKS),
			c.AccessTokenFormat, c.IDTokenSignedResponseAlg, c.Disabled,
			c.CreatedAt, c.UpdatedAt, c.Metadata)
		if err != nil {
			return mapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM client_secrets WHERE client_id = $1`, id); err != nil {
			return fmt.Errorf("delete secrets: %w", mapError(err))
		}
		if err := insertSecrets(ctx, tx, id, c.Secrets); err != nil {
			return err
		}
		return notify(ctx, tx, storage.TopicClients, id)
	})
	if err != nil {
		return fmt.Errorf("postgres: update client %q: %w", id, err)
	}
	return nil
}

// DeleteClient removes the client; the schema cascades to its secrets,
// requests, auth flows and consents.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return notify(ctx, tx, storage.TopicClients, id)
	})
	if err != nil {
		return fmt.Errorf("postgres: delete client %q: %w", id, err)
	}
	return nil
}
