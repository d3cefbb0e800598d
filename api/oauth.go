package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api/render"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/oauth"
)

// authorize serves /oauth2/authorize: the domain validates the request and
// answers it at once or parks it and sends the browser to login or consent
// (login.Service.Authorize); an error that cannot go back to the client is
// shown as a page.
func (s *Server) authorize(c echo.Context) error {
	r, w := c.Request(), c.Response()
	binding := func() (string, error) { return s.browser.FlowBinding(w, r) }
	client, resp, err := s.flows.Authorize(r.Context(), r, s.browser.SessionCookie(r), binding)
	setClient(c, client)
	if err != nil {
		s.renderAuthorizeError(w, err)
		return nil
	}
	render.AuthorizeResponse(w, resp)
	return nil
}

// renderAuthorizeError shows an authorization error on the error page.
func (s *Server) renderAuthorizeError(w http.ResponseWriter, err error) {
	var page *authz.UnredirectableError
	if !errors.As(err, &page) {
		rfc := authz.ErrorResponse(err)
		page = &authz.UnredirectableError{Status: rfc.CodeField, Code: rfc.ErrorField, Description: rfc.GetDescription()}
	}
	s.browser.RenderError(w, page.Status, page.Code, page.Description)
}

// token serves /oauth2/token (RFC 6749 §3.2).
func (s *Server) token(c echo.Context) error {
	client, body, err := s.p.Token(c.Request().Context(), c.Request())
	s.freshDPoPNonce(c, err)
	return s.reply(c, client, http.StatusOK, body, err)
}

// freshDPoPNonce sends the current server nonce with a successful answer to
// a request that carried a DPoP proof (RFC 9449 §8.2), when nonces are on.
func (s *Server) freshDPoPNonce(c echo.Context, err error) {
	if err != nil || len(c.Request().Header.Values(dpop.HeaderName)) == 0 {
		return
	}
	if n := s.p.DPoPNonce(); n != "" {
		c.Response().Header().Set(dpop.NonceHeaderName, n)
	}
}

// introspect serves /oauth2/introspect (RFC 7662); with Accept:
// application/token-introspection+jwt the answer is a signed JWT (RFC 9701).
func (s *Server) introspect(c echo.Context) error {
	r := c.Request()
	client, res, err := s.p.Introspect(r.Context(), r)
	if err != nil || !oauth.WantsIntrospectionJWT(r.Header.Get("Accept")) {
		return s.reply(c, client, http.StatusOK, res, err)
	}
	token, err := s.p.IntrospectionJWT(r.Context(), client, res)
	if err != nil {
		return s.reply(c, client, http.StatusOK, nil, err)
	}
	setClient(c, client)
	render.JWT(c.Response(), http.StatusOK, oauth.IntrospectionJWTType, token)
	return nil
}

// revoke serves /oauth2/revoke (RFC 7009): 200 with no body, whether or not
// the token was known.
func (s *Server) revoke(c echo.Context) error {
	r := c.Request()
	if err := s.p.Revoke(r.Context(), r); err != nil {
		render.Error(c.Response(), r, s.log, err)
		return nil
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return nil
}

// par serves /oauth2/par (RFC 9126).
func (s *Server) par(c echo.Context) error {
	client, body, err := s.p.PushAuthorize(c.Request().Context(), c.Request())
	s.freshDPoPNonce(c, err)
	return s.reply(c, client, http.StatusCreated, body, err)
}

// userinfo serves /userinfo (OIDC Core §5.3).
func (s *Server) userinfo(c echo.Context) error {
	claims, err := s.p.Userinfo(c.Request().Context(), c.Request())
	s.freshDPoPNonce(c, err)
	return s.reply(c, "", http.StatusOK, claims, err)
}

// reply writes an OAuth endpoint's answer: the client the request named
// (for the access log, "" when none), then body as JSON with status, or
// the OAuth error through the one error writer.
func (s *Server) reply(c echo.Context, client string, status int, body any, err error) error {
	setClient(c, client)
	if err != nil {
		render.Error(c.Response(), c.Request(), s.log, err)
		return nil
	}
	render.JSON(c.Response(), status, body)
	return nil
}
