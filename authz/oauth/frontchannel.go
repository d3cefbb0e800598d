package oauth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"
	"github.com/strongroom/strongroom/authz"
)

// NewAuthorizeRequest validates an authorization request as fosite does, with
// the rules fosite lacks:
//   - a request that names a pushed request (RFC 9126 §4) is read from the
//     push alone. Only client_id and request_uri are taken from the front
//     channel; every other parameter the browser carries (scope,
//     response_mode, redirect_uri, state, nonce, PKCE, prompt, max_age,
//     claims, response_type, ...) is ignored, as §4 requires, instead of
//     being merged into the pushed one. A client_id that differs from the
//     push's is invalid_request (fosite's check on the narrowed request);
//   - any other request_uri is request_uri_not_supported: the server never
//     fetches request objects by reference;
//   - a signed request object (the request parameter, RFC 9101) is verified
//     (verifyRequestObject) and read alone: its claims are the request,
//     the parameters beside it are ignored except client_id (§6.3), which
//     is required and must match the object's (§5);
//   - a client registered with require_signed_request_object must send
//     one (by value here, or pushed: the PAR endpoint checked it).
//
// A request whose object fails verification has no redirect URI one may
// trust: its error comes without a requester, to be shown as a page.
func (p *Authorizer) NewAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	if err := r.ParseForm(); err != nil {
		return p.provider.NewAuthorizeRequest(ctx, r) // fosite answers the unreadable form
	}
	uri := r.Form.Get("request_uri")
	switch {
	case strings.HasPrefix(uri, parPrefix) && r.Form.Has("request"):
		return nil, fosite.ErrInvalidRequest.WithHint("The request and request_uri parameters cannot be used together.")
	case strings.HasPrefix(uri, parPrefix):
		r = syntheticAuthorizeRequest(r, url.Values{"client_id": {r.Form.Get("client_id")}, "request_uri": {uri}})
		return p.provider.NewAuthorizeRequest(ctx, r)
	case uri != "":
		return nil, fosite.ErrRequestURINotSupported.WithHint("Only request_uri values issued by this server's pushed authorization request endpoint are accepted.")
	}
	if r.Form.Has("request") && r.Form.Get("client_id") == "" {
		return nil, fosite.ErrInvalidRequest.WithHint("The client_id parameter is required next to a request object (RFC 9101 §5).")
	}
	ro, err := p.requestObjectForm(ctx, r.Form, r.Form.Get("client_id"), nil)
	if err != nil {
		return nil, err
	}
	if ro != nil {
		r = syntheticAuthorizeRequest(r, ro.params)
	}
	ar, err := p.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		return ar, err
	}
	if ro == nil && requiresSignedRequestObject(ar.GetClient()) {
		return ar, errSignedRequestObjectRequired()
	}
	if ro != nil {
		if err := p.useRequestObject(ctx, ro); err != nil {
			return ar, err
		}
	}
	return ar, nil
}

// redirectAllowed reports whether an authorization response (success or
// error) may be sent to ar's redirect URI. fosite accepts a loopback URI on
// any port for every client (RFC 8252 §7.3); only public (native) clients get
// that: for a confidential client the target must be exactly a registered
// URI. Every redirect to a client goes through this check.
func redirectAllowed(ar fosite.AuthorizeRequester) bool {
	if ar == nil || !ar.IsRedirectURIValid() {
		return false
	}
	c, ok := ar.GetClient().(*authz.Client)
	if !ok {
		return false
	}
	if c.IsPublic() {
		return true
	}
	target := ar.GetRedirectURI().String()
	if raw := ar.GetRequestForm().Get("redirect_uri"); raw != "" && !slices.Contains(c.GetRedirectURIs(), raw) {
		return false
	}
	for _, reg := range c.GetRedirectURIs() {
		if reg == target {
			return true
		}
		if u, err := url.Parse(reg); err == nil && u.String() == target {
			return true
		}
	}
	return false
}

// ResumeAuthorizeRequest re-validates the stored parameters form of a
// parked authorization request (after login and consent), on the base of
// the browser's request r, so the response can be issued (Issue) or the
// refusal answered (AuthorizeError).
func (p *Authorizer) ResumeAuthorizeRequest(ctx context.Context, r *http.Request, form url.Values) (fosite.AuthorizeRequester, error) {
	return p.provider.NewAuthorizeRequest(ctx, syntheticAuthorizeRequest(r, form))
}
