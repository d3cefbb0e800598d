package authz

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Errors of session and grant management.
var (
	// ErrSessionNotFound: no such live browser session (for that user).
	ErrSessionNotFound = errors.New("no such session")
	// ErrGrantNotFound: the user has neither consented to the client nor
	// holds tokens from it.
	ErrGrantNotFound = errors.New("no such grant")
)

// ActorOperator is the audit actor of changes made with the CLI.
const ActorOperator = "operator:cli"

// ActorSystem is the audit actor of changes the server makes by itself
// (an idle session ending).
const ActorSystem = "system"

// UserActor is the audit actor of an end user's own action.
func UserActor(userID string) string { return "user:" + userID }

// SessionManager ends browser sessions and revokes grants, for end users
// (logout) and for operators (`strongroom users sessions|grants`). It needs
// no signing key: ending a session only queues back-channel logout
// deliveries (OIDC Back-Channel Logout 1.0), in the transaction that deletes
// the session, and the server's worker signs and sends them.
type SessionManager struct {
	Store storage.Store
	Now   func() time.Time
}

// SessionInfo is a live browser session with the clients it logged in to.
type SessionInfo struct {
	storage.BrowserSession
	Clients []string
}

// ListSessions returns the user's live sessions, newest first.
func (m *SessionManager) ListSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	sessions, err := m.Store.ListBrowserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]SessionInfo, 0, len(sessions))
	for _, bs := range sessions {
		clients, err := m.Store.ListSessionClients(ctx, bs.ID)
		if err != nil {
			return nil, fmt.Errorf("list session clients: %w", err)
		}
		out = append(out, SessionInfo{BrowserSession: bs, Clients: clients})
	}
	return out, nil
}

// EndSession ends the user's session sessionID: the session is deleted and
// every client it logged in to that registered a back-channel logout URI gets
// a logout token queued, atomically. ErrSessionNotFound when the user has no
// such live session. actor and reason go to the audit trail.
func (m *SessionManager) EndSession(ctx context.Context, userID, sessionID, actor, reason string) error {
	return storage.InTx(ctx, m.Store, func(ctx context.Context) error {
		return m.endSession(ctx, userID, sessionID, actor, reason)
	})
}

// EndUserSessions ends every live session of the user and reports how many.
func (m *SessionManager) EndUserSessions(ctx context.Context, userID, actor, reason string) (int, error) {
	var n int
	err := storage.InTx(ctx, m.Store, func(ctx context.Context) error {
		var err error
		n, err = m.endUserSessions(ctx, userID, actor, reason)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// endUserSessions ends every live session of the user in the caller's
// transaction (each queues its back-channel logouts) and reports how many.
// A session that ends by itself meanwhile (expiry, a concurrent logout) is
// not an error.
func (m *SessionManager) endUserSessions(ctx context.Context, userID, actor, reason string) (int, error) {
	sessions, err := m.Store.ListBrowserSessions(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("list sessions: %w", err)
	}
	n := 0
	for _, bs := range sessions {
		err := m.endSession(ctx, userID, bs.ID, actor, reason)
		if errors.Is(err, ErrSessionNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// EndUserAccess signs the user out everywhere, in the caller's transaction:
// every live session ends (queuing back-channel logout to its clients) and
// every authorization code, access token and refresh token issued for the
// user, at any client, is revoked, with their pending authorization flows.
// It reports how many sessions ended and tokens were revoked. Password
// changes and second-factor resets use it: what was signed in with the old
// credentials must not outlive them.
func (m *SessionManager) EndUserAccess(ctx context.Context, userID, actor, reason string) (sessions int, tokens int64, err error) {
	if sessions, err = m.endUserSessions(ctx, userID, actor, reason); err != nil {
		return 0, 0, fmt.Errorf("end sessions: %w", err)
	}
	if tokens, err = m.Store.RevokeUserRequests(ctx, userID); err != nil {
		return 0, 0, fmt.Errorf("revoke tokens: %w", err)
	}
	return sessions, tokens, nil
}

// EndSessionInTx is EndSession in the caller's transaction (a login that
// replaces another user's session ends it in its own).
func (m *SessionManager) EndSessionInTx(ctx context.Context, userID, sessionID, actor, reason string) error {
	return m.endSession(ctx, userID, sessionID, actor, reason)
}

// endSession runs in the caller's transaction.
func (m *SessionManager) endSession(ctx context.Context, userID, sessionID, actor, reason string) error {
	bs, err := m.Store.GetBrowserSession(ctx, sessionID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && bs.UserID != userID {
		return ErrSessionNotFound
	}
	if err != nil {
		return fmt.Errorf("get session: %w", err)
	}
	clients, err := m.Store.ListSessionClients(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("list session clients: %w", err)
	}
	if err := m.Store.DeleteBrowserSession(ctx, sessionID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return ErrSessionNotFound
		}
		return fmt.Errorf("delete session: %w", err)
	}
	queued, err := m.queueLogout(ctx, userID, sessionID, clients)
	if err != nil {
		return err
	}
	return m.audit(ctx, &storage.AuditEvent{
		Actor: actor, Action: "session.end", Target: userID, Outcome: storage.OutcomeSuccess,
		Details: map[string]string{
			"reason": reason, "session": ShortID(sessionID),
			"clients": strings.Join(clients, " "), "backchannel_queued": strconv.Itoa(queued),
		},
	})
}

// queueLogout queues a back-channel logout delivery to each client that
// registered a back-channel logout URI and reports how many it queued.
func (m *SessionManager) queueLogout(ctx context.Context, userID, sessionID string, clientIDs []string) (int, error) {
	now := m.Now().UTC()
	n := 0
	for _, id := range clientIDs {
		c, err := m.Store.GetClient(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("get client: %w", err)
		}
		if c.Metadata.BackchannelLogoutURI == "" {
			continue
		}
		d := &storage.LogoutDelivery{ClientID: id, Subject: userID, SessionID: sessionID, NextAttemptAt: now, CreatedAt: now}
		if err := m.Store.EnqueueLogoutDelivery(ctx, d); err != nil {
			return 0, fmt.Errorf("queue back-channel logout: %w", err)
		}
		n++
	}
	return n, nil
}

// ListGrants returns the user's remembered consents, ordered by client id.
func (m *SessionManager) ListGrants(ctx context.Context, userID string) ([]storage.Consent, error) {
	grants, err := m.Store.ListConsents(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return grants, nil
}

// RevokeGrant forgets the user's consent to the client and revokes every
// authorization code, access token and refresh token the client holds for
// the user, atomically; it reports how many tokens it revoked. The next
// authorization request asks for consent again. ErrGrantNotFound when there
// was neither a consent nor an active token.
func (m *SessionManager) RevokeGrant(ctx context.Context, userID, clientID, actor string) (int64, error) {
	var n int64
	err := storage.InTx(ctx, m.Store, func(ctx context.Context) error {
		err := m.Store.DeleteConsent(ctx, userID, clientID)
		hadConsent := err == nil
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("delete consent: %w", err)
		}
		if n, err = m.Store.RevokeRequestsBySubjectClient(ctx, userID, clientID); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		if !hadConsent && n == 0 {
			return ErrGrantNotFound
		}
		return m.audit(ctx, &storage.AuditEvent{
			Actor: actor, Action: "grant.revoke", Target: userID, Outcome: storage.OutcomeSuccess,
			Details: map[string]string{"client_id": clientID, "tokens_revoked": strconv.FormatInt(n, 10)},
		})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (m *SessionManager) audit(ctx context.Context, e *storage.AuditEvent) error {
	e.Time = m.Now().UTC()
	if err := m.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// ShortID is a prefix of a stored session id for logs and audit details:
// enough to tell sessions apart, and the stored id is only a hash anyway.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// RecordClient remembers that bs logged the user in to clientID, for
// back-channel logout. A session that has ended meanwhile is not an error.
func (m *SessionManager) RecordClient(ctx context.Context, bs *storage.BrowserSession, clientID string) error {
	if bs == nil || bs.ID == "" {
		return nil
	}
	err := m.Store.AddSessionClient(ctx, bs.ID, clientID, m.Now())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("record session client: %w", err)
	}
	return nil
}
