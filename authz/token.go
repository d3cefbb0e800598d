package authz

import (
	"context"
	"net/http"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// Token answers a token request (RFC 6749 §3.2): fosite authenticates the
// client and runs the grant's handler (grants.go holds the grant policy);
// body is the JSON response (§5.1). clientID names the client the request
// authenticated or claimed (for the access log), also with an error, which
// is an OAuth error to answer as RFC 6749 §5.2 says.
func (p *Provider) Token(ctx context.Context, r *http.Request) (clientID string, body map[string]any, err error) {
	if gt := r.PostForm.Get("grant_type"); gt != "" && !GrantTypeSupported(gt) {
		return "", nil, fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", truncateHint64(gt))
	}
	ar, err := p.OAuth2.NewAccessRequest(ctx, r, NewSession())
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if err != nil {
		return clientID, nil, err
	}
	resp, err := p.OAuth2.NewAccessResponse(ctx, ar)
	if err != nil {
		return clientID, nil, err
	}
	return clientID, resp.ToMap(), nil
}

// PushAuthorize answers a pushed authorization request (RFC 9126 §2): the
// request is validated like at the authorization endpoint (fosite and
// checkAuthorizePolicy) and stored; body is the 201 response with its
// request_uri and expires_in. clientID is for the access log, also with an
// error.
func (p *Provider) PushAuthorize(ctx context.Context, r *http.Request) (clientID string, body map[string]any, err error) {
	ar, err := p.OAuth2.NewPushedAuthorizeRequest(ctx, r)
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if err == nil {
		err = p.checkAuthorizePolicy(ctx, ar, true)
	}
	if err != nil {
		return clientID, nil, AuthorizeRequestError(ar, err)
	}
	resp, err := p.OAuth2.NewPushedAuthorizeResponse(ctx, ar, NewSession())
	if err != nil {
		return clientID, nil, err
	}
	return clientID, resp.ToMap(), nil
}

// Authorize answers the authorization endpoint (RFC 6749 §3.1): fosite
// validates the request, Strongroom's policy applies (checkAuthorizePolicy),
// then either the response is issued at once (the browser session cookie
// names a session that needs no login or consent) or the request is parked
// as a flow (startFlow) and the browser sent to the login or consent page.
// binding returns the browser's flow-binding secret; it is called only when
// a flow starts (it may set a cookie). clientID is for the access log. An
// error is an *UnredirectableError, to be shown as a page.
func (p *Provider) Authorize(ctx context.Context, r *http.Request, sessionCookie string, binding func() (string, error)) (clientID string, resp *AuthorizeResponse, err error) {
	ar, err := p.newAuthorizeRequest(ctx, r)
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if err == nil {
		err = p.checkAuthorizePolicy(ctx, ar, false)
	}
	var bs *storage.BrowserSession
	if err == nil {
		bs, err = p.browserSession(ctx, sessionCookie)
	}
	var step Step
	if err == nil {
		step, err = p.nextStep(ctx, ar, bs)
	}
	if err != nil {
		resp, err = p.authorizeError(ctx, ar, err)
		return clientID, resp, err
	}
	if step == StepIssue {
		resp, err = p.Issue(ctx, ar, bs, p.Now())
		return clientID, resp, err
	}
	challenge, err := p.startBrowserFlow(ctx, ar, bs, binding)
	if err != nil {
		resp, err = p.authorizeError(ctx, ar, err)
		return clientID, resp, err
	}
	if step == StepLogin {
		return clientID, interaction(p.Config.LoginURL, "login_challenge", challenge), nil
	}
	return clientID, interaction(p.Config.ConsentURL, "consent_challenge", challenge), nil
}

// startBrowserFlow parks ar as a flow bound to the browser (startFlow).
func (p *Provider) startBrowserFlow(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, binding func() (string, error)) (string, error) {
	b, err := binding()
	if err != nil {
		return "", err
	}
	return p.startFlow(ctx, ar, bs, b)
}

func truncateHint64(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
