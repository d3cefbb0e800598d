package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/login"
)

// Page paths. The authorization endpoint learns the login and consent paths
// from authz.Config (LoginURL, ConsentURL); the composition root sets them
// from these.
const (
	PathLogin         = "/login"          // username and password
	PathConsent       = "/consent"        // allow or deny the client's scopes
	PathSecondFactor  = "/login/mfa"      // enter a TOTP code, use a passkey or a recovery code
	PathEnrol         = "/login/enroll"   // set up TOTP or a passkey when MFA is required
	PathContinue      = "/login/continue" // after the recovery codes: consent or back to the client
	PathLogoutConfirm = "/logout"         // the answer to the logout confirmation page
	pathStatic        = "/static/*"
)

// Mount registers every page on e: login and its second factor, consent,
// the end_session_endpoint (authz.PathLogout, OIDC RP-Initiated Logout 1.0
// §2: GET and POST) with its confirmation, and the static assets. Pages are
// plain net/http handlers: they cap and parse their own forms and answer bad
// input with an error page (never JSON, never a redirect).
func (pg *Pages) Mount(e *echo.Echo) {
	// every page request carries its source for authz/login's audit events
	page := func(h http.HandlerFunc) echo.HandlerFunc {
		return echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h(w, r.WithContext(login.WithRequestMeta(r.Context(), pg.loginMeta(r))))
		}))
	}
	e.GET(PathLogin, page(pg.Login))
	e.POST(PathLogin, page(pg.Login))
	e.GET(PathConsent, page(pg.Consent))
	e.POST(PathConsent, page(pg.Consent))
	e.GET(PathSecondFactor, page(pg.SecondFactor))
	e.POST(PathSecondFactor, page(pg.SecondFactor))
	e.GET(PathEnrol, page(pg.Enrol))
	e.POST(PathEnrol, page(pg.Enrol))
	e.POST(PathContinue, page(pg.Continue))
	e.GET(authz.PathLogout, page(pg.Logout))
	e.POST(authz.PathLogout, page(pg.Logout))
	e.POST(PathLogoutConfirm, page(pg.LogoutConfirm))
	e.GET(pathStatic, echo.WrapHandler(pg.Static()))
}
