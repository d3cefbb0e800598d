package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// keysLock is the pg_advisory_xact_lock key that serializes writers of
// signing_keys across nodes (the ASCII bytes of "strongky").
const keysLock int64 = 0x7374726f6e676b79

const selectKeys = `
SELECT kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at,
       published_at, revoked_at
FROM signing_keys`

// CreateKey inserts k; ErrAlreadyExists if the kid is taken.
func (s *Store) CreateKey(ctx context.Context, k *storage.SigningKey) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLock); err != nil {
			return fmt.Errorf("lock: %w", mapError(err))
		}
		tag, err := tx.Exec(ctx, `
INSERT INTO signing_keys (kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at,
                          published_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (kid) DO NOTHING`,
			k.KID, k.Alg, k.State, k.PublicJWK, k.PrivateEnc, k.CreatedAt, k.ActivatedAt, k.RetiredAt,
			k.PublishedAt, k.RevokedAt)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrAlreadyExists
		}
		return notify(ctx, tx, storage.TopicKeys, k.KID)
	})
	if err != nil {
		return fmt.Errorf("postgres: create key %q: %w", k.KID, err)
	}
	return nil
}

// ListKeys returns every key, newest first (ties by kid).
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	keys, err := listKeys(ctx, s.q(ctx))
	if err != nil {
		return nil, fmt.Errorf("postgres: list keys: %w", err)
	}
	return keys, nil
}

func listKeys(ctx context.Context, q querier) ([]storage.SigningKey, error) {
	rows, err := q.Query(ctx, selectKeys+` ORDER BY created_at DESC, kid COLLATE "C"`)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []storage.SigningKey
	for rows.Next() {
		var k storage.SigningKey
		err := rows.Scan(&k.KID, &k.Alg, &k.State, &k.PublicJWK, &k.PrivateEnc,
			&k.CreatedAt, &k.ActivatedAt, &k.RetiredAt, &k.PublishedAt, &k.RevokedAt)
		if err != nil {
			return nil, mapError(err)
		}
		k.PublicJWK = nilIfEmpty(k.PublicJWK)
		k.PrivateEnc = nilIfEmpty(k.PrivateEnc)
		k.CreatedAt = utc(k.CreatedAt)
		k.ActivatedAt = utcPtr(k.ActivatedAt)
		k.RetiredAt = utcPtr(k.RetiredAt)
		k.PublishedAt = utcPtr(k.PublishedAt)
		k.RevokedAt = utcPtr(k.RevokedAt)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

// UpdateKeys runs fn on the current key set under an advisory lock that
// serializes it with every other UpdateKeys and CreateKey on any node, then
// upserts the keys fn returns and deletes the keys it was given and omitted.
// fn must not return two keys with the same kid. Called inside a
// transaction, the lock is held until that transaction ends.
func (s *Store) UpdateKeys(ctx context.Context, fn func(keys []storage.SigningKey) ([]storage.SigningKey, error)) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLock); err != nil {
			return fmt.Errorf("lock: %w", mapError(err))
		}
		old, err := listKeys(ctx, tx)
		if err != nil {
			return err
		}
		kept, err := fn(old)
		if err != nil {
			return err
		}
		if err := storage.CheckKeySet(kept); err != nil {
			return err
		}
		for _, k := range kept {
			_, err := tx.Exec(ctx, `
INSERT INTO signing_keys (kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at,
                          published_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (kid) DO UPDATE SET alg = EXCLUDED.alg, state = EXCLUDED.state,
       public_jwk = EXCLUDED.public_jwk, private_enc = EXCLUDED.private_enc,
       created_at = EXCLUDED.created_at, activated_at = EXCLUDED.activated_at,
       retired_at = EXCLUDED.retired_at, published_at = EXCLUDED.published_at,
       revoked_at = EXCLUDED.revoked_at`,
				k.KID, k.Alg, k.State, k.PublicJWK, k.PrivateEnc, k.CreatedAt, k.ActivatedAt, k.RetiredAt,
				k.PublishedAt, k.RevokedAt)
			if err != nil {
				return fmt.Errorf("upsert key %q: %w", k.KID, mapError(err))
			}
		}
		if omitted := storage.OmittedKIDs(old, kept); len(omitted) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE kid = ANY($1)`, omitted); err != nil {
				return fmt.Errorf("delete keys: %w", mapError(err))
			}
		}
		return notify(ctx, tx, storage.TopicKeys, "")
	})
	if err != nil {
		return fmt.Errorf("postgres: update keys: %w", err)
	}
	return nil
}
