package authz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// authenticateClient wraps fosite's client authentication with the rules
// fosite v0.49 lacks: a cap on private_key_jwt assertion lifetimes, replay
// answered as 401 invalid_client (not fosite's 400 jti_known), and database
// failures answered as 503 instead of invalid_client.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Get("client_assertion_type") != "" {
		if err := p.checkAssertionLifetime(form.Get("client_assertion")); err != nil {
			return nil, err
		}
	}
	c, err := p.OAuth2.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err != nil {
		err = MapError(err)
		var rfc *fosite.RFC6749Error
		switch {
		case !errors.As(err, &rfc):
			// e.g. an expired or malformed assertion surfaces as a bare JWT error
			err = fosite.ErrInvalidClient.WithWrap(err).WithHint("The client could not be authenticated.")
		case rfc.ErrorField == fosite.ErrInvalidRequest.ErrorField:
			// Missing or malformed credentials are invalid_client (RFC 6749 §5.2), 401.
			err = fosite.ErrInvalidClient.WithWrap(err).WithHint(rfc.HintField)
		}
		return nil, err
	}
	return c, nil
}

// checkAssertionLifetime refuses assertions whose exp lies further ahead than
// the configured maximum. The signature is verified later by fosite; reading
// exp first is harmless because an assertion that fails here is refused anyway.
func (p *Provider) checkAssertionLifetime(assertion string) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return fosite.ErrInvalidClient.WithHint("The client_assertion is not a compact JWS.")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fosite.ErrInvalidClient.WithHint("The client_assertion payload is not base64url.")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == nil {
		return fosite.ErrInvalidClient.WithHint("The client_assertion must carry a numeric 'exp' claim.")
	}
	exp, err := claims.Exp.Float64()
	if err != nil {
		return fosite.ErrInvalidClient.WithHint("The client_assertion 'exp' claim is not a number.")
	}
	if time.Unix(int64(exp), 0).Sub(p.now()) > p.Config.ClientAssertionMaxLifetime {
		return fosite.ErrInvalidClient.WithHintf("The client_assertion expires too far in the future (at most %s).", p.Config.ClientAssertionMaxLifetime)
	}
	return nil
}

// MapError rewrites errors whose fosite default is wrong for us:
//   - a storage outage becomes 503 temporarily_unavailable (fosite would say
//     invalid_client, or active:false at introspection);
//   - a replayed client assertion becomes 401 invalid_client.
func MapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrUnavailable):
		return fosite.ErrTemporarilyUnavailable.WithWrap(err).WithHint("The authorization server's database is unavailable; retry later.")
	case errors.Is(err, fosite.ErrJTIKnown):
		return fosite.ErrInvalidClient.WithWrap(err).WithHint("The client_assertion 'jti' was already used.")
	}
	return err
}
