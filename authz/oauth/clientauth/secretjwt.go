package clientauth

import (
	"context"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
)

// HMACAssertionAlgs are the JWS algorithms of client_secret_jwt assertions
// (RFC 7523 with an HMAC over the client secret; OIDC Core §9). The server
// derives each such secret (authz.SecretHasher.DeriveSecret) 86 characters
// long, a key long enough for all three (RFC 7518 §3.2).
func HMACAssertionAlgs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512}
}

// verifySecretJWT verifies a client_secret_jwt assertion's HMAC with the
// client's live secrets. The database holds only each secret's id and keyed
// hash; the server recomputes the secret from the id
// (authz.SecretHasher.DeriveSecret) and uses it only when its hash is the
// stored one (a secret generated at random for client_secret_basic, or
// imported, cannot be recomputed and is skipped). A "kid" header names the
// secret (its secret_id); without one each live secret is tried, newest
// first, so an assertion made with the previous secret works during a
// rotation's grace period.
func (p *Authenticator) verifySecretJWT(ctx context.Context, c fosite.OpenIDConnectClient, jws *jose.JSONWebSignature) error {
	invalid := func(hint string) error { return fosite.ErrInvalidClient.WithHint(hint) }
	sc, ok := c.(*authz.Client)
	if !ok || p.secrets == nil {
		return invalid("client_secret_jwt is not available for this client.")
	}
	kid := jws.Signatures[0].Header.KeyID
	reg := sc.Registration()
	now := p.now()
	tried := false
	for i := len(reg.Secrets) - 1; i >= 0; i-- {
		s := reg.Secrets[i]
		if s.ExpiresAt != nil && !s.ExpiresAt.After(now) || kid != "" && s.ID != kid {
			continue
		}
		if !p.secrets.DerivedSecretMatches(ctx, reg.ID, s.ID, s.Hash) {
			continue
		}
		tried = true
		if _, err := jws.Verify([]byte(p.secrets.DeriveSecret(reg.ID, s.ID))); err == nil {
			return nil
		}
	}
	switch {
	case !tried && kid != "":
		return invalid("The client_assertion 'kid' names no live client_secret_jwt secret of the client (it is the secret_id shown with the secret).")
	case !tried:
		return invalid("The client has no live secret for client_secret_jwt; rotate its secret to get one.")
	}
	return invalid("The client_assertion signature does not verify with the client's secret.")
}
