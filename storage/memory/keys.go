package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/strongroom/strongroom/storage"
)

// CreateKey inserts k; ErrAlreadyExists if the kid is taken.
func (s *Store) CreateKey(ctx context.Context, k *storage.SigningKey) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.keys[k.KID]; ok {
			return storage.ErrAlreadyExists
		}
		put(t, s.keys, k.KID, cloneKey(*k))
		t.notify(storage.TopicKeys, k.KID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create key %q: %w", k.KID, err)
	}
	return nil
}

// ListKeys returns every key, newest first (ties by kid).
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	var out []storage.SigningKey
	err := s.read(ctx, func() error {
		out = s.listKeys()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list keys: %w", err)
	}
	return out, nil
}

// listKeys copies the keys out in ListKeys order. The caller holds s.mu.
func (s *Store) listKeys() []storage.SigningKey {
	var out []storage.SigningKey
	for _, k := range s.keys {
		out = append(out, cloneKey(k))
	}
	slices.SortFunc(out, func(a, b storage.SigningKey) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.KID, b.KID))
	})
	return out
}

// UpdateKeys runs fn on a copy of the key set, then upserts the keys fn
// returns and deletes the keys it was given and omitted, atomically.
func (s *Store) UpdateKeys(ctx context.Context, fn func(keys []storage.SigningKey) ([]storage.SigningKey, error)) error {
	err := s.write(ctx, func(t *txn) error {
		old := s.listKeys()
		kept, err := fn(old)
		if err != nil {
			return err
		}
		if err := storage.CheckKeySet(kept); err != nil {
			return err
		}
		for _, k := range kept {
			put(t, s.keys, k.KID, cloneKey(k))
		}
		for _, kid := range storage.OmittedKIDs(old, kept) {
			del(t, s.keys, kid)
		}
		t.notify(storage.TopicKeys, "")
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update keys: %w", err)
	}
	return nil
}
