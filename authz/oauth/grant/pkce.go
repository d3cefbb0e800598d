package grant

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
)

// PKCE is fosite's PKCE handler at the authorization endpoint (it
// stores the challenge with the code) and Strongroom's own check at the token
// endpoint. fosite's deletes the stored challenge before comparing and then
// waives PKCE for confidential clients, so a second try without a verifier
// passed. Here:
//   - a code issued with a challenge always needs the matching verifier,
//     whatever the client type;
//   - any PKCE failure burns the code: it is invalidated at once, so a later
//     request, even with the right verifier, is code reuse (invalid_grant,
//     and the grant's tokens are revoked);
//   - the stored challenge is never deleted early: it expires with the code.
type PKCE struct {
	*pkce.Handler
	// Codes invalidates a code after a PKCE failure.
	Codes oauth2.AuthorizeCodeStorage
	// Strategy derives a code's storage signature.
	Strategy oauth2.AuthorizeCodeStrategy
}

var _ fosite.TokenEndpointHandler = (*PKCE)(nil)

// verifierFormat is RFC 7636 §4.1: 43 to 128 unreserved characters.
var verifierFormat = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler. It runs
// after the code handler has checked that the code is live and was issued to
// the authenticated client.
func (h *PKCE) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	form := r.GetRequestForm()
	verifier := form.Get("code_verifier")
	signature := h.Strategy.AuthorizeCodeSignature(ctx, form.Get("code"))
	stored, err := h.Storage.GetPKCERequestSession(ctx, signature, r.GetSession().Clone())
	switch {
	case errors.Is(err, fosite.ErrNotFound):
		// The code was issued without a challenge (a confidential client
		// that chose not to use PKCE; public clients must, see
		// authz/oauth's checkAuthorizePolicy).
		if r.GetClient().IsPublic() {
			return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("This client must use PKCE."))
		}
		if verifier != "" {
			return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("The code_verifier was sent but the authorization request had no code_challenge."))
		}
		return nil
	case err != nil:
		return fosite.ErrServerError.WithWrap(err).WithDebug("reading the PKCE challenge failed")
	}
	challenge := stored.GetRequestForm().Get("code_challenge")
	method := stored.GetRequestForm().Get("code_challenge_method")
	if challenge == "" {
		if verifier != "" {
			return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("The code_verifier was sent but the authorization request had no code_challenge."))
		}
		return nil
	}
	switch {
	case verifier == "":
		return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("The code_verifier is required: the authorization request had a code_challenge."))
	case !verifierFormat.MatchString(verifier):
		return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("The code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-]."))
	case method != "S256":
		// plain is refused at the authorization endpoint; never compare it here.
		return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("Only the S256 code_challenge_method is supported."))
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return h.burn(ctx, signature, fosite.ErrInvalidGrant.WithHint("The code_verifier does not match the code_challenge."))
	}
	return nil
}

// burn invalidates the authorization code after a PKCE failure and returns
// fail. The code handler treats any later use of it as reuse.
func (h *PKCE) burn(ctx context.Context, signature string, fail *fosite.RFC6749Error) error {
	err := h.Codes.InvalidateAuthorizeCodeSession(ctx, signature)
	if err != nil && !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		// Not burnt: say so rather than answer as if it were.
		return fosite.ErrServerError.WithWrap(fmt.Errorf("invalidate the code after a PKCE failure: %w", err))
	}
	return fail
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler.
func (h *PKCE) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return nil
}
