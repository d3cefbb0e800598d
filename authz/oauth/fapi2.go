package oauth

import (
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
)

// The FAPI 2.0 Security Profile at run time, for clients registered with
// profile fapi2 (registration checks what a registration can break,
// authz/registration). Sender-constrained tokens are enforced where tokens
// are issued and used (DPoP, mTLS binding), not here.

// fapi2MaxCodeLifetime is the longest an authorization code of a FAPI 2.0
// client lives (FAPI 2.0 SP §5.3.2.1: "shall issue authorization codes with
// a maximum lifetime of 60 seconds"), whatever serve --code-ttl says.
const fapi2MaxCodeLifetime = 60 * time.Second

// isFAPI2 reports whether c registered the FAPI 2.0 profile.
func isFAPI2(c fosite.Client) bool {
	sc, ok := c.(*authz.Client)
	return ok && sc.Registration().Metadata.IsFAPI2()
}

// checkFAPI2Authorize applies the FAPI 2.0 rules to an authorization
// request of a FAPI 2.0 client (pushed: at the PAR endpoint), each with its
// own error: PAR only (invalid_request), response_type code only
// (unsupported_response_type), PKCE with S256 (invalid_request; plain is
// refused by checkAuthorizePolicy for everyone).
func checkFAPI2Authorize(ar fosite.AuthorizeRequester, pushed bool) error {
	form := ar.GetRequestForm()
	if !pushed && !strings.HasPrefix(form.Get("request_uri"), parPrefix) {
		return fosite.ErrInvalidRequest.WithHint("FAPI 2.0 clients must send the authorization request by PAR (RFC 9126): authorize with a request_uri.")
	}
	if rt := ar.GetResponseTypes(); len(rt) != 1 || rt[0] != "code" {
		return fosite.ErrUnsupportedResponseType.WithHint("FAPI 2.0 clients may use only response_type=code.")
	}
	if form.Get("code_challenge") == "" {
		return fosite.ErrInvalidRequest.WithHint("FAPI 2.0 clients must use PKCE: code_challenge with code_challenge_method S256 is required.")
	}
	if form.Get("code_challenge_method") != "S256" {
		return fosite.ErrInvalidRequest.WithHint("FAPI 2.0 clients must use PKCE with code_challenge_method S256.")
	}
	return nil
}

// fapi2CodeLifetime is the longest a code issued to c may live (grant.Code's
// MaxLifetime): fapi2MaxCodeLifetime for a FAPI 2.0 client, else no cap.
func fapi2CodeLifetime(c fosite.Client) time.Duration {
	if isFAPI2(c) {
		return fapi2MaxCodeLifetime
	}
	return 0
}
