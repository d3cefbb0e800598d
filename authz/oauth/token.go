package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/oauth/fositestore"
	"github.com/strongroom/strongroom/storage"
)

// Token answers a token request (RFC 6749 §3.2): fosite authenticates the
// client and runs the grant's handler (authz/oauth/grant holds the grant policy),
// then the sender constraint binds the tokens (binding.go: DPoP proof,
// client certificate; token_type DPoP for a DPoP-bound token);
// body is the JSON response (§5.1). clientID names the client the request
// authenticated or claimed (for the access log), also with an error, which
// is an OAuth error to answer as RFC 6749 §5.2 says.
func (p *Tokens) Token(ctx context.Context, r *http.Request) (clientID string, body map[string]any, err error) {
	if gt := r.PostForm.Get("grant_type"); gt != "" && !GrantTypeSupported(gt) {
		return "", nil, fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", truncate(gt, 64))
	}
	ar, err := p.provider.NewAccessRequest(ctx, r, authz.NewSession())
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if err != nil {
		return clientID, nil, err
	}
	bound, err := p.bindAccessRequest(ctx, r, ar)
	if err != nil {
		return clientID, nil, err
	}
	if bound.replay != nil {
		// One write: the proof's jti goes in with the access token
		// (fositestore.WithPendingJTI, storage.JTIs.CreateRequestOnce), not
		// in a write and commit of its own. A replay stores nothing and
		// fails exactly once across nodes (the jti's unique key); a request
		// whose tokens are not stored leaves its proof unused.
		ctx = fositestore.WithPendingJTI(ctx, bound.replay)
	}
	resp, err := p.provider.NewAccessResponse(ctx, ar)
	if errors.Is(err, storage.ErrJTIUsed) {
		return clientID, nil, proofError(dpop.Replayed())
	}
	if err != nil {
		return clientID, nil, err
	}
	if bound.replay != nil && !bound.replay.Written() {
		// no access token was stored (none of our grants does that): the
		// proof is recorded on its own, and the tokens are not handed out
		// if it was used before
		if err := p.store.UseJTI(ctx, bound.replay.Key, bound.replay.Until); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return clientID, nil, proofError(dpop.Replayed())
			}
			return clientID, nil, proofError(fmt.Errorf("record the DPoP proof: %w", err))
		}
	}
	if bound.dpop {
		resp.SetTokenType("DPoP") // RFC 9449 §5
	}
	return clientID, resp.ToMap(), nil
}

// clientAuthParams are the parameters of client authentication, read
// beside a request object at the PAR endpoint (RFC 9126 §3).
var clientAuthParams = []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"}

// PushAuthorize answers a pushed authorization request (RFC 9126 §2): the
// request is validated like at the authorization endpoint (fosite and
// checkAuthorizePolicy) and stored; body is the 201 response with its
// request_uri and expires_in. A signed request object (request, RFC 9101
// §6; RFC 9126 §3) is verified first and its claims alone are the request:
// only client authentication is read beside it; the authenticated client
// must be its issuer, and its jti is recorded once the client has
// authenticated. A client registered with require_signed_request_object
// must push one. clientID is for the access log, also with an error.
func (p *Tokens) PushAuthorize(ctx context.Context, r *http.Request) (clientID string, body map[string]any, err error) {
	if err := r.ParseForm(); err != nil {
		return "", nil, fosite.ErrInvalidRequest.WithHint("The request body could not be parsed.").WithWrap(err)
	}
	// the client the request names outside the object: client_id, else
	// the Basic header's (an assertion's iss is checked once it verified)
	outer := r.Form.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok && outer == "" {
		if id, err := url.QueryUnescape(id); err == nil {
			outer = id
		}
	}
	ro, err := p.requestObjectForm(ctx, r.Form, outer, clientAuthParams)
	if err != nil {
		return outer, nil, err
	}
	if ro != nil {
		r = withForm(r, ro.params)
	}
	ar, err := p.provider.NewPushedAuthorizeRequest(ctx, r)
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	if err == nil && ro == nil && requiresSignedRequestObject(ar.GetClient()) {
		err = errSignedRequestObjectRequired()
	}
	if err == nil && ro != nil && ro.clientID != clientID {
		err = errRequestObject("The request object was issued by another client than the one that authenticated.")
	}
	if err == nil && ro != nil {
		err = p.useRequestObject(ctx, ro)
	}
	if err == nil {
		err = p.checkAuthorizePolicy(ctx, ar, true)
	}
	if err == nil {
		err = p.bindPushedRequest(ctx, r, ar)
	}
	if err != nil {
		return clientID, nil, authz.AuthorizeRequestError(ar, err)
	}
	resp, err := p.provider.NewPushedAuthorizeResponse(ctx, ar, authz.NewSession())
	if err != nil {
		return clientID, nil, err
	}
	return clientID, resp.ToMap(), nil
}

// withForm is r with its parsed form replaced by form (a pushed request's
// parameters taken from its request object); the body was read.
func withForm(r *http.Request, form url.Values) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Form, r2.PostForm = form, form
	r2.Body = http.NoBody
	r2.ContentLength = 0
	return r2
}

// truncate cuts s, a client's value quoted in an error hint, to n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
