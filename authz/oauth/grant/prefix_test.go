package grant_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/hmac"

	"github.com/strongroom/strongroom/authz/oauth/grant"
)

func prefixedStrategy() *grant.PrefixedHMAC {
	cfg := &fosite.Config{GlobalSecret: []byte("0123456789abcdef0123456789abcdef"),
		AccessTokenLifespan: time.Hour, RefreshTokenLifespan: time.Hour, AuthorizeCodeLifespan: time.Minute}
	return grant.NewPrefixedHMAC(oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: cfg}, cfg))
}

func freshRequest() *fosite.Request {
	r := fosite.NewRequest()
	r.Session = &fosite.DefaultSession{ExpiresAt: map[fosite.TokenType]time.Time{}}
	r.RequestedAt = time.Now().UTC()
	return r
}

// TestOpaqueTokensCarrySrPrefixes: access tokens, refresh tokens and codes
// start with sr_at_, sr_rt_ and sr_ac_ (for secret scanners), validate, and
// keep the signature fosite stores (the part after the dot).
func TestOpaqueTokensCarrySrPrefixes(t *testing.T) {
	s, ctx, r := prefixedStrategy(), context.Background(), freshRequest()
	kinds := []struct {
		prefix   string
		generate func(context.Context, fosite.Requester) (string, string, error)
		validate func(context.Context, fosite.Requester, string) error
		sig      func(context.Context, string) string
	}{
		{"sr_at_", s.GenerateAccessToken, s.ValidateAccessToken, s.AccessTokenSignature},
		{"sr_rt_", s.GenerateRefreshToken, s.ValidateRefreshToken, s.RefreshTokenSignature},
		{"sr_ac_", s.GenerateAuthorizeCode, s.ValidateAuthorizeCode, s.AuthorizeCodeSignature},
	}
	for _, k := range kinds {
		token, sig, err := k.generate(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, k.prefix) {
			t.Errorf("token %.10s… lacks prefix %s", token, k.prefix)
		}
		if err := k.validate(ctx, r, token); err != nil {
			t.Errorf("%s token does not validate: %v", k.prefix, err)
		}
		if k.sig(ctx, token) != sig {
			t.Errorf("%s: stored signature differs from the token's", k.prefix)
		}
	}
}

// TestLegacyOryPrefixedTokensStillValid: tokens issued before the sr_
// prefixes (ory_at_, ory_rt_, ory_ac_) keep working until they expire; a
// token of one kind under another kind's prefix does not.
func TestLegacyOryPrefixedTokensStillValid(t *testing.T) {
	s, ctx, r := prefixedStrategy(), context.Background(), freshRequest()
	at, _, _ := s.GenerateAccessToken(ctx, r)
	rt, _, _ := s.GenerateRefreshToken(ctx, r)
	ac, _, _ := s.GenerateAuthorizeCode(ctx, r)
	if err := s.ValidateAccessToken(ctx, r, "ory_at_"+strings.TrimPrefix(at, "sr_at_")); err != nil {
		t.Errorf("legacy access token refused: %v", err)
	}
	if err := s.ValidateRefreshToken(ctx, r, "ory_rt_"+strings.TrimPrefix(rt, "sr_rt_")); err != nil {
		t.Errorf("legacy refresh token refused: %v", err)
	}
	if err := s.ValidateAuthorizeCode(ctx, r, "ory_ac_"+strings.TrimPrefix(ac, "sr_ac_")); err != nil {
		t.Errorf("legacy code refused: %v", err)
	}
	if err := s.ValidateAccessToken(ctx, r, "sr_rt_"+strings.TrimPrefix(at, "sr_at_")); err == nil {
		t.Error("an access token under the refresh-token prefix was accepted")
	}
}

// TestTokenShapeMatchesScanningPattern: the documented secret-scanning
// pattern (docs/integrate.md) matches every opaque token kind.
func TestTokenShapeMatchesScanningPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^sr_(at|rt|ac)_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$`)
	s, ctx, r := prefixedStrategy(), context.Background(), freshRequest()
	for _, gen := range []func(context.Context, fosite.Requester) (string, string, error){
		s.GenerateAccessToken, s.GenerateRefreshToken, s.GenerateAuthorizeCode} {
		tok, _, err := gen(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if !pattern.MatchString(tok) {
			t.Errorf("token of length %d does not match the documented pattern", len(tok))
		}
	}
}
