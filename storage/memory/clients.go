package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strongroom/strongroom/storage"
)

// CreateClient inserts c with its secrets; ErrAlreadyExists if the id is taken.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.clients[c.ID]; ok {
			return storage.ErrAlreadyExists
		}
		put(t, s.clients, c.ID, cloneClient(*c))
		t.notify(storage.TopicClients, c.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create client %q: %w", c.ID, err)
	}
	return nil
}

// GetClient returns the client or ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	var out storage.Client
	err := s.read(ctx, func() error {
		c, ok := s.clients[id]
		if !ok {
			return storage.ErrNotFound
		}
		out = cloneClient(c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get client %q: %w", id, err)
	}
	return &out, nil
}

// ListClients returns every client ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	var out []storage.Client
	err := s.read(ctx, func() error {
		for _, c := range s.clients {
			out = append(out, cloneClient(c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list clients: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateClient lets fn change a copy of the client and stores it. fn must
// not change the id.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(c *storage.Client) error) error {
	err := s.write(ctx, func(t *txn) error {
		old, ok := s.clients[id]
		if !ok {
			return storage.ErrNotFound
		}
		c := cloneClient(old)
		if err := fn(&c); err != nil {
			return err
		}
		if c.ID != id {
			return errors.New("the update changed the client id")
		}
		put(t, s.clients, id, cloneClient(c))
		t.notify(storage.TopicClients, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: update client %q: %w", id, err)
	}
	return nil
}

// DeleteClient removes the client with its requests, auth flows and consents.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.clients[id]; !ok {
			return storage.ErrNotFound
		}
		del(t, s.clients, id)
		for k, r := range s.requests {
			if r.ClientID == id {
				del(t, s.requests, k)
			}
		}
		for k, f := range s.flows {
			if f.ClientID == id {
				del(t, s.flows, k)
			}
		}
		for k := range s.consents {
			if k.clientID == id {
				del(t, s.consents, k)
			}
		}
		t.notify(storage.TopicClients, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete client %q: %w", id, err)
	}
	return nil
}
