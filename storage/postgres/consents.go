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
INSERT INTO consents (user_id, client_id, scopes, granted_at, authorization_details) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, granted_at = EXCLUDED.granted_at,
       authorization_details = EXCLUDED.authorization_details`,
		c.UserID, c.ClientID, strs(c.Scopes), c.GrantedAt, textOrNull(c.AuthorizationDetails))
	if err != nil {
		return fmt.Errorf("postgres: save consent of user %q for client %q: %w", c.UserID, c.ClientID, mapError(err))
	}
	return nil
}

// GetConsent returns the consent or ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (*storage.Consent, error) {
	var c storage.Consent
	err := s.q(ctx).QueryRow(ctx, `
SELECT user_id, client_id, scopes, granted_at, authorization_details FROM consents WHERE user_id = $1 AND client_id = $2`,
		userID, clientID).Scan(&c.UserID, &c.ClientID, &c.Scopes, &c.GrantedAt, (*nullText)(&c.AuthorizationDetails))
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

// textOrNull stores b as text, or NULL when it is empty.
func textOrNull(b []byte) *string {
	if len(b) == 0 {
		return nil
	}
	v := string(b)
	return &v
}

// nullText scans a nullable text column into a byte slice (nil for NULL).
type nullText []byte

// Scan implements sql.Scanner.
func (n *nullText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = nil
	case string:
		*n = []byte(v)
	case []byte:
		*n = append([]byte(nil), v...)
	default:
		return fmt.Errorf("nullText: cannot scan %T", src)
	}
	return nil
}
