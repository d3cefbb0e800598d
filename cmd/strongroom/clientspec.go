package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/storage"
)

// Grant types a client may be registered for.
const (
	grantAuthorizationCode = "authorization_code"
	grantClientCredentials = "client_credentials"
	grantRefreshToken      = "refresh_token"
)

var (
	supportedGrantTypes    = []string{grantAuthorizationCode, grantClientCredentials, grantRefreshToken}
	supportedAuthMethods   = []string{storage.AuthMethodSecretBasic, storage.AuthMethodSecretPost, storage.AuthMethodPrivateKeyJWT, storage.AuthMethodNone}
	supportedResponseTypes = []string{"code", "code id_token"}
	supportedTokenFormats  = []string{storage.TokenFormatOpaque, storage.TokenFormatJWT}
	supportedIDTokenAlgs   = []string{"RS256", "ES256"}
)

// clientSpec is what `clients create` is asked to register, as given on the
// command line.
type clientSpec struct {
	name                   string
	grantTypes             []string
	redirectURIs           []string
	postLogoutRedirectURIs []string
	backchannelLogoutURI   string
	firstParty             bool
	responseTypes          []string
	responseTypesSet       bool // --response-type was given (not the default)
	scope                  string
	authMethod             string
	public                 bool
	requirePAR             bool
	requireMFA             bool
	jwksURI                string
	jwksFile               string
	accessTokenFormat      string
	idTokenAlg             string
	audience               []string
}

// build validates s and returns the registration it describes, without id,
// secrets or timestamps. Every problem is reported at once, as a usage error.
// readFile reads the --jwks-file.
func (s *clientSpec) build(readFile func(string) ([]byte, error)) (*storage.Client, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	c := &storage.Client{
		Public:                   s.public,
		TokenEndpointAuthMethod:  s.authMethod,
		RequirePAR:               s.requirePAR,
		Metadata:                 storage.ClientMetadata{RequireMFA: s.requireMFA},
		JWKSURI:                  s.jwksURI,
		AccessTokenFormat:        s.accessTokenFormat,
		IDTokenSignedResponseAlg: s.idTokenAlg,
	}

	c.Name = strings.TrimSpace(s.name)
	switch {
	case c.Name == "":
		fail("--name must not be empty")
	case len([]rune(c.Name)) > 200:
		fail("--name must be at most 200 characters")
	case strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
		fail("--name must not contain control characters")
	}

	// Grant types.
	c.GrantTypes = dedupe(s.grantTypes)
	if len(c.GrantTypes) == 0 {
		fail("at least one --grant-type is required (supported: %s)", strings.Join(supportedGrantTypes, ", "))
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(supportedGrantTypes, g) {
			fail("unknown grant type %q (supported: %s)", g, strings.Join(supportedGrantTypes, ", "))
		}
	}
	authCode := slices.Contains(c.GrantTypes, grantAuthorizationCode)
	if slices.Contains(c.GrantTypes, grantRefreshToken) && !authCode {
		fail("grant type refresh_token requires grant type authorization_code (refresh tokens are issued only with authorization codes)")
	}
	if s.public && slices.Contains(c.GrantTypes, grantClientCredentials) {
		fail("grant type client_credentials requires a confidential client (RFC 6749 §4.4), not --public")
	}

	// Client authentication.
	switch {
	case !slices.Contains(supportedAuthMethods, s.authMethod):
		fail("unknown auth method %q (supported: %s)", s.authMethod, strings.Join(supportedAuthMethods, ", "))
	case s.public && s.authMethod != storage.AuthMethodNone:
		fail("--public requires --auth-method none (a public client cannot authenticate)")
	case !s.public && s.authMethod == storage.AuthMethodNone:
		fail("--auth-method none requires --public (a client that does not authenticate is public)")
	}
	if s.authMethod == storage.AuthMethodPrivateKeyJWT {
		switch {
		case s.jwksURI == "" && s.jwksFile == "":
			fail("--auth-method private_key_jwt requires --jwks-uri or --jwks-file")
		case s.jwksURI != "" && s.jwksFile != "":
			fail("--jwks-uri and --jwks-file are mutually exclusive")
		}
	} else if s.jwksURI != "" || s.jwksFile != "" {
		fail("--jwks-uri and --jwks-file are used only with --auth-method private_key_jwt")
	}
	if s.jwksURI != "" {
		if err := checkJWKSURI(s.jwksURI); err != nil {
			errs = append(errs, err)
		}
	}
	if s.jwksFile != "" {
		jwks, err := readJWKS(readFile, s.jwksFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.JWKS = jwks
	}

	// Redirection endpoints (RFC 6749 §3.1.2, RFC 9700 §4.1).
	c.RedirectURIs = dedupe(s.redirectURIs)
	if authCode && len(c.RedirectURIs) == 0 {
		fail("grant type authorization_code requires at least one --redirect-uri")
	}
	if !authCode && len(c.RedirectURIs) > 0 {
		fail("--redirect-uri is used only with grant type authorization_code")
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u, s.public); err != nil {
			errs = append(errs, fmt.Errorf("--redirect-uri %w", err))
		}
	}
	c.PostLogoutRedirectURIs = dedupe(s.postLogoutRedirectURIs)
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u, s.public); err != nil {
			errs = append(errs, fmt.Errorf("--post-logout-redirect-uri %w", err))
		}
	}
	// OIDC Back-Channel Logout 1.0 §2.2: an absolute URL without fragment (https, or http on loopback).
	c.Metadata.BackchannelLogoutURI = s.backchannelLogoutURI
	if s.backchannelLogoutURI != "" {
		if err := checkRedirectURI(s.backchannelLogoutURI, true); err != nil {
			errs = append(errs, fmt.Errorf("--backchannel-logout-uri %w", err))
		}
	}
	c.Metadata.SkipConsent = s.firstParty

	// Scopes (RFC 6749 §3.3).
	scopes, err := parseScope(s.scope)
	if err != nil {
		errs = append(errs, err)
	}
	c.Scopes = scopes

	// Response types: only for the authorization code flow.
	switch {
	case authCode:
		c.ResponseTypes = dedupe(s.responseTypes)
		if len(c.ResponseTypes) == 0 {
			fail("at least one --response-type is required with grant type authorization_code")
		}
	case s.responseTypesSet:
		fail("--response-type is used only with grant type authorization_code")
	}
	for _, rt := range c.ResponseTypes {
		if !slices.Contains(supportedResponseTypes, rt) {
			fail("unknown response type %q (supported: %q, %q)", rt, supportedResponseTypes[0], supportedResponseTypes[1])
		} else if strings.Contains(rt, "id_token") && !slices.Contains(c.Scopes, "openid") {
			fail("response type %q requires the openid scope in --scope", rt)
		}
	}

	c.Audience = dedupe(s.audience)
	for _, aud := range c.Audience {
		if aud == "" || strings.IndexFunc(aud, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			fail("--audience %q must be non-empty without whitespace", aud)
		}
	}

	if !slices.Contains(supportedTokenFormats, s.accessTokenFormat) {
		fail("unknown access token format %q (supported: %s)", s.accessTokenFormat, strings.Join(supportedTokenFormats, ", "))
	}
	if s.idTokenAlg != "" && !slices.Contains(supportedIDTokenAlgs, s.idTokenAlg) {
		fail("unsupported ID token algorithm %q (supported: %s)", s.idTokenAlg, strings.Join(supportedIDTokenAlgs, ", "))
	}

	if len(errs) > 0 {
		return nil, &usageError{err: errors.Join(errs...)}
	}
	return c, nil
}

// checkRedirectURI enforces exact, safe redirection endpoints: an absolute
// URL without fragment (RFC 6749 §3.1.2), wildcard or user info, on https;
// http only for public (native) clients on a loopback host (RFC 8252 §7.3).
func checkRedirectURI(raw string, public bool) error {
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
		if !public {
			return fmt.Errorf("%q must use https (http is allowed only for public clients on a loopback host)", raw)
		}
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%q must use https (http is allowed only on 127.0.0.1, [::1] or localhost)", raw)
		}
		return nil
	}
	return fmt.Errorf("%q must use https", raw)
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// checkJWKSURI requires an absolute https URL without fragment.
func checkJWKSURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("--jwks-uri %q must be an absolute URL", raw)
	case u.Scheme != "https":
		return fmt.Errorf("--jwks-uri %q must use https", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("--jwks-uri %q must not contain a fragment", raw)
	case u.User != nil:
		return fmt.Errorf("--jwks-uri %q must not contain user information", raw)
	}
	return nil
}

// readJWKS reads a JWK Set (RFC 7517 §5) that must hold only valid public
// keys with distinct key ids, and returns it re-encoded. Errors never quote
// the file's content: it might hold a private key by mistake.
func readJWKS(readFile func(string) ([]byte, error), path string) ([]byte, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("--jwks-file: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("--jwks-file %s is not a JWK Set: %w", path, err)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("--jwks-file %s is not a JWK Set with keys (expected {\"keys\": [...]})", path)
	}
	kids := map[string]bool{}
	for i, k := range set.Keys {
		switch {
		case !k.IsPublic():
			return nil, fmt.Errorf("--jwks-file %s: key %d is a private or symmetric key; the file must hold public keys only", path, i+1)
		case !k.Valid():
			return nil, fmt.Errorf("--jwks-file %s: key %d is not a valid key", path, i+1)
		case k.Use != "" && k.Use != "sig":
			return nil, fmt.Errorf("--jwks-file %s: key %d has use %q; client authentication needs signing keys", path, i+1, k.Use)
		case k.KeyID != "" && kids[k.KeyID]:
			return nil, fmt.Errorf("--jwks-file %s: key id %q appears twice", path, k.KeyID)
		}
		kids[k.KeyID] = true
	}
	out, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("--jwks-file %s: encode: %w", path, err)
	}
	return out, nil
}

// parseScope splits a space-delimited scope string and checks each token
// against RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func parseScope(scope string) ([]string, error) {
	var tokens []string
	for _, tok := range strings.Split(scope, " ") {
		if tok == "" {
			continue
		}
		for _, r := range tok {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil, fmt.Errorf("--scope: %q is not a valid scope token (RFC 6749 §3.3: printable ASCII except space, '\"' and '\\')", tok)
			}
		}
		tokens = append(tokens, tok)
	}
	return dedupe(tokens), nil
}

// dedupe returns values without repeats, in first-seen order; nil for none.
func dedupe(values []string) []string {
	var out []string
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
