package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.Logout = (*Store)(nil)

// logoutState holds what storage.Logout adds. Rows that reference a session
// or client are dropped when read once their session or client is gone,
// matching PostgreSQL's ON DELETE CASCADE.
type logoutState struct {
	sessionClients map[sessionClientKey]time.Time
	deliveries     map[int64]storage.LogoutDelivery
	deliverySeq    int64
}

type sessionClientKey struct{ sessionID, clientID string }

func newLogoutState() logoutState {
	return logoutState{
		sessionClients: map[sessionClientKey]time.Time{},
		deliveries:     map[int64]storage.LogoutDelivery{},
	}
}

// ListBrowserSessions returns the user's unexpired sessions, newest first.
func (s *Store) ListBrowserSessions(ctx context.Context, userID string) ([]storage.BrowserSession, error) {
	var out []storage.BrowserSession
	err := s.read(ctx, func() error {
		for _, bs := range s.sessions {
			if bs.UserID == userID && s.live(bs.ExpiresAt) {
				out = append(out, cloneSession(bs))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list browser sessions of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b storage.BrowserSession) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// AddSessionClient records that the unexpired session logged in to the client.
func (s *Store) AddSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		if bs, ok := s.sessions[sessionID]; !ok || !s.live(bs.ExpiresAt) {
			return fmt.Errorf("browser session: %w", storage.ErrNotFound)
		}
		if _, ok := s.clients[clientID]; !ok {
			return fmt.Errorf("client: %w", storage.ErrNotFound)
		}
		key := sessionClientKey{sessionID, clientID}
		if _, ok := s.logout.sessionClients[key]; !ok {
			put(t, s.logout.sessionClients, key, tm(at))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: add client %q to browser session: %w", clientID, err)
	}
	return nil
}

// ListSessionClients returns the client ids recorded for the session, ordered by id.
func (s *Store) ListSessionClients(ctx context.Context, sessionID string) ([]string, error) {
	var out []string
	err := s.read(ctx, func() error {
		if _, ok := s.sessions[sessionID]; !ok {
			return nil
		}
		for key := range s.logout.sessionClients {
			if _, ok := s.clients[key.clientID]; ok && key.sessionID == sessionID {
				out = append(out, key.clientID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list clients of browser session: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// ListConsents returns the user's consents ordered by client id.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]storage.Consent, error) {
	var out []storage.Consent
	err := s.read(ctx, func() error {
		for key, c := range s.consents {
			if key.userID == userID {
				out = append(out, cloneConsent(c))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list consents of user %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b storage.Consent) int { return cmp.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

// RevokeRequestsBySubjectClient deactivates the active codes, access tokens
// and refresh tokens of subject at clientID and reports how many.
func (s *Store) RevokeRequestsBySubjectClient(ctx context.Context, subject, clientID string) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		n = s.deactivateGrants(t, func(r storage.Request) bool {
			return r.Subject == subject && r.ClientID == clientID
		})
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: revoke tokens of client %q for subject %q: %w", clientID, subject, err)
	}
	return n, nil
}

// RevokeClientRequests deactivates the active codes, access tokens and
// refresh tokens of clientID, whoever they were issued for, and reports how
// many.
func (s *Store) RevokeClientRequests(ctx context.Context, clientID string) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		n = s.deactivateGrants(t, func(r storage.Request) bool { return r.ClientID == clientID })
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: revoke tokens of client %q: %w", clientID, err)
	}
	return n, nil
}

// RevokeUserRequests deactivates the subject's active codes, access tokens
// and refresh tokens at every client and deletes their pending flows.
func (s *Store) RevokeUserRequests(ctx context.Context, subject string) (int64, error) {
	if subject == "" {
		return 0, fmt.Errorf("memory: revoke tokens of a user: empty subject: %w", storage.ErrNotFound)
	}
	var n int64
	err := s.write(ctx, func(t *txn) error {
		s.deleteUserFlows(t, subject)
		n = s.deactivateGrants(t, func(r storage.Request) bool { return r.Subject == subject })
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: revoke tokens of subject %q: %w", subject, err)
	}
	return n, nil
}

func cloneDelivery(d storage.LogoutDelivery) storage.LogoutDelivery {
	d.NextAttemptAt = tm(d.NextAttemptAt)
	d.CreatedAt = tm(d.CreatedAt)
	return d
}

// EnqueueLogoutDelivery inserts d and sets d.ID.
func (s *Store) EnqueueLogoutDelivery(ctx context.Context, d *storage.LogoutDelivery) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.clients[d.ClientID]; !ok {
			return fmt.Errorf("client: %w", storage.ErrNotFound)
		}
		s.logout.deliverySeq++
		row := cloneDelivery(*d)
		row.ID = s.logout.deliverySeq
		put(t, s.logout.deliveries, row.ID, row)
		d.ID = row.ID
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: enqueue logout delivery to client %q: %w", d.ClientID, err)
	}
	return nil
}

// ClaimLogoutDeliveries claims up to limit due deliveries.
func (s *Store) ClaimLogoutDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.LogoutDelivery, error) {
	var out []storage.LogoutDelivery
	err := s.write(ctx, func(t *txn) error {
		var due []storage.LogoutDelivery
		for id, d := range s.logout.deliveries {
			if _, ok := s.clients[d.ClientID]; !ok {
				del(t, s.logout.deliveries, id)
				continue
			}
			if !d.NextAttemptAt.After(now) {
				due = append(due, d)
			}
		}
		slices.SortFunc(due, func(a, b storage.LogoutDelivery) int {
			if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		if len(due) > limit {
			due = due[:max(limit, 0)]
		}
		for _, d := range due {
			d.Attempts++
			d.NextAttemptAt = tm(now.Add(lease))
			put(t, s.logout.deliveries, d.ID, d)
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: claim logout deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.LogoutDelivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CompleteLogoutDelivery removes the delivery.
func (s *Store) CompleteLogoutDelivery(ctx context.Context, id int64) error {
	err := s.write(ctx, func(t *txn) error {
		if _, ok := s.logout.deliveries[id]; !ok {
			return storage.ErrNotFound
		}
		del(t, s.logout.deliveries, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: complete logout delivery %d: %w", id, err)
	}
	return nil
}

// RetryLogoutDelivery reschedules the delivery and records the failure.
func (s *Store) RetryLogoutDelivery(ctx context.Context, id int64, next time.Time, lastErr string) error {
	err := s.write(ctx, func(t *txn) error {
		d, ok := s.logout.deliveries[id]
		if !ok {
			return storage.ErrNotFound
		}
		d.NextAttemptAt = tm(next)
		d.LastError = lastErr
		put(t, s.logout.deliveries, id, d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: retry logout delivery %d: %w", id, err)
	}
	return nil
}

// ListLogoutDeliveries returns every pending delivery ordered by id.
func (s *Store) ListLogoutDeliveries(ctx context.Context) ([]storage.LogoutDelivery, error) {
	var out []storage.LogoutDelivery
	err := s.read(ctx, func() error {
		for _, d := range s.logout.deliveries {
			if _, ok := s.clients[d.ClientID]; ok {
				out = append(out, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list logout deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.LogoutDelivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
