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
// nil means 200 with an empty body.
func (p *Tokens) Revoke(ctx context.Context, r *http.Request) (err error) {
	ctx, span := p.startSpan(ctx, "oauth.Revoke")
	defer func() { endSpan(span, "", err) }()
	if r.PostForm.Get("token") == "" {
		// Authenticate first, so a caller without credentials learns nothing more.
		if _, err := p.provider.AuthenticateClient(ctx, r, r.PostForm); err != nil {
			return err
		}
		return fosite.ErrInvalidRequest.WithHint("The token parameter is missing.")
	}
	err = authz.MapError(p.provider.NewRevocationRequest(ctx, r))
	// fosite answers a token no handler could revoke with a bare invalid_request.
	unknownToken := err != nil && fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrInvalidRequest.ErrorField &&
		!errors.Is(err, authz.ErrClientAuthRequest)
	if err != nil && !unknownToken {
		return err
	}
	return nil
}
