package grant

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// Token prefixes: every opaque token Strongroom issues starts with one, so a
// secret scanner (or a person reading a log) can tell what leaked. The part
// after the prefix is fosite's HMAC token (<key>.<signature>); only the
// signature is stored, so the prefix changes nothing that is persisted.
const (
	PrefixAccessToken   = "sr_at_"
	PrefixRefreshToken  = "sr_rt_"
	PrefixAuthorizeCode = "sr_ac_"
)

// legacyPrefix is what fosite's own strategy (and Strongroom before the sr_
// prefixes) put on tokens: ory_at_, ory_rt_, ory_ac_. Tokens issued with it
// stay valid until they expire.
const legacyPrefix = "ory_"

// PrefixedHMAC is fosite's HMAC-SHA strategy with Strongroom's prefixes. It
// accepts the legacy ory_ prefixes when validating.
type PrefixedHMAC struct {
	*oauth2.HMACSHAStrategyUnPrefixed
}

var _ oauth2.CoreStrategy = (*PrefixedHMAC)(nil)

// NewPrefixedHMAC wraps fosite's unprefixed HMAC-SHA strategy.
func NewPrefixedHMAC(s *oauth2.HMACSHAStrategyUnPrefixed) *PrefixedHMAC {
	return &PrefixedHMAC{HMACSHAStrategyUnPrefixed: s}
}

// trim removes the current or legacy prefix for part ("at", "rt", "ac").
func trim(token, prefix, part string) string {
	if t, ok := strings.CutPrefix(token, prefix); ok {
		return t
	}
	return strings.TrimPrefix(token, legacyPrefix+part+"_")
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (h *PrefixedHMAC) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := h.HMACSHAStrategyUnPrefixed.GenerateAccessToken(ctx, r)
	return PrefixAccessToken + t, sig, err
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (h *PrefixedHMAC) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	return h.HMACSHAStrategyUnPrefixed.ValidateAccessToken(ctx, r, trim(token, PrefixAccessToken, "at"))
}

// GenerateRefreshToken implements oauth2.RefreshTokenStrategy.
func (h *PrefixedHMAC) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := h.HMACSHAStrategyUnPrefixed.GenerateRefreshToken(ctx, r)
	return PrefixRefreshToken + t, sig, err
}

// ValidateRefreshToken implements oauth2.RefreshTokenStrategy.
func (h *PrefixedHMAC) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	return h.HMACSHAStrategyUnPrefixed.ValidateRefreshToken(ctx, r, trim(token, PrefixRefreshToken, "rt"))
}

// GenerateAuthorizeCode implements oauth2.AuthorizeCodeStrategy.
func (h *PrefixedHMAC) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := h.HMACSHAStrategyUnPrefixed.GenerateAuthorizeCode(ctx, r)
	return PrefixAuthorizeCode + t, sig, err
}

// ValidateAuthorizeCode implements oauth2.AuthorizeCodeStrategy.
func (h *PrefixedHMAC) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	return h.HMACSHAStrategyUnPrefixed.ValidateAuthorizeCode(ctx, r, trim(token, PrefixAuthorizeCode, "ac"))
}
