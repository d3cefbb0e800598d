package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
)

// authorize serves /oauth2/authorize: validate, apply policy, then either
// issue the response or send the browser to login or consent.
func (s *Server) authorize(c echo.Context) error {
	r, w := c.Request(), c.Response()
	ctx := r.Context()
	ar, err := s.p.NewAuthorizeRequest(ctx, r)
	if ar != nil && ar.GetClient() != nil {
		setClient(c, ar.GetClient().GetID())
	}
	if err != nil {
		s.p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	if err := s.p.CheckAuthorizePolicy(ctx, ar, false); err != nil {
		s.p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	bs, err := s.p.BrowserSession(ctx, s.pages.SessionCookie(r))
	if err != nil {
		s.p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	step, err := s.p.NextStep(ctx, ar, bs)
	if err != nil {
		s.p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	if step == authz.StepIssue {
		return s.p.Issue(ctx, w, ar, bs, s.p.Now())
	}
	binding, err := s.pages.FlowBinding(w, r)
	if err != nil {
		s.p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	challenge, err := s.p.StartFlow(ctx, ar, bs, binding)
	if err != nil {
		s.p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	w.Header().Set("Cache-Control", "no-store")
	if step == authz.StepLogin {
		return c.Redirect(http.StatusSeeOther, authz.PathLogin+"?login_challenge="+challenge)
	}
	return c.Redirect(http.StatusSeeOther, authz.PathConsent+"?consent_challenge="+challenge)
}

// token serves /oauth2/token (RFC 6749 §3.2).
func (s *Server) token(c echo.Context) error {
	r, w := c.Request(), c.Response()
	ctx := r.Context()
	if gt := r.PostForm.Get("grant_type"); gt != "" && !authz.GrantTypeSupported(gt) {
		s.p.WriteJSONError(ctx, w, fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", truncate(gt, 64)))
		return nil
	}
	sess := authz.NewSession()
	ar, err := s.p.OAuth2.NewAccessRequest(ctx, r, sess)
	if ar != nil && ar.GetClient() != nil {
		setClient(c, ar.GetClient().GetID())
	}
	if err != nil {
		s.p.WriteAccessError(ctx, w, ar, err)
		return nil
	}
	resp, err := s.p.OAuth2.NewAccessResponse(ctx, ar)
	if err != nil {
		s.p.WriteAccessError(ctx, w, ar, err)
		return nil
	}
	s.p.OAuth2.WriteAccessResponse(ctx, w, ar, resp)
	return nil
}

// introspect serves /oauth2/introspect (RFC 7662).
func (s *Server) introspect(c echo.Context) error {
	setClient(c, s.p.Introspect(c.Request().Context(), c.Response(), c.Request()))
	return nil
}

// revoke serves /oauth2/revoke (RFC 7009).
func (s *Server) revoke(c echo.Context) error {
	s.p.Revoke(c.Request().Context(), c.Response(), c.Request())
	return nil
}

// par serves /oauth2/par (RFC 9126).
func (s *Server) par(c echo.Context) error {
	r, w := c.Request(), c.Response()
	ctx := r.Context()
	ar, err := s.p.OAuth2.NewPushedAuthorizeRequest(ctx, r)
	if ar != nil && ar.GetClient() != nil {
		setClient(c, ar.GetClient().GetID())
	}
	if err == nil {
		err = s.p.CheckAuthorizePolicy(ctx, ar, true)
	}
	if err != nil {
		s.p.WriteJSONError(r.Context(), w, authz.AuthorizeRequestError(ar, err))
		return nil
	}
	resp, err := s.p.OAuth2.NewPushedAuthorizeResponse(ctx, ar, authz.NewSession())
	if err != nil {
		s.p.WriteJSONError(r.Context(), w, err)
		return nil
	}
	s.p.OAuth2.WritePushedAuthorizeResponse(ctx, w, ar, resp)
	return nil
}

// userinfo serves /userinfo (OIDC Core §5.3).
func (s *Server) userinfo(c echo.Context) error {
	s.p.Userinfo(c.Request().Context(), c.Response(), c.Request())
	return nil
}
