package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// The answers of the grant and session routes are the services' own values.
type (
	// Session is a user's live browser session as the API lists it.
	Session = authzadmin.Session
	// GrantRevocation is the answer to a grant revocation.
	GrantRevocation = authzadmin.GrantRevocation
	// SessionsEnded is the answer to ending every session of a user.
	SessionsEnded = authzadmin.SessionsEnded
)

// reasonOperator is the audit reason of sessions ended through the API.
const reasonOperator = "revoked by an operator"

func (s userRoutes) listGrants(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Sessions.ListGrants(c.Request().Context(), c.Param("ref")))
}

func (s userRoutes) revokeGrant(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Sessions.RevokeGrant(c.Request().Context(), actor(c).Name, c.Param("ref"), c.Param("client_id")))
}

func (s userRoutes) listSessions(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Sessions.ListSessions(c.Request().Context(), c.Param("ref")))
}

func (s userRoutes) endSession(c echo.Context) error {
	if err := s.opts.Sessions.EndSession(c.Request().Context(), actor(c).Name, c.Param("ref"), c.Param("session_id"), reasonOperator); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s userRoutes) endUserSessions(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Sessions.EndSessions(c.Request().Context(), actor(c).Name, c.Param("ref"), reasonOperator))
}
