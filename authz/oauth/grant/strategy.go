package grant

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/strongroom/strongroom/authz"
)

// TokenStrategy issues opaque HMAC tokens (only their signature is stored) and,
// for clients that ask for them, RFC 9068 JWT access tokens. Refresh tokens and
// authorization codes are always opaque.
type TokenStrategy struct {
	*PrefixedHMAC
	// JWT signs the access tokens of clients registered for JWTs.
	JWT *oauth2.DefaultJWTStrategy
	// Issuer is the aud of a JWT whose grant has no audience (RFC 9068 §3 default).
	Issuer string
}

var _ oauth2.CoreStrategy = (*TokenStrategy)(nil)

func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

func wantsJWT(r fosite.Requester) bool {
	c, ok := r.GetClient().(*authz.Client)
	return ok && c.AccessTokenFormat() == "jwt"
}

// AccessTokenSignature implements oauth2.AccessTokenStrategy.
func (s *TokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return s.JWT.AccessTokenSignature(ctx, token)
	}
	return s.PrefixedHMAC.AccessTokenSignature(ctx, token)
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s *TokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if wantsJWT(r) {
		if len(r.GetGrantedAudience()) == 0 {
			r = withAudience{Requester: r, aud: IssuerAudience(nil, s.Issuer)}
		}
		return s.JWT.GenerateAccessToken(ctx, r)
	}
	return s.PrefixedHMAC.GenerateAccessToken(ctx, r)
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (s *TokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if isJWT(token) {
		return s.JWT.ValidateAccessToken(ctx, r, token)
	}
	return s.PrefixedHMAC.ValidateAccessToken(ctx, r, token)
}

// withAudience is a request whose granted audience reads as aud.
type withAudience struct {
	fosite.Requester
	aud fosite.Arguments
}

// GetGrantedAudience implements fosite.Requester.
func (w withAudience) GetGrantedAudience() fosite.Arguments { return w.aud }
