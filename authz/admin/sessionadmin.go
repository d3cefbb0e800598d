package admin

import (
	"context"
	"time"

	"github.com/strongroom/strongroom/authz"
)

// Session is a user's live browser session as operators see it (the admin
// API and `strongroom users sessions list -o json`). The id is the stored
// one (a hash of the cookie): it names the session without granting it.
type Session struct {
	ID         string    `json:"id"`
	AuthTime   time.Time `json:"auth_time"`
	AMR        []string  `json:"amr"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Clients    []string  `json:"clients"`
}

// GrantRevocation is what revoking a user's grant to a client did.
type GrantRevocation struct {
	UserID        string `json:"user_id"`
	ClientID      string `json:"client_id"`
	TokensRevoked int64  `json:"tokens_revoked"`
}

// SessionsEnded is what ending every session of a user did.
type SessionsEnded struct {
	UserID string `json:"user_id"`
	Ended  int    `json:"ended"`
}

// SessionAdmin lists and ends, for operators, what a user is signed in
// with: their grants to clients (consents and the tokens issued under them)
// and their browser sessions. Users are named by id or username; an unknown
// one is a *NotFoundError. Each change is audited by the session manager,
// which also queues back-channel logout for every session that ends.
type SessionAdmin struct {
	users    *UserAdmin
	sessions *authz.SessionManager
}

// NewSessionAdmin returns the service: users resolves user names, sessions
// does the work.
func NewSessionAdmin(users *UserAdmin, sessions *authz.SessionManager) *SessionAdmin {
	return &SessionAdmin{users: users, sessions: sessions}
}

// ListGrants returns the user's remembered consents, ordered by client id.
func (a *SessionAdmin) ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error) {
	u, err := a.users.Get(ctx, userRef)
	if err != nil {
		return nil, err
	}
	return a.sessions.ListGrantInfo(ctx, u.ID)
}

// RevokeGrant forgets the user's consent to the client and revokes every
// token the client holds for the user; authz.ErrGrantNotFound when there is
// neither. actor names who did it in the audit trail.
func (a *SessionAdmin) RevokeGrant(ctx context.Context, actor, userRef, clientID string) (*GrantRevocation, error) {
	u, err := a.users.Get(ctx, userRef)
	if err != nil {
		return nil, err
	}
	n, err := a.sessions.RevokeGrant(ctx, u.ID, clientID, actor)
	if err != nil {
		return nil, err
	}
	return &GrantRevocation{UserID: u.ID, ClientID: clientID, TokensRevoked: n}, nil
}

// ListSessions returns the user's live sessions, newest first.
func (a *SessionAdmin) ListSessions(ctx context.Context, userRef string) ([]Session, error) {
	u, err := a.users.Get(ctx, userRef)
	if err != nil {
		return nil, err
	}
	sessions, err := a.sessions.ListSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Session, len(sessions))
	for i, s := range sessions {
		out[i] = Session{
			ID: s.ID, AuthTime: s.AuthTime.UTC(), AMR: nonNil(s.AMR), CreatedAt: s.CreatedAt.UTC(),
			LastSeenAt: s.LastSeenAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(), Clients: nonNil(s.Clients),
		}
	}
	return out, nil
}

// nonNil makes a nil list an empty one (an empty JSON array, never null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// EndSession ends one live session of the user; authz.ErrSessionNotFound
// when the user has no such session.
func (a *SessionAdmin) EndSession(ctx context.Context, actor, userRef, sessionID, reason string) error {
	u, err := a.users.Get(ctx, userRef)
	if err != nil {
		return err
	}
	return a.sessions.EndSession(ctx, u.ID, sessionID, actor, reason)
}

// EndSessions ends every live session of the user.
func (a *SessionAdmin) EndSessions(ctx context.Context, actor, userRef, reason string) (*SessionsEnded, error) {
	u, err := a.users.Get(ctx, userRef)
	if err != nil {
		return nil, err
	}
	n, err := a.sessions.EndUserSessions(ctx, u.ID, actor, reason)
	if err != nil {
		return nil, err
	}
	return &SessionsEnded{UserID: u.ID, Ended: n}, nil
}
