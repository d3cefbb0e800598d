package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"
	"github.com/strongroom/strongroom/authz"
)

// Revoke answers RFC 7009 token revocation. The client authenticates like at
// the token endpoint; a token that is unknown, expired or already revoked is
// not an error (§2.2: 200 either way), but a request refused for its client
// authentication (including two methods at once) is never answered 200.
// Another client's token is answered like an unknown one and not revoked.
// nil means 200 with an empty body.
func (p *Tokens) Revoke(ctx context.Context, r *http.Request) error {
	if r.PostForm.Get("token") == "" {
		// Authenticate first, so a caller without credentials learns nothing more.
		if _, err := p.provider.AuthenticateClient(ctx, r, r.PostForm); err != nil {
			return err
		}
		return fosite.ErrInvalidRequest.WithHint("The token parameter is missing.")
	}
	err := authz.MapError(p.provider.NewRevocationRequest(ctx, r))
	// fosite answers a token no handler could revoke with a bare invalid_request.
	unknownToken := err != nil && fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrInvalidRequest.ErrorField &&
		!errors.Is(err, authz.ErrClientAuthRequest)
	// fosite's revocation handler answers another client's token with
	// unauthorized_client, after the caller authenticated and before
	// anything is revoked. Answered so, it would tell any client which
	// strings are live tokens of other clients: a foreign token is answered
	// exactly as an unknown one (RFC 7009 §2.2: 200), and stays valid.
	foreignToken := errors.Is(err, fosite.ErrUnauthorizedClient)
	if err != nil && !unknownToken && !foreignToken {
		return err
	}
	return nil
}
