package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/strongroom/strongroom/storage"
)

// CreateUser inserts u; ErrAlreadyExists if the id or the username is taken.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.users[u.ID]; ok {
			return fmt.Errorf("id or username taken: %w", storage.ErrAlreadyExists)
		}
		if _, ok := s.usernames[u.Username]; ok {
			return fmt.Errorf("id or username taken: %w", storage.ErrAlreadyExists)
		}
		put(t, s.users, u.ID, cloneUser(*u))
		put(t, s.usernames, u.Username, u.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create user %q: %w", u.ID, err)
	}
	return nil
}

// GetUser returns the user by id or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	var out storage.User
	err := s.read(ctx, func() error {
		u, ok := s.users[id]
		if !ok {
			return storage.ErrNotFound
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get user %q: %w", id, err)
	}
	return &out, nil
}

// GetUserByUsername returns the user by username or ErrNotFound.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (*storage.User, error) {
	var out storage.User
	err := s.read(ctx, func() error {
		id, ok := s.usernames[username]
		if !ok {
			return storage.ErrNotFound
		}
		out = s.users[id]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get user by username %q: %w", username, err)
	}
	return &out, nil
}

// ListUsers returns every user ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	var out []storage.User
	err := s.read(ctx, func() error {
		for _, u := range s.users {
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list users: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.User) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// DeleteUser removes the user with their browser sessions, consents,
// pending authorization flows and every request row whose subject they are.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	err := s.write(ctx, func(t *txn) error {
		u, ok := s.users[id]
		if !ok || id == "" {
			return storage.ErrNotFound
		}
		s.deleteUserFlows(t, id)
		del(t, s.users, id)
		del(t, s.usernames, u.Username)
		for k, bs := range s.sessions {
			if bs.UserID == id {
				del(t, s.sessions, k)
			}
		}
		for k := range s.consents {
			if k.userID == id {
				del(t, s.consents, k)
			}
		}
		for k, r := range s.requests {
			if r.Subject == id {
				del(t, s.requests, k)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete user %q: %w", id, err)
	}
	return nil
}

// deleteUserFlows deletes the user's pending authorization flows: signed in
// (Subject) or waiting for a second factor (a pending login, which goes
// with its flow). The caller holds s.mu.
func (s *Store) deleteUserFlows(t *txn, userID string) {
	for k, f := range s.flows {
		if p, ok := s.mfa.pending[k]; f.Subject == userID || ok && p.UserID == userID {
			del(t, s.flows, k)
			if ok {
				del(t, s.mfa.pending, k)
			}
		}
	}
}
