package login

import (
	"context"
	"net/http"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// Authorize answers the authorization endpoint (RFC 6749 §3.1): fosite
// validates the request, Strongroom's policy applies (checkAuthorizePolicy),
// then either the response is issued at once (the browser session cookie
// names a session that needs no login or consent) or the request is parked
// as a flow (startFlow) and the browser sent to the login or consent page.
// binding returns the browser's flow-binding secret; it is called only when
// a flow starts (it may set a cookie). clientID is for the access log. An
// error is an *UnredirectableError, to be shown as a page.
func (s *Service) Authorize(ctx context.Context, r *http.Request, sessionCookie string, binding func() (string, error)) (clientID string, resp *authz.AuthorizeResponse, err error) {
	ctx, span := s.span(ctx, "login.Authorize")
	defer func() { endSpan(span, err) }()
	ar, err := s.authorizer.NewAuthorizeRequest(ctx, r)
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if err == nil {
		err = s.authorizer.CheckAuthorizePolicy(ctx, ar, false)
	}
	var bs *storage.BrowserSession
	if err == nil {
		bs, err = s.BrowserSession(ctx, sessionCookie)
	}
	var step Step
	if err == nil {
		step, err = s.nextStep(ctx, ar, bs)
	}
	if err != nil {
		resp, err = s.authorizer.AuthorizeError(ctx, ar, err)
		return clientID, resp, err
	}
	if step == StepIssue {
		resp, err = s.authorizer.Issue(ctx, ar, bs, nil, s.now())
		return clientID, resp, err
	}
	challenge, err := s.startBrowserFlow(ctx, ar, bs, binding)
	if err != nil {
		resp, err = s.authorizer.AuthorizeError(ctx, ar, err)
		return clientID, resp, err
	}
	if step == StepLogin {
		return clientID, interaction(s.cfg.LoginURL, "login_challenge", challenge), nil
	}
	return clientID, interaction(s.cfg.ConsentURL, "consent_challenge", challenge), nil
}

// startBrowserFlow parks ar as a flow bound to the browser (startFlow).
func (s *Service) startBrowserFlow(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, binding func() (string, error)) (string, error) {
	b, err := binding()
	if err != nil {
		return "", err
	}
	return s.startFlow(ctx, ar, bs, b)
}

// interaction sends the browser to one of the server's own pages (login or
// consent) with the flow's challenge.
func interaction(path, param, challenge string) *authz.AuthorizeResponse {
	header := http.Header{}
	header.Set("Cache-Control", "no-store")
	return &authz.AuthorizeResponse{Header: header, RedirectURL: path + "?" + param + "=" + challenge}
}
