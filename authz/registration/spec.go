package registration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/ratelimit"
	"github.com/strongroom/strongroom/storage"
)

// Registration limits and supported values.
var (
	supportedGrantTypes  = []string{authz.GrantAuthorizationCode, authz.GrantClientCredentials, authz.GrantRefreshToken}
	supportedAuthMethods = []string{
		storage.AuthMethodSecretBasic, storage.AuthMethodSecretPost, storage.AuthMethodSecretJWT, storage.AuthMethodPrivateKeyJWT,
		storage.AuthMethodTLSClientAuth, storage.AuthMethodSelfSignedTLSClientAuth, storage.AuthMethodNone,
	}
	supportedResponseTypes = []string{"code", "code id_token"}
	supportedTokenFormats  = []string{storage.TokenFormatOpaque, storage.TokenFormatJWT}
	defaultIDTokenAlgs     = []string{"RS256", "ES256"}
)

// maxNameLen bounds client names, in characters.
const maxNameLen = 200

// ClientSpec is a client registration as operators write it: the RFC 7591
// (and OIDC Dynamic Registration / Back-Channel Logout) metadata names, plus
// Strongroom's own options. It is the body of the admin API's create and
// update calls and the unit of `clients import` / `clients export`.
// Whether the client is public follows from token_endpoint_auth_method
// "none" (RFC 7591 §2).
type ClientSpec struct {
	// ClientID is generated on create; import and export carry it so a client
	// keeps its id between environments.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is accepted by import only: an existing plain secret that
	// is hashed on the way in. It is never returned.
	ClientSecret string `json:"client_secret,omitempty"`

	ClientName               string          `json:"client_name"`
	GrantTypes               []string        `json:"grant_types"`
	ResponseTypes            []string        `json:"response_types,omitempty"`
	RedirectURIs             []string        `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   []string        `json:"post_logout_redirect_uris,omitempty"`
	Scope                    string          `json:"scope,omitempty"`
	Audience                 []string        `json:"audience,omitempty"`
	TokenEndpointAuthMethod  string          `json:"token_endpoint_auth_method"`
	JWKSURI                  string          `json:"jwks_uri,omitempty"`
	JWKS                     json.RawMessage `json:"jwks,omitempty"`
	IDTokenSignedResponseAlg string          `json:"id_token_signed_response_alg,omitempty"`
	// AccessTokenFormat is "opaque" (default) or "jwt" (RFC 9068).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// RequirePAR makes pushed authorization requests mandatory (RFC 9126 §6).
	RequirePAR bool `json:"require_pushed_authorization_requests,omitempty"`

	Contacts                         []string `json:"contacts,omitempty"`
	ClientURI                        string   `json:"client_uri,omitempty"`
	LogoURI                          string   `json:"logo_uri,omitempty"`
	PolicyURI                        string   `json:"policy_uri,omitempty"`
	TosURI                           string   `json:"tos_uri,omitempty"`
	BackchannelLogoutURI             string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool     `json:"backchannel_logout_session_required,omitempty"`
	RequireMFA                       bool     `json:"require_mfa,omitempty"`
	SkipConsent                      bool     `json:"skip_consent,omitempty"`
	// Introspect lets the client call the introspection endpoint (RFC 7662)
	// about its own tokens and the access tokens whose audience names it
	// (a resource server). Without it the endpoint refuses the client.
	Introspect bool `json:"introspect,omitempty"`
	// RateLimit is the client's own request limit at the token, PAR,
	// introspection and revocation endpoints: "<events>/<s|m|h>" (e.g.
	// "50/s") or "off"; "": the server's default.
	RateLimit string `json:"rate_limit,omitempty"`
	// RateLimitBurst is its burst (requests at once); 0: twice the events.
	// Needs rate_limit.
	RateLimitBurst int `json:"rate_limit_burst,omitempty"`
	// AuthorizationDetailsTypes are the RFC 9396 authorization details
	// types the client may request (§10 client metadata); none: the client
	// may send no authorization_details.
	AuthorizationDetailsTypes []string `json:"authorization_details_types,omitempty"`

	// Profile is "" or "fapi2": the FAPI 2.0 Security Profile, whose
	// registration rules (checkFAPI2) hold together.
	Profile string `json:"profile,omitempty"`
	// DPoPBoundAccessTokens requires DPoP proofs (RFC 9449 §5.2) on every
	// token request of the client.
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
	// TLSClientCertificateBoundAccessTokens binds the client's access tokens
	// to its TLS client certificate (RFC 8705 §3.4).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// TokenEndpointAuthSigningAlg is the one algorithm the client's
	// assertions may use (private_key_jwt, client_secret_jwt).
	TokenEndpointAuthSigningAlg string `json:"token_endpoint_auth_signing_alg,omitempty"`
	// Identity is the certificate subject of a tls_client_auth client
	// (RFC 8705 §2.1.2: tls_client_auth_subject_dn, _san_dns, _san_uri,
	// _san_ip, _san_email; exactly one).
	mtls.Identity

	// RequireSignedRequestObject makes every authorization request of the
	// client a signed request object (RFC 9101 §10.5).
	RequireSignedRequestObject bool `json:"require_signed_request_object,omitempty"`
	// RequestObjectSigningAlg is the one algorithm of the client's request
	// objects (OIDC Dynamic Registration §2).
	RequestObjectSigningAlg string `json:"request_object_signing_alg,omitempty"`
	// AuthorizationSignedResponseAlg signs the client's JARM responses.
	AuthorizationSignedResponseAlg string `json:"authorization_signed_response_alg,omitempty"`
	// IntrospectionSignedResponseAlg signs the JWT introspection responses
	// the client receives (RFC 9701 §6).
	IntrospectionSignedResponseAlg string `json:"introspection_signed_response_alg,omitempty"`

	// Disabled is carried by import and export; update uses disable/enable.
	Disabled bool `json:"disabled,omitempty"`
}

// ValidationError lists every problem of a client registration (or of an
// import file) at once. Messages name the RFC 7591 fields and never quote a
// secret or key material.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// Problems collects validation messages, to report them all at once.
type Problems []string

// Add appends one message.
func (p *Problems) Add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// Err is a *ValidationError listing p, or nil when p is empty.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// UsesSecret reports whether a client with this auth method authenticates
// with a client secret (client_secret_jwt signs its assertions with it).
func UsesSecret(authMethod string) bool {
	return authMethod == storage.AuthMethodSecretBasic || authMethod == storage.AuthMethodSecretPost ||
		authMethod == storage.AuthMethodSecretJWT
}

// UsesJWKS reports whether a client with this auth method registers its
// public keys (jwks or jwks_uri).
func UsesJWKS(authMethod string) bool {
	return authMethod == storage.AuthMethodPrivateKeyJWT || authMethod == storage.AuthMethodSelfSignedTLSClientAuth
}

// Policy is what a deployment relaxes in validation; the zero value is
// production's.
type Policy struct {
	// AllowInsecureRedirects lets confidential clients register plain http
	// redirect URIs on a loopback host (http://localhost:3000/callback),
	// for local development: set in dev mode or by serve
	// --allow-insecure-redirects, never by default. Public clients may use
	// loopback http anyway (RFC 8252 §7.3); other hosts always need https.
	AllowInsecureRedirects bool
}

// FlagAllowInsecureRedirects is the flag (serve, clients) that sets
// Policy.AllowInsecureRedirects; refusals name it.
const FlagAllowInsecureRedirects = "--allow-insecure-redirects"

// Build validates s under the production policy and returns the
// registration it describes, without id, secrets, state or timestamps.
// idTokenAlgs are the algorithms the server signs ID tokens with.
func (s *ClientSpec) Build(idTokenAlgs []string) (*storage.Client, error) {
	return s.BuildWith(idTokenAlgs, Policy{})
}

// BuildWith is Build under policy.
func (s *ClientSpec) BuildWith(idTokenAlgs []string, policy Policy) (*storage.Client, error) {
	var p Problems
	public := s.TokenEndpointAuthMethod == storage.AuthMethodNone
	c := &storage.Client{
		Public:                   public,
		TokenEndpointAuthMethod:  s.TokenEndpointAuthMethod,
		RequirePAR:               s.RequirePAR,
		JWKSURI:                  s.JWKSURI,
		AccessTokenFormat:        s.AccessTokenFormat,
		IDTokenSignedResponseAlg: s.IDTokenSignedResponseAlg,
		Disabled:                 s.Disabled,
	}
	if c.AccessTokenFormat == "" {
		c.AccessTokenFormat = storage.TokenFormatOpaque
	}

	c.Name = strings.TrimSpace(s.ClientName)
	switch {
	case c.Name == "":
		p.Add("client_name must not be empty")
	case len([]rune(c.Name)) > maxNameLen:
		p.Add("client_name must be at most %d characters", maxNameLen)
	case strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
		p.Add("client_name must not contain control characters")
	}

	// Grant types.
	c.GrantTypes = authz.Dedupe(s.GrantTypes)
	if len(c.GrantTypes) == 0 {
		p.Add("grant_types: at least one is required (supported: %s)", strings.Join(supportedGrantTypes, ", "))
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(supportedGrantTypes, g) {
			p.Add("grant_types: unknown grant type %q (supported: %s)", g, strings.Join(supportedGrantTypes, ", "))
		}
	}
	authCode := slices.Contains(c.GrantTypes, authz.GrantAuthorizationCode)
	if slices.Contains(c.GrantTypes, authz.GrantRefreshToken) && !authCode {
		p.Add("grant_types: refresh_token requires grant type authorization_code (refresh tokens are issued only with authorization codes)")
	}
	if public && slices.Contains(c.GrantTypes, authz.GrantClientCredentials) {
		p.Add("grant_types: client_credentials requires a confidential client (RFC 6749 §4.4), not token_endpoint_auth_method none")
	}
	if s.Introspect && public {
		p.Add("introspect requires a confidential client: the introspection endpoint authenticates its caller (RFC 7662 §2.1)")
	}

	// Client authentication.
	if !slices.Contains(supportedAuthMethods, s.TokenEndpointAuthMethod) {
		p.Add("token_endpoint_auth_method: unknown auth method %q (supported: %s)", s.TokenEndpointAuthMethod, strings.Join(supportedAuthMethods, ", "))
	}
	switch {
	case s.TokenEndpointAuthMethod == storage.AuthMethodPrivateKeyJWT:
		switch {
		case s.JWKSURI == "" && len(s.JWKS) == 0:
			p.Add("token_endpoint_auth_method: private_key_jwt requires jwks_uri or jwks")
		case s.JWKSURI != "" && len(s.JWKS) > 0:
			p.Add("jwks_uri and jwks are mutually exclusive (RFC 7591 §2)")
		}
	case s.TokenEndpointAuthMethod == storage.AuthMethodSelfSignedTLSClientAuth:
		if s.JWKSURI != "" {
			p.Add("jwks_uri: self_signed_tls_client_auth takes the certificate keys in jwks, not from jwks_uri")
		} else if len(s.JWKS) == 0 {
			p.Add("token_endpoint_auth_method: self_signed_tls_client_auth requires jwks, the public keys of the client's self-signed certificates (RFC 8705 §2.2)")
		}
	case (s.JWKSURI != "" || len(s.JWKS) > 0) && !s.signsRequestObjects():
		p.Add("jwks_uri and jwks are used only with token_endpoint_auth_method private_key_jwt or self_signed_tls_client_auth, or to verify signed request objects (require_signed_request_object, request_object_signing_alg)")
	}
	if s.JWKSURI != "" {
		if err := checkHTTPSURI(s.JWKSURI); err != nil {
			p.Add("jwks_uri %v", err)
		}
	}
	var jwks *jose.JSONWebKeySet
	if len(s.JWKS) > 0 {
		set, data, err := checkJWKS(s.JWKS)
		if err != nil {
			p.Add("jwks: %v", err)
		}
		c.JWKS, jwks = data, set
	}
	if jwks != nil && s.TokenEndpointAuthMethod == storage.AuthMethodSelfSignedTLSClientAuth {
		if err := mtls.ValidateSelfSignedJWKS(jwks); err != nil {
			p.Add("jwks: %s", mtlsProblem(err))
		}
	}
	checkTLSClientAuthIdentity(&p, s.TokenEndpointAuthMethod, s.Identity)
	checkAuthSigningAlg(&p, s.TokenEndpointAuthMethod, s.TokenEndpointAuthSigningAlg, jwks)

	// Redirection endpoints (RFC 6749 §3.1.2, RFC 9700 §4.1).
	c.RedirectURIs = authz.Dedupe(s.RedirectURIs)
	if authCode && len(c.RedirectURIs) == 0 {
		p.Add("redirect_uris: grant type authorization_code requires at least one redirect URI")
	}
	if !authCode && len(c.RedirectURIs) > 0 {
		p.Add("redirect_uris are used only with grant type authorization_code")
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u, public, policy.AllowInsecureRedirects); err != nil {
			p.Add("redirect_uris: %v", err)
		}
	}
	c.PostLogoutRedirectURIs = authz.Dedupe(s.PostLogoutRedirectURIs)
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u, public, policy.AllowInsecureRedirects); err != nil {
			p.Add("post_logout_redirect_uris: %v", err)
		}
	}

	// Scopes (RFC 6749 §3.3).
	scopes, err := ParseScope(s.Scope)
	if err != nil {
		p.Add("scope: %v", err)
	}
	c.Scopes = scopes
	checkAdminScope(&p, c.Scopes, c.GrantTypes, public)

	// Response types: only for the authorization code flow.
	if authCode {
		c.ResponseTypes = authz.Dedupe(s.ResponseTypes)
		if len(c.ResponseTypes) == 0 {
			c.ResponseTypes = []string{"code"}
		}
	} else if len(s.ResponseTypes) > 0 {
		p.Add("response_types are used only with grant type authorization_code")
	}
	for _, rt := range c.ResponseTypes {
		if !slices.Contains(supportedResponseTypes, rt) {
			p.Add("response_types: unknown response type %q (supported: %q, %q)", rt, supportedResponseTypes[0], supportedResponseTypes[1])
		} else if strings.Contains(rt, "id_token") && !slices.Contains(c.Scopes, "openid") {
			p.Add("response_types: %q requires the openid scope", rt)
		}
	}

	c.Audience = authz.Dedupe(s.Audience)
	for _, aud := range c.Audience {
		if aud == "" || strings.IndexFunc(aud, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			p.Add("audience: %q must be non-empty without whitespace", aud)
		}
	}

	if !slices.Contains(supportedTokenFormats, c.AccessTokenFormat) {
		p.Add("access_token_format: unknown format %q (supported: %s)", c.AccessTokenFormat, strings.Join(supportedTokenFormats, ", "))
	}
	if len(idTokenAlgs) == 0 {
		idTokenAlgs = defaultIDTokenAlgs
	}
	if s.IDTokenSignedResponseAlg != "" && !slices.Contains(idTokenAlgs, s.IDTokenSignedResponseAlg) {
		p.Add("id_token_signed_response_alg: unsupported algorithm %q (supported: %s)", s.IDTokenSignedResponseAlg, strings.Join(idTokenAlgs, ", "))
	}

	// Registration metadata (RFC 7591 §2, OIDC Back-Channel Logout §2.2).
	md := storage.ClientMetadata{
		Contacts:                         authz.Dedupe(s.Contacts),
		ClientURI:                        s.ClientURI,
		LogoURI:                          s.LogoURI,
		PolicyURI:                        s.PolicyURI,
		TosURI:                           s.TosURI,
		BackchannelLogoutURI:             s.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: s.BackchannelLogoutSessionRequired,
		RequireMFA:                       s.RequireMFA,
		SkipConsent:                      s.SkipConsent,
		Introspect:                       s.Introspect,
		RateLimitBurst:                   s.RateLimitBurst,
		AuthorizationDetailsTypes:        authz.Dedupe(s.AuthorizationDetailsTypes),

		Profile:                               s.Profile,
		DPoPBoundAccessTokens:                 s.DPoPBoundAccessTokens,
		TLSClientCertificateBoundAccessTokens: s.TLSClientCertificateBoundAccessTokens,
		TokenEndpointAuthSigningAlg:           s.TokenEndpointAuthSigningAlg,
		TLSClientAuthSubjectDN:                strings.TrimSpace(s.SubjectDN),
		TLSClientAuthSANDNS:                   strings.TrimSpace(s.SANDNS),
		TLSClientAuthSANURI:                   strings.TrimSpace(s.SANURI),
		TLSClientAuthSANIP:                    strings.TrimSpace(s.SANIP),
		TLSClientAuthSANEmail:                 strings.TrimSpace(s.SANEmail),

		RequireSignedRequestObject:     s.RequireSignedRequestObject,
		RequestObjectSigningAlg:        s.RequestObjectSigningAlg,
		AuthorizationSignedResponseAlg: s.AuthorizationSignedResponseAlg,
		IntrospectionSignedResponseAlg: s.IntrospectionSignedResponseAlg,
	}
	for _, t := range md.AuthorizationDetailsTypes {
		if t == "" || len(t) > 64 || strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			p.Add("authorization_details_types: %q must be 1 to 64 bytes without whitespace", t)
		}
	}
	checkSignedMessages(&p, s, idTokenAlgs, jwks)
	for _, addr := range md.Contacts {
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr || a.Name != "" {
			p.Add("contacts: %q is not an email address", addr)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"client_uri", md.ClientURI}, {"logo_uri", md.LogoURI}, {"policy_uri", md.PolicyURI},
		{"tos_uri", md.TosURI}, {"backchannel_logout_uri", md.BackchannelLogoutURI},
	} {
		if f.value == "" {
			continue
		}
		if err := checkHTTPSURI(f.value); err != nil {
			p.Add("%s %v", f.name, err)
		}
	}
	md.RateLimit = checkRateLimit(&p, s.RateLimit, s.RateLimitBurst)
	if md.BackchannelLogoutSessionRequired && md.BackchannelLogoutURI == "" {
		p.Add("backchannel_logout_session_required needs backchannel_logout_uri")
	}
	c.Metadata = md
	checkProfile(&p, c, jwks)

	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkRateLimit validates a client's own rate limit and returns it as
// stored ("50/s", "off" or "").
func checkRateLimit(p *Problems, limit string, burst int) string {
	if strings.TrimSpace(limit) == "" {
		if burst != 0 {
			p.Add("rate_limit_burst needs rate_limit")
		}
		return ""
	}
	r, err := ratelimit.ParseRate(limit)
	if err != nil {
		p.Add("rate_limit: %v", err)
		return ""
	}
	switch {
	case r.IsOff() && burst != 0:
		p.Add("rate_limit_burst: rate_limit is off")
	case burst < 0:
		p.Add("rate_limit_burst must be positive")
	default:
		if err := r.WithBurst(burst).Validate(); err != nil {
			p.Add("rate_limit_burst: %v", err)
		}
	}
	return r.String()
}

// reservedScopes are the scopes the server gives a meaning to. fosite
// compares scopes without regard to case in places (Arguments.Has), so a
// registered scope that differs from one of them only in case could pass
// for it there while the exact scope strategy grants it as written: it can
// only be a mistake or a trick, and is refused.
var reservedScopes = []string{authz.AdminScope, "openid", "profile", "email", "offline_access", "offline"}

// checkAdminScope keeps the admin scope to operator clients: a client
// registered with strongroom:admin may use the client credentials grant
// only, and must be confidential, so that no token obtained through a
// user-facing grant (authorization code, refresh) can carry it. Case
// variants of reserved scopes are refused (reservedScopes). The admin API
// checks the token's grant again at use time (AuthenticateAdmin) for
// registrations made before this rule.
func checkAdminScope(p *Problems, scopes, grantTypes []string, public bool) {
	for _, sc := range scopes {
		for _, r := range reservedScopes {
			if sc != r && strings.EqualFold(sc, r) {
				p.Add("scope: %q differs from %s only in case; write %s exactly", sc, r, r)
			}
		}
	}
	if !slices.Contains(scopes, authz.AdminScope) {
		return
	}
	if public {
		p.Add("scope: %s requires a confidential client, not token_endpoint_auth_method none", authz.AdminScope)
	}
	for _, g := range grantTypes {
		if g != authz.GrantClientCredentials {
			p.Add("scope: %s is for operator clients using only grant type client_credentials; remove grant type %s (a token obtained for a user must never open the admin API)", authz.AdminScope, g)
		}
	}
}

// FromClient is the registration of c as a spec (no secret).
func FromClient(c *storage.Client) ClientSpec {
	s := ClientSpec{
		ClientID:                              c.ID,
		ClientName:                            c.Name,
		GrantTypes:                            slices.Clone(c.GrantTypes),
		ResponseTypes:                         slices.Clone(c.ResponseTypes),
		RedirectURIs:                          slices.Clone(c.RedirectURIs),
		PostLogoutRedirectURIs:                slices.Clone(c.PostLogoutRedirectURIs),
		Scope:                                 strings.Join(c.Scopes, " "),
		Audience:                              slices.Clone(c.Audience),
		TokenEndpointAuthMethod:               c.TokenEndpointAuthMethod,
		JWKSURI:                               c.JWKSURI,
		IDTokenSignedResponseAlg:              c.IDTokenSignedResponseAlg,
		AccessTokenFormat:                     c.AccessTokenFormat,
		RequirePAR:                            c.RequirePAR,
		Contacts:                              slices.Clone(c.Metadata.Contacts),
		ClientURI:                             c.Metadata.ClientURI,
		LogoURI:                               c.Metadata.LogoURI,
		PolicyURI:                             c.Metadata.PolicyURI,
		TosURI:                                c.Metadata.TosURI,
		BackchannelLogoutURI:                  c.Metadata.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:      c.Metadata.BackchannelLogoutSessionRequired,
		RequireMFA:                            c.Metadata.RequireMFA,
		SkipConsent:                           c.Metadata.SkipConsent,
		Introspect:                            c.Metadata.Introspect,
		RateLimit:                             c.Metadata.RateLimit,
		RateLimitBurst:                        c.Metadata.RateLimitBurst,
		AuthorizationDetailsTypes:             slices.Clone(c.Metadata.AuthorizationDetailsTypes),
		Profile:                               c.Metadata.Profile,
		DPoPBoundAccessTokens:                 c.Metadata.DPoPBoundAccessTokens,
		TLSClientCertificateBoundAccessTokens: c.Metadata.TLSClientCertificateBoundAccessTokens,
		TokenEndpointAuthSigningAlg:           c.Metadata.TokenEndpointAuthSigningAlg,
		Identity:                              TLSClientAuthIdentity(c),
		RequireSignedRequestObject:            c.Metadata.RequireSignedRequestObject,
		RequestObjectSigningAlg:               c.Metadata.RequestObjectSigningAlg,
		AuthorizationSignedResponseAlg:        c.Metadata.AuthorizationSignedResponseAlg,
		IntrospectionSignedResponseAlg:        c.Metadata.IntrospectionSignedResponseAlg,
		Disabled:                              c.Disabled,
	}
	if s.TokenEndpointAuthMethod == "" { // registered before the method was recorded
		s.TokenEndpointAuthMethod = storage.AuthMethodSecretBasic
		if c.Public {
			s.TokenEndpointAuthMethod = storage.AuthMethodNone
		}
	}
	if len(c.JWKS) > 0 && json.Valid(c.JWKS) {
		s.JWKS = json.RawMessage(slices.Clone(c.JWKS))
	}
	return s
}

// CheckRedirectURI enforces exact, safe redirection endpoints: an absolute
// URL without fragment (RFC 6749 §3.1.2), wildcard or user info, on https;
// http only for public (native) clients on a loopback host (RFC 8252 §7.3).
func CheckRedirectURI(raw string, public bool) error { return checkRedirectURI(raw, public, false) }

// checkRedirectURI is CheckRedirectURI where allowInsecure also lets
// confidential clients use http on a loopback host (Policy).
func checkRedirectURI(raw string, public, allowInsecure bool) error {
	if strings.Contains(raw, "*") {
		return fmt.Errorf("%q must not contain a wildcard", raw)
	}
	if strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not contain a fragment", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q must be an absolute URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not contain user information", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		loopback := isLoopback(u.Hostname())
		if !public && !loopback {
			return fmt.Errorf("%q must use https (http is allowed only for public clients on a loopback host)", raw)
		}
		if !loopback {
			return fmt.Errorf("%q must use https (http is allowed only on 127.0.0.1, [::1] or localhost)", raw)
		}
		if !public && !allowInsecure {
			return fmt.Errorf("%q must use https: a confidential client may use http on a loopback host only for local development, "+
				"with serve --dev or %s (public clients may use it anyway)", raw, FlagAllowInsecureRedirects)
		}
		return nil
	}
	return fmt.Errorf("%q must use https", raw)
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// checkHTTPSURI requires an absolute https URL without fragment, wildcard or user info.
func checkHTTPSURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case strings.Contains(raw, "*"):
		return fmt.Errorf("%q must not contain a wildcard", raw)
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%q must be an absolute URL", raw)
	case u.Scheme != "https":
		return fmt.Errorf("%q must use https", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q must not contain a fragment", raw)
	case u.User != nil:
		return fmt.Errorf("%q must not contain user information", raw)
	}
	return nil
}

// checkJWKS requires a JWK Set (RFC 7517 §5) of valid public signing keys
// with distinct key ids and returns it parsed and re-encoded. Errors never
// quote the content: it might hold a private key by mistake.
func checkJWKS(data []byte) (*jose.JSONWebKeySet, []byte, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, errors.New("not a JWK Set")
	}
	if len(set.Keys) == 0 {
		return nil, nil, errors.New(`not a JWK Set with keys (expected {"keys": [...]})`)
	}
	kids := map[string]bool{}
	for i, k := range set.Keys {
		switch {
		case !k.IsPublic():
			return nil, nil, fmt.Errorf("key %d is a private or symmetric key; register public keys only", i+1)
		case !k.Valid():
			return nil, nil, fmt.Errorf("key %d is not a valid key", i+1)
		case k.Use != "" && k.Use != "sig":
			return nil, nil, fmt.Errorf("key %d has use %q; client authentication needs signing keys", i+1, k.Use)
		case k.KeyID != "" && kids[k.KeyID]:
			return nil, nil, fmt.Errorf("key id %q appears twice", k.KeyID)
		}
		kids[k.KeyID] = true
	}
	out, err := json.Marshal(set)
	if err != nil {
		return nil, nil, fmt.Errorf("encode: %w", err)
	}
	return &set, out, nil
}

// ParseScope splits a space-delimited scope string and checks each token
// against RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func ParseScope(scope string) ([]string, error) {
	var tokens []string
	for _, tok := range strings.Split(scope, " ") {
		if tok == "" {
			continue
		}
		for _, r := range tok {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil, fmt.Errorf("%q is not a valid scope token (RFC 6749 §3.3: printable ASCII except space, '\"' and '\\')", tok)
			}
		}
		tokens = append(tokens, tok)
	}
	return authz.Dedupe(tokens), nil
}

// DecodeClientSpecs reads one spec or a list of specs from JSON. Unknown
// fields are refused (a typo must not silently drop a setting).
func DecodeClientSpecs(data []byte) ([]ClientSpec, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty document")
	}
	if data[0] == '{' {
		var s ClientSpec
		if err := decodeStrict(data, &s); err != nil {
			return nil, err
		}
		return []ClientSpec{s}, nil
	}
	var specs []ClientSpec
	if err := decodeStrict(data, &specs); err != nil {
		return nil, err
	}
	return specs, nil
}

// MergePatch applies patch, a JSON object of spec fields, onto s: each
// field given replaces s's (RFC 7396 for top-level fields); unknown fields
// are refused.
func (s *ClientSpec) MergePatch(patch []byte) error { return decodeStrict(patch, s) }

// decodeStrict decodes exactly one JSON value into v, refusing unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: data after the document")
	}
	return nil
}
