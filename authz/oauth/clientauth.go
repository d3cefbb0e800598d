package oauth

import (
	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/oauth/clientauth"
)

// Client authentication lives in authz/oauth/clientauth; these two answer
// discovery from it.

// clientAssertionAlgs are the JWS algorithms private_key_jwt assertions may
// use (clientauth.AssertionAlgs).
func clientAssertionAlgs() []jose.SignatureAlgorithm { return clientauth.AssertionAlgs() }

// mtlsConfigured reports whether client certificates can reach the server
// (clientauth.Authenticator.MTLSConfigured).
func (p *core) mtlsConfigured() bool { return p.clientAuth.MTLSConfigured() }
