package postgres

import (
	"context"
	"fmt"

	"github.com/strongroom/strongroom/storage"
)

// SaveConsent inserts or replaces the consent for (UserID, ClientID);
// ErrNotFound if the user or the client does not exist.
func (s *Store) SaveConsent(ctx context.Context, c *storage.Consent) error {
	_, err := s.q(ctx).Exec(ctx, `
INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, granted_at = EXCLUDED.granted_at`,
		c.UserID, c.ClientID, strs(c.Scopes), c.GrantedAt)
	if err != nil {
		return fmt.Errorf("postgres: save consent of user %q for client %q: %w", c.UserID, c.ClientID, mapError(err))
	}
	return nil
}

// GetConsent returns the consent or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (*storage.Consent, error) {
	var c storage.Consent
	err := s.q(ctx).QueryRow(ctx, `
SELECT user_id, client_id, scopes, granted_at FROM consents WHERE user_id = $1 AND client_id = $2`,
		userID, clientID).Scan(&c.UserID, &c.ClientID, &c.Scopes, &c.GrantedAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: get consent of user %q for client %q: %w", userID, clientID, mapError(err))
	}
	c.Scopes = nilIfEmpty(c.Scopes)
	c.GrantedAt = utc(c.GrantedAt)
	return &c, nil
}

// DeleteConsent removes the consent; ErrNotFound if missing.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	if err != nil {
		return fmt.Errorf("postgres: delete consent of user %q for client %q: %w", userID, clientID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete consent of user %q for client %q: %w", userID, clientID, storage.ErrNotFound)
	}
	return nil
}
