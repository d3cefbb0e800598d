package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
)

// mountLogout registers the end_session_endpoint (OIDC RP-Initiated Logout
// 1.0 §2: GET and POST) and the target of the logout confirmation form. They
// are pages: the web layer caps and parses the form and answers bad input
// with an error page (never JSON, never a redirect).
func (s *Server) mountLogout(e *echo.Echo) {
	logout := echo.WrapHandler(http.HandlerFunc(s.pages.Logout))
	e.GET(authz.PathLogout, logout)
	e.POST(authz.PathLogout, logout)
	e.POST(authz.PathLogoutConfirm, echo.WrapHandler(http.HandlerFunc(s.pages.LogoutConfirm)))
}
