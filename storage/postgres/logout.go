package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.Logout = (*Store)(nil)

// ListBrowserSessions returns the user's unexpired sessions, newest first.
func (s *Store) ListBrowserSessions(ctx context.Context, userID string) ([]storage.BrowserSession, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT `+sessionColumns+` FROM browser_sessions
WHERE user_id = $1 AND expires_at > now()
ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list browser sessions of user %q: %w", userID, mapError(err))
	}
	defer rows.Close()
	var out []storage.BrowserSession
	for rows.Next() {
		bs, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list browser sessions of user %q: %w", userID, err)
		}
		out = append(out, *bs)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list browser sessions of user %q: %w", userID, mapError(err))
	}
	return out, nil
}

// AddSessionClient records that the unexpired session logged in to the
// client; recording it again is a no-op. ErrNotFound if either is missing.
func (s *Store) AddSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error {
	q := s.q(ctx)
	tag, err := q.Exec(ctx, `
INSERT INTO browser_session_clients (session_id, client_id, created_at)
SELECT id, $2, $3 FROM browser_sessions WHERE id = $1 AND expires_at > now()
ON CONFLICT (session_id, client_id) DO NOTHING`, sessionID, clientID, at)
	if err != nil {
		return fmt.Errorf("postgres: add client %q to browser session: %w", clientID, mapError(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing inserted: already recorded, or no live session.
	var live bool
	if err := q.QueryRow(ctx, `
SELECT EXISTS (SELECT 1 FROM browser_sessions WHERE id = $1 AND expires_at > now())`, sessionID).Scan(&live); err != nil {
		return fmt.Errorf("postgres: add client %q to browser session: %w", clientID, mapError(err))
	}
	if !live {
		return fmt.Errorf("postgres: add client %q to browser session: %w", clientID, storage.ErrNotFound)
	}
	return nil
}

// ListSessionClients returns the client ids recorded for the session, ordered by id.
func (s *Store) ListSessionClients(ctx context.Context, sessionID string) ([]string, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT client_id FROM browser_session_clients WHERE session_id = $1 ORDER BY client_id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients of browser session: %w", mapError(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients of browser session: %w", mapError(err))
	}
	return nilIfEmpty(ids), nil
}

// ListConsents returns the user's consents ordered by client id.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]storage.Consent, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT user_id, client_id, scopes, granted_at FROM consents WHERE user_id = $1 ORDER BY client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list consents of user %q: %w", userID, mapError(err))
	}
	defer rows.Close()
	var out []storage.Consent
	for rows.Next() {
		var c storage.Consent
		if err := rows.Scan(&c.UserID, &c.ClientID, &c.Scopes, &c.GrantedAt); err != nil {
			return nil, fmt.Errorf("postgres: list consents of user %q: %w", userID, mapError(err))
		}
		c.Scopes = nilIfEmpty(c.Scopes)
		c.GrantedAt = utc(c.GrantedAt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list consents of user %q: %w", userID, mapError(err))
	}
	return out, nil
}

// RevokeRequestsBySubjectClient deactivates the active codes, access tokens
// and refresh tokens of subject at clientID and reports how many, including
// those a concurrent code exchange or refresh commits meanwhile (sweepUser).
func (s *Store) RevokeRequestsBySubjectClient(ctx context.Context, subject, clientID string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = sweepUser(ctx, tx, `
UPDATE oauth2_requests SET active = false, deactivated_at = now()
WHERE subject = $1 AND client_id = $2 AND active AND kind = ANY($3)`,
			subject, clientID, tokenKinds())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke tokens of client %q for subject %q: %w", clientID, subject, err)
	}
	return n, nil
}

// RevokeClientRequests deactivates the active codes, access tokens and
// refresh tokens of clientID, whoever they were issued for, and reports how
// many, including those a concurrent code exchange or refresh commits
// meanwhile (sweepUser's passes).
func (s *Store) RevokeClientRequests(ctx context.Context, clientID string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = sweepUser(ctx, tx, `
UPDATE oauth2_requests SET active = false, deactivated_at = now()
WHERE client_id = $1 AND active AND kind = ANY($2)`, clientID, tokenKinds())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke tokens of client %q: %w", clientID, err)
	}
	return n, nil
}

// RevokeUserRequests deactivates the subject's active codes, access tokens
// and refresh tokens at every client and deletes their pending flows.
func (s *Store) RevokeUserRequests(ctx context.Context, subject string) (int64, error) {
	if subject == "" {
		return 0, fmt.Errorf("postgres: revoke tokens of a user: empty subject: %w", storage.ErrNotFound)
	}
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := deleteUserFlows(ctx, tx, subject); err != nil {
			return err
		}
		var err error
		n, err = sweepUser(ctx, tx, `
UPDATE oauth2_requests SET active = false, deactivated_at = now()
WHERE subject = $1 AND active AND kind = ANY($2)`, subject, tokenKinds())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke tokens of subject %q: %w", subject, err)
	}
	return n, nil
}

// tokenKinds returns the request kinds that grant access: codes and tokens.
func tokenKinds() []string {
	return []string{string(storage.KindAuthorizeCode), string(storage.KindAccessToken), string(storage.KindRefreshToken)}
}

const deliveryColumns = `id, client_id, subject, session_id, attempts, next_attempt_at, last_error, created_at`

// EnqueueLogoutDelivery inserts d and sets d.ID.
func (s *Store) EnqueueLogoutDelivery(ctx context.Context, d *storage.LogoutDelivery) error {
	err := s.q(ctx).QueryRow(ctx, `
INSERT INTO logout_deliveries (client_id, subject, session_id, attempts, next_attempt_at, last_error, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		d.ClientID, d.Subject, d.SessionID, d.Attempts, d.NextAttemptAt, d.LastError, d.CreatedAt).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("postgres: enqueue logout delivery to client %q: %w", d.ClientID, mapError(err))
	}
	return nil
}

// ClaimLogoutDeliveries claims due deliveries: rows locked by another
// claimer are skipped (FOR UPDATE SKIP LOCKED), and the claimed rows'
// next_attempt_at moves past the lease before the statement commits.
func (s *Store) ClaimLogoutDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.LogoutDelivery, error) {
	rows, err := s.q(ctx).Query(ctx, `
UPDATE logout_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $2
FROM (
    SELECT id FROM logout_deliveries WHERE next_attempt_at <= $1
    ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
) due
WHERE d.id = due.id
RETURNING d.id, d.client_id, d.subject, d.session_id, d.attempts, d.next_attempt_at, d.last_error, d.created_at`,
		now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim logout deliveries: %w", mapError(err))
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim logout deliveries: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.LogoutDelivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CompleteLogoutDelivery removes the delivery.
func (s *Store) CompleteLogoutDelivery(ctx context.Context, id int64) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM logout_deliveries WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: complete logout delivery %d: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: complete logout delivery %d: %w", id, storage.ErrNotFound)
	}
	return nil
}

// RetryLogoutDelivery reschedules the delivery and records the failure.
func (s *Store) RetryLogoutDelivery(ctx context.Context, id int64, next time.Time, lastErr string) error {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE logout_deliveries SET next_attempt_at = $2, last_error = $3 WHERE id = $1`, id, next, lastErr)
	if err != nil {
		return fmt.Errorf("postgres: retry logout delivery %d: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: retry logout delivery %d: %w", id, storage.ErrNotFound)
	}
	return nil
}

// ListLogoutDeliveries returns every pending delivery ordered by id.
func (s *Store) ListLogoutDeliveries(ctx context.Context) ([]storage.LogoutDelivery, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+deliveryColumns+` FROM logout_deliveries ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list logout deliveries: %w", mapError(err))
	}
	out, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list logout deliveries: %w", err)
	}
	return out, nil
}

func collectDeliveries(rows pgx.Rows) ([]storage.LogoutDelivery, error) {
	defer rows.Close()
	var out []storage.LogoutDelivery
	for rows.Next() {
		var d storage.LogoutDelivery
		if err := rows.Scan(&d.ID, &d.ClientID, &d.Subject, &d.SessionID, &d.Attempts, &d.NextAttemptAt, &d.LastError, &d.CreatedAt); err != nil {
			return nil, mapError(err)
		}
		d.NextAttemptAt = utc(d.NextAttemptAt)
		d.CreatedAt = utc(d.CreatedAt)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return out, nil
}
