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
// one rule fosite lacks: a request that names a pushed request (RFC 9126 §4)
// is read from the push alone. Only client_id and request_uri are taken from
// the front channel; every other parameter the browser carries (scope,
// response_mode, redirect_uri, state, nonce, PKCE, prompt, max_age, claims,
// response_type, ...) is ignored, as §4 requires, instead of being merged
// into the pushed one. A client_id that differs from the push's is
// invalid_request (fosite's check on the narrowed request).
func (p *Authorizer) NewAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	if err := r.ParseForm(); err != nil {
		return p.provider.NewAuthorizeRequest(ctx, r) // fosite answers the unreadable form
	}
	if uri := r.Form.Get("request_uri"); strings.HasPrefix(uri, parPrefix) {
		r = syntheticAuthorizeRequest(r, url.Values{"client_id": {r.Form.Get("client_id")}, "request_uri": {uri}})
	}
	return p.provider.NewAuthorizeRequest(ctx, r)
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
