package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.AuthorizationTypes = (*Store)(nil)

// CreateAuthorizationType inserts t; ErrAlreadyExists if the type is taken.
func (s *Store) CreateAuthorizationType(ctx context.Context, at *storage.AuthorizationType) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.authTypes[at.Type]; ok {
			return storage.ErrAlreadyExists
		}
		put(t, s.authTypes, at.Type, cloneAuthorizationType(*at))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create authorization type %q: %w", at.Type, err)
	}
	return nil
}

// GetAuthorizationType returns the type or ErrNotFound.
func (s *Store) GetAuthorizationType(ctx context.Context, typ string) (*storage.AuthorizationType, error) {
	var out storage.AuthorizationType
	err := s.read(ctx, func() error {
		at, ok := s.authTypes[typ]
		if !ok {
			return storage.ErrNotFound
		}
		out = cloneAuthorizationType(at)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get authorization type %q: %w", typ, err)
	}
	return &out, nil
}

// ListAuthorizationTypes returns every registered type ordered by name.
func (s *Store) ListAuthorizationTypes(ctx context.Context) ([]storage.AuthorizationType, error) {
	var out []storage.AuthorizationType
	err := s.read(ctx, func() error {
		for _, at := range s.authTypes {
			out = append(out, cloneAuthorizationType(at))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list authorization types: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.AuthorizationType) int { return strings.Compare(a.Type, b.Type) })
	return out, nil
}

// DeleteAuthorizationType removes the type; ErrNotFound if missing.
func (s *Store) DeleteAuthorizationType(ctx context.Context, typ string) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.authTypes[typ]; !ok {
			return storage.ErrNotFound
		}
		del(t, s.authTypes, typ)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete authorization type %q: %w", typ, err)
	}
	return nil
}
