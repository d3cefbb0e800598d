package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
)

// JWT Response for OAuth Token Introspection (RFC 9701): a caller that
// sends Accept: application/token-introspection+jwt gets the
// introspection answer as a JWT signed with the server's key, so that a
// resource server (a gateway) can keep proof of what it was told.

// IntrospectionJWTType is the media type of a JWT introspection response
// (RFC 9701 §4) and, without its "application/" prefix, the JWT's typ.
const IntrospectionJWTType = "application/token-introspection+jwt"

// WantsIntrospectionJWT reports whether an Accept header asks for a JWT
// introspection response (RFC 9701 §4): one of its media ranges is
// application/token-introspection+jwt with a non-zero q.
func WantsIntrospectionJWT(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || !strings.EqualFold(mt, IntrospectionJWTType) {
			continue
		}
		if q := strings.TrimSpace(params["q"]); q == "0" || q == "0.0" || q == "0.00" || q == "0.000" {
			continue
		}
		return true
	}
	return false
}

// IntrospectionJWT signs res, the introspection answer given to the
// authenticated client caller, as RFC 9701 §5 says: typ
// token-introspection+jwt; iss the issuer, aud the caller, iat now, a
// fresh jti, and the answer as the token_introspection claim (an inactive
// token is {"active":false} there too). The key is the server's active key
// for the caller's introspection_signed_response_alg (default ES256, else
// PS256, else the server's first algorithm).
func (p *Tokens) IntrospectionJWT(ctx context.Context, caller string, res *authz.Introspection) (string, error) {
	client, err := p.clients.Get(ctx, caller)
	if err != nil {
		return "", authz.MapError(fosite.ErrServerError.WithWrap(err).WithDebug("reading the introspecting client failed"))
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return "", fosite.ErrServerError.WithWrap(err)
	}
	var answer map[string]any
	if err := json.Unmarshal(raw, &answer); err != nil {
		return "", fosite.ErrServerError.WithWrap(err)
	}
	jti, err := authz.RandomToken(16)
	if err != nil {
		return "", fosite.ErrServerError.WithWrap(err)
	}
	claims := jwt.MapClaims{
		"iss":                 p.cfg.Issuer,
		"aud":                 caller,
		"iat":                 p.now().Unix(),
		"jti":                 jti,
		"token_introspection": answer,
	}
	alg := p.signedResponseAlg(client.Registration().Metadata.IntrospectionSignedResponseAlg)
	token, err := p.signJWT(ctx, alg, strings.TrimPrefix(IntrospectionJWTType, "application/"), claims)
	if err != nil {
		return "", fmt.Errorf("introspection response: %w", err)
	}
	return token, nil
}
