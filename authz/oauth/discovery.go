package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/rar"
	"github.com/strongroom/strongroom/authz/registration"
)

// discovery returns the OpenID Provider metadata (OIDC Discovery 1.0) which
// also serves as RFC 8414 authorization server metadata. It lists only what
// the server really supports.
func (p *core) discovery() map[string]any {
	c := &p.cfg
	authMethods := []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"}
	if p.mtlsConfigured() {
		authMethods = append(authMethods, mtls.MethodTLSClientAuth, mtls.MethodSelfSignedTLSClientAuth)
	}
	var assertionAlgs []string
	for _, alg := range clientAssertionAlgs() {
		assertionAlgs = append(assertionAlgs, string(alg))
	}
	d := map[string]any{
		"issuer":                                                   c.Issuer,
		"authorization_endpoint":                                   c.URL(authz.PathAuthorize),
		"token_endpoint":                                           c.URL(authz.PathToken),
		"userinfo_endpoint":                                        c.URL(authz.PathUserinfo),
		"jwks_uri":                                                 c.URL(authz.PathJWKS),
		"introspection_endpoint":                                   c.URL(authz.PathIntrospect),
		"revocation_endpoint":                                      c.URL(authz.PathRevoke),
		"pushed_authorization_request_endpoint":                    c.URL(authz.PathPAR),
		"require_pushed_authorization_requests":                    false,
		"scopes_supported":                                         []string{"openid", "profile", "email", "phone", "offline_access"},
		"response_types_supported":                                 authz.ResponseTypesSupported(),
		"response_modes_supported":                                 []string{"query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"},
		"grant_types_supported":                                    []string{"authorization_code", "client_credentials", "refresh_token"},
		"subject_types_supported":                                  []string{"public"},
		"id_token_signing_alg_values_supported":                    c.IDTokenAlgs,
		"token_endpoint_auth_methods_supported":                    append(append([]string{}, authMethods...), "none"),
		"token_endpoint_auth_signing_alg_values_supported":         assertionAlgs,
		"introspection_endpoint_auth_methods_supported":            authMethods,
		"introspection_endpoint_auth_signing_alg_values_supported": assertionAlgs,
		"revocation_endpoint_auth_methods_supported":               append(append([]string{}, authMethods...), "none"),
		"revocation_endpoint_auth_signing_alg_values_supported":    assertionAlgs,
		"code_challenge_methods_supported":                         []string{"S256"},
		"prompt_values_supported":                                  []string{"none", "login", "consent"},
		"claims_supported": []string{
			"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash", "c_hash",
			"name", "given_name", "family_name", "preferred_username", "updated_at", "email", "email_verified",
			"phone_number", "phone_number_verified",
		},
		"claims_parameter_supported": false,
		// RFC 9101: request objects by value (request); by reference only
		// the server's own PAR URNs
		"request_parameter_supported":                 true,
		"request_uri_parameter_supported":             false,
		"request_object_signing_alg_values_supported": registration.RequestObjectAlgs,
		"require_signed_request_object":               false, // per client (require_signed_request_object)
		// JARM and RFC 9701: the server's signing algorithms
		"authorization_signing_alg_values_supported":     p.signingAlgs(),
		"introspection_signing_alg_values_supported":     p.signingAlgs(),
		"authorization_response_iss_parameter_supported": true,
		"acr_values_supported":                           authz.ACRValuesSupported(),
		// OIDC RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (authz/logout.go, authz/backchannel.go)
		"end_session_endpoint":                  c.URL(authz.PathLogout),
		"backchannel_logout_supported":          true,
		"backchannel_logout_session_supported":  true,
		"frontchannel_logout_supported":         false,
		"frontchannel_logout_session_supported": false,
		// RFC 9449 §5.1 and RFC 8705 §3.3: sender-constrained tokens
		"dpop_signing_alg_values_supported":          p.dpop.Algorithms(),
		"tls_client_certificate_bound_access_tokens": true,
		// RFC 9396 §10: the built-in types; Discovery adds the registered ones
		"authorization_details_types_supported": rar.BuiltinTypes(),
	}
	if aliases := p.mtlsEndpointAliases(); aliases != nil {
		d["mtls_endpoint_aliases"] = aliases // RFC 8705 §5
	}
	return d
}

// DiscoveryJSON is Discovery encoded once, to be served from memory.
func (p *Tokens) DiscoveryJSON() ([]byte, error) {
	b, err := json.Marshal(p.discovery())
	if err != nil {
		return nil, fmt.Errorf("encode discovery: %w", err)
	}
	return b, nil
}

// Discovery is the metadata document as it stands now: DiscoveryJSON with
// authorization_details_types_supported listing the types registered at
// this moment (RFC 9396 §10), which change without a restart.
//
// The document is rebuilt at most every discoveryTTL (the database is read
// once per rebuild, not once per request: the endpoint is public and
// unauthenticated); clients are told to cache it far longer (max-age).
func (p *Tokens) Discovery(ctx context.Context) ([]byte, error) {
	// A wall clock, not p.now: this is a cache, not protocol time.
	if c := p.discoveryCache.Load(); c != nil && time.Since(c.at) < discoveryTTL {
		return c.doc, nil
	}
	b, err := p.buildDiscovery(ctx)
	if err != nil {
		return nil, err
	}
	p.discoveryCache.Store(&cachedDoc{doc: b, at: time.Now()})
	return b, nil
}

// discoveryTTL bounds how long a newly registered authorization details
// type may be missing from the discovery document of a node.
const discoveryTTL = 2 * time.Second

// cachedDoc is an encoded document and when it was built.
type cachedDoc struct {
	doc []byte
	at  time.Time
}

// buildDiscovery encodes the document with the types registered now.
func (p *Tokens) buildDiscovery(ctx context.Context) ([]byte, error) {
	d := p.discovery()
	types, err := p.rar.Types(ctx)
	if err != nil {
		return nil, authz.MapError(err)
	}
	d["authorization_details_types_supported"] = types
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode discovery: %w", err)
	}
	return b, nil
}

// grantTypes are the grant types the token endpoint serves.
func grantTypes() []string {
	return []string{"authorization_code", "client_credentials", "refresh_token"}
}

// GrantTypeSupported reports whether the token endpoint serves gt; any other
// grant type is answered unsupported_grant_type (RFC 6749 §5.2).
func GrantTypeSupported(gt string) bool { return slices.Contains(grantTypes(), gt) }
