package oauth

import (
	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/oauth/clientauth"
)

// Client authentication lives in authz/oauth/clientauth; these two answer
// discovery from it.

// clientAssertionAlgs are the JWS algorithms client assertions may use:
// private_key_jwt's (clientauth.AssertionAlgs), then client_secret_jwt's
// (clientauth.HMACAssertionAlgs).
func clientAssertionAlgs() []jose.SignatureAlgorithm {
	return append(clientauth.AssertionAlgs(), clientauth.HMACAssertionAlgs()...)
}

// mtlsConfigured reports whether client certificates can reach the server
// (clientauth.Authenticator.MTLSConfigured).
func (p *core) mtlsConfigured() bool { return p.clientAuth.MTLSConfigured() }
