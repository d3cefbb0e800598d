package admin

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// Session is a user's live browser session as the API (and `strongroom users
// sessions list -o json`) lists it. The id is the stored one (a hash of the
// cookie): it names the session without granting it.
type Session struct {
	ID         string    `json:"id"`
	AuthTime   time.Time `json:"auth_time"`
	AMR        []string  `json:"amr"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Clients    []string  `json:"clients"`
}

// NewSession converts a session to its wire form (UTC times, no null lists).
func NewSession(s authz.SessionInfo) Session {
	return Session{
		ID: s.ID, AuthTime: s.AuthTime.UTC(), AMR: nonNil(s.AMR), CreatedAt: s.CreatedAt.UTC(),
		LastSeenAt: s.LastSeenAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(), Clients: nonNil(s.Clients),
	}
}

// NewSessions converts sessions to their wire form.
func NewSessions(sessions []authz.SessionInfo) []Session {
	out := make([]Session, len(sessions))
	for i, s := range sessions {
		out[i] = NewSession(s)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// GrantRevocation is the answer to a grant revocation.
type GrantRevocation struct {
	UserID        string `json:"user_id"`
	ClientID      string `json:"client_id"`
	TokensRevoked int64  `json:"tokens_revoked"`
}

// SessionsEnded is the answer to ending every session of a user.
type SessionsEnded struct {
	UserID string `json:"user_id"`
	Ended  int    `json:"ended"`
}

// reasonOperator is the audit reason of sessions ended through the API.
const reasonOperator = "revoked by an operator"

// user resolves the :ref path parameter (id or username); unknown → 404.
func (s userRoutes) user(c echo.Context) (*authzadmin.UserInfo, error) {
	return s.opts.Users.Get(c.Request().Context(), c.Param("ref"))
}

func (s userRoutes) listGrants(c echo.Context) error {
	u, err := s.user(c)
	if err != nil {
		return err
	}
	grants, err := s.opts.Sessions.ListGrantInfo(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, grants)
}

func (s userRoutes) revokeGrant(c echo.Context) error {
	u, err := s.user(c)
	if err != nil {
		return err
	}
	clientID := c.Param("client_id")
	n, err := s.opts.Sessions.RevokeGrant(c.Request().Context(), u.ID, clientID, actor(c).Name)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, GrantRevocation{UserID: u.ID, ClientID: clientID, TokensRevoked: n})
}

func (s userRoutes) listSessions(c echo.Context) error {
	u, err := s.user(c)
	if err != nil {
		return err
	}
	sessions, err := s.opts.Sessions.ListSessions(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, NewSessions(sessions))
}

func (s userRoutes) endSession(c echo.Context) error {
	u, err := s.user(c)
	if err != nil {
		return err
	}
	if err := s.opts.Sessions.EndSession(c.Request().Context(), u.ID, c.Param("session_id"), actor(c).Name, reasonOperator); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s userRoutes) endUserSessions(c echo.Context) error {
	u, err := s.user(c)
	if err != nil {
		return err
	}
	n, err := s.opts.Sessions.EndUserSessions(c.Request().Context(), u.ID, actor(c).Name, reasonOperator)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, SessionsEnded{UserID: u.ID, Ended: n})
}
