package memory

import (
	"context"
	"fmt"

	"github.com/strongroom/strongroom/storage"
)

// SaveConsent inserts or replaces the consent for (UserID, ClientID);
// ErrNotFound if the user or the client does not exist.
func (s *Store) SaveConsent(ctx context.Context, c *storage.Consent) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.users[c.UserID]; !ok {
			return fmt.Errorf("user: %w", storage.ErrNotFound)
		}
		if _, ok := s.clients[c.ClientID]; !ok {
			return fmt.Errorf("client: %w", storage.ErrNotFound)
		}
		put(t, s.consents, consentKey{c.UserID, c.ClientID}, cloneConsent(*c))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: save consent of user %q for client %q: %w", c.UserID, c.ClientID, err)
	}
	return nil
}

// GetConsent returns the consent or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (*storage.Consent, error) {
	var out storage.Consent
	err := s.read(ctx, func() error {
		c, ok := s.consents[consentKey{userID, clientID}]
		if !ok {
			return storage.ErrNotFound
		}
		out = cloneConsent(c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: get consent of user %q for client %q: %w", userID, clientID, err)
	}
	return &out, nil
}

// DeleteConsent removes the consent; ErrNotFound if missing.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	err := s.write(ctx, func(t *txn) error {
		key := consentKey{userID, clientID}
		if _, ok := s.consents[key]; !ok {
			return storage.ErrNotFound
		}
		del(t, s.consents, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: delete consent of user %q for client %q: %w", userID, clientID, err)
	}
	return nil
}
