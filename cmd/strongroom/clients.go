package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/ratelimit"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/cmd/strongroom/internal/flagsource"
	"github.com/strongroom/strongroom/storage"
)

func newClientsCmd(a *app) *cobra.Command {
	rf := &remoteFlags{}
	cmd := newRemoteGroupCmdWith(a, rf, "clients", "Manage OAuth 2.0 clients and their secrets",
		`  strongroom clients create --name "Billing" --grant-type client_credentials \
      --auth-method client_secret_basic --scope "billing:read"
  strongroom clients list
  strongroom clients rotate-secret 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --grace 24h
  strongroom clients export -f clients.yaml && strongroom clients import clients.yaml

  # The same commands on a remote admin API instead of the database:
  strongroom clients list --endpoint https://auth.internal:8081 --token-file admin.token`,
		newClientsCreateCmd,
		newClientsListCmd,
		newClientsGetCmd,
		newClientsUpdateCmd,
		newClientsDeleteCmd,
		newClientsDisableCmd,
		newClientsEnableCmd,
		newClientsRotateSecretCmd,
		newClientsRevokeSecretCmd,
		newClientsImportCmd,
		newClientsExportCmd,
	)
	cmd.PersistentFlags().BoolVar(&rf.allowInsecureRedirects, "allow-insecure-redirects", false,
		"let confidential clients register http redirect URIs on 127.0.0.1, [::1] or localhost (local development; on the database only)")
	return cmd
}

// specFlags are the registration flags shared by create and update; each
// maps to one RFC 7591 field.
type specFlags struct {
	name                   string
	grantTypes             []string
	redirectURIs           []string
	postLogoutRedirectURIs []string
	responseTypes          []string
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
	contacts               []string
	clientURI, logoURI     string
	policyURI, tosURI      string
	backchannelLogoutURI   string
	firstParty             bool
	introspect             bool
	rateLimit              string
	rateLimitBurst         int
	authzDetailsTypes      []string // RFC 9396 types the client may request

	// Issue 9: sender-constrained tokens, mTLS client authentication and
	// the FAPI 2.0 profile.
	profile              string
	dpopBound            bool
	tlsBoundTokens       bool
	authSigningAlg       string
	tlsSubjectDN, tlsDNS string
	tlsURI, tlsIP        string
	tlsEmail             string

	// Issue 10: signed requests and responses (RFC 9101, JARM, RFC 9701).
	requireSignedRequestObject bool
	requestObjectAlg           string
	authorizationResponseAlg   string
	introspectionResponseAlg   string
}

// tlsIdentityFlags are the flags of the tls_client_auth subject, exactly one
// of which a tls_client_auth client gives (RFC 8705 §2.1.2).
var tlsIdentityFlags = []struct{ flag, field string }{
	{"tls-subject-dn", "tls_client_auth_subject_dn"},
	{"tls-san-dns", "tls_client_auth_san_dns"},
	{"tls-san-uri", "tls_client_auth_san_uri"},
	{"tls-san-ip", "tls_client_auth_san_ip"},
	{"tls-san-email", "tls_client_auth_san_email"},
}

func (s *specFlags) add(f *pflag.FlagSet, create bool) {
	f.StringVar(&s.name, "name", "", "human-readable client name (client_name)")
	f.StringSliceVar(&s.grantTypes, "grant-type", nil, "grant type, repeatable: authorization_code, client_credentials, refresh_token")
	f.StringArrayVar(&s.redirectURIs, "redirect-uri", nil, "redirect URI, repeatable (required with authorization_code)")
	f.StringArrayVar(&s.postLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI, repeatable")
	f.StringSliceVar(&s.responseTypes, "response-type", nil, `response type, repeatable: "code" (default) or "code id_token"`)
	f.StringVar(&s.scope, "scope", "", `space-separated scopes the client may request, e.g. "openid profile"`)
	f.StringVar(&s.authMethod, "auth-method", "", "token endpoint auth method: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none")
	if create {
		f.BoolVar(&s.public, "public", false, "a public client (no secret); requires --auth-method none")
	}
	f.BoolVar(&s.requirePAR, "require-par", false, "require pushed authorization requests (RFC 9126)")
	f.BoolVar(&s.requireMFA, "require-mfa", false, "require a second factor (TOTP or passkey) at every login for this client")
	f.StringVar(&s.jwksURI, "jwks-uri", "", "https URL of the client's JWK Set (private_key_jwt)")
	f.StringVar(&s.jwksFile, "jwks-file", "", "file holding the client's public JWK Set (private_key_jwt; self_signed_tls_client_auth: its certificates' keys)")
	f.StringVar(&s.authSigningAlg, "token-endpoint-auth-signing-alg", "", "the one algorithm of the client's assertions: PS256, ES256, EdDSA, RS256, ... (private_key_jwt); HS256 (default), HS384, HS512 (client_secret_jwt)")
	f.StringVar(&s.tlsSubjectDN, "tls-subject-dn", "", `tls_client_auth: the certificate's subject DN (RFC 4514, most specific first), e.g. "CN=partner,O=Bank,C=GB"`)
	f.StringVar(&s.tlsDNS, "tls-san-dns", "", "tls_client_auth: a DNS name SAN of the certificate")
	f.StringVar(&s.tlsURI, "tls-san-uri", "", "tls_client_auth: a URI SAN of the certificate")
	f.StringVar(&s.tlsIP, "tls-san-ip", "", "tls_client_auth: an IP address SAN of the certificate")
	f.StringVar(&s.tlsEmail, "tls-san-email", "", "tls_client_auth: an email address SAN of the certificate")
	f.BoolVar(&s.dpopBound, "dpop-bound", false, "require DPoP (RFC 9449) on every token request: the client's tokens are bound to its DPoP key")
	f.BoolVar(&s.tlsBoundTokens, "tls-client-certificate-bound-access-tokens", false, "bind the client's access tokens to its TLS client certificate (RFC 8705)")
	f.StringVar(&s.profile, "profile", "", `"fapi2": hold the client to the FAPI 2.0 Security Profile; "fapi2-message-signing": FAPI 2.0 with signed request objects and JARM responses ("none" removes it)`)
	f.BoolVar(&s.requireSignedRequestObject, "require-signed-request-object", false, "accept this client's authorization requests only as signed request objects (RFC 9101; needs --jwks-file or --jwks-uri)")
	f.StringVar(&s.requestObjectAlg, "request-object-signing-alg", "", "the one algorithm of the client's request objects: PS256, ES256, EdDSA or RS256")
	f.StringVar(&s.authorizationResponseAlg, "authorization-signed-response-alg", "", "algorithm of the client's JARM responses (default ES256, else PS256)")
	f.StringVar(&s.introspectionResponseAlg, "introspection-signed-response-alg", "", "algorithm of the JWT introspection responses (RFC 9701) this client receives (default ES256, else PS256)")
	f.StringVar(&s.accessTokenFormat, "access-token-format", storage.TokenFormatOpaque, "access token format: opaque or jwt")
	f.StringVar(&s.idTokenAlg, "id-token-alg", "", "ID token signing algorithm, e.g. RS256 or ES256 (default: the server's)")
	f.StringArrayVar(&s.audience, "audience", nil, "audience the client may request, repeatable")
	f.StringArrayVar(&s.contacts, "contact", nil, "email address of a person responsible for the client, repeatable")
	f.StringVar(&s.clientURI, "client-uri", "", "https URL of the client's home page")
	f.StringVar(&s.logoURI, "logo-uri", "", "https URL of the client's logo")
	f.StringVar(&s.policyURI, "policy-uri", "", "https URL of the client's privacy policy")
	f.StringVar(&s.tosURI, "tos-uri", "", "https URL of the client's terms of service")
	f.StringVar(&s.backchannelLogoutURI, "backchannel-logout-uri", "", "https URL that receives OIDC back-channel logout tokens")
	f.BoolVar(&s.firstParty, "first-party", false, "a first-party client: its users are not asked to consent")
	f.BoolVar(&s.introspect, "introspect", false, "allow the client to introspect (RFC 7662) its own tokens and access tokens issued with it as audience")
	f.StringArrayVar(&s.authzDetailsTypes, "authorization-details-type", nil, "an authorization details type (RFC 9396) the client may request, repeatable, e.g. payment_initiation (see `authorization-types list`)")
	f.StringVar(&s.rateLimit, "rate-limit", "", `the client's own request limit at the token, PAR, introspection and revocation endpoints, e.g. 50/s, 3000/m, or off ("default" on update: back to serve's --rate-limit-client)`)
	f.IntVar(&s.rateLimitBurst, "burst", 0, "requests the client may send at once under --rate-limit (0: twice the rate's number)")
}

// rateLimitValue maps --rate-limit's "default" to no override.
func rateLimitValue(flag string) string {
	if flag == "default" {
		return ""
	}
	return flag
}

// readJWKSFlag reads --jwks-file; errors never quote the content.
func (s *specFlags) readJWKSFlag() (json.RawMessage, error) {
	data, err := os.ReadFile(s.jwksFile)
	if err != nil {
		return nil, usageErrorf("--jwks-file: %v", err)
	}
	if !json.Valid(data) {
		return nil, usageErrorf("--jwks-file %s is not a JWK Set (not JSON)", s.jwksFile)
	}
	return data, nil
}

// spec builds a full registration from the flags (create).
func (s *specFlags) spec(flags *pflag.FlagSet) (registration.ClientSpec, error) {
	var errs []error
	switch {
	case s.public && s.authMethod != storage.AuthMethodNone:
		errs = append(errs, errors.New("--public requires --auth-method none (a public client cannot authenticate)"))
	case !s.public && s.authMethod == storage.AuthMethodNone:
		errs = append(errs, errors.New("--auth-method none requires --public (a client that does not authenticate is public)"))
	}
	spec := registration.ClientSpec{
		ClientName: s.name, GrantTypes: s.grantTypes, RedirectURIs: s.redirectURIs,
		PostLogoutRedirectURIs: s.postLogoutRedirectURIs, Scope: s.scope, Audience: s.audience,
		TokenEndpointAuthMethod: s.authMethod, JWKSURI: s.jwksURI, IDTokenSignedResponseAlg: s.idTokenAlg,
		AccessTokenFormat: s.accessTokenFormat, RequirePAR: s.requirePAR, RequireMFA: s.requireMFA,
		Contacts: s.contacts, ClientURI: s.clientURI, LogoURI: s.logoURI, PolicyURI: s.policyURI,
		TosURI: s.tosURI, BackchannelLogoutURI: s.backchannelLogoutURI, SkipConsent: s.firstParty,
		Introspect: s.introspect, RateLimit: rateLimitValue(s.rateLimit), RateLimitBurst: s.rateLimitBurst,
		AuthorizationDetailsTypes: s.authzDetailsTypes,
		Profile:                   profileValue(s.profile), DPoPBoundAccessTokens: s.dpopBound,
		TLSClientCertificateBoundAccessTokens: s.tlsBoundTokens, TokenEndpointAuthSigningAlg: s.authSigningAlg,
		Identity: mtls.Identity{SubjectDN: s.tlsSubjectDN, SANDNS: s.tlsDNS, SANURI: s.tlsURI, SANIP: s.tlsIP, SANEmail: s.tlsEmail},

		RequireSignedRequestObject: s.requireSignedRequestObject, RequestObjectSigningAlg: s.requestObjectAlg,
		AuthorizationSignedResponseAlg: s.authorizationResponseAlg, IntrospectionSignedResponseAlg: s.introspectionResponseAlg,
	}
	if flags.Changed("response-type") {
		spec.ResponseTypes = s.responseTypes
	}
	if s.jwksFile != "" {
		jwks, err := s.readJWKSFlag()
		if err != nil {
			errs = append(errs, err)
		}
		spec.JWKS = jwks
	}
	if len(errs) > 0 {
		return spec, &usageError{err: errors.Join(errs...)}
	}
	return spec, nil
}

// patch builds a merge patch of the flags that were given (update).
func (s *specFlags) patch(flags *pflag.FlagSet) ([]byte, error) {
	p := map[string]any{}
	set := func(flag, field string, v any) {
		if flags.Changed(flag) {
			p[field] = v
		}
	}
	set("name", "client_name", s.name)
	set("grant-type", "grant_types", s.grantTypes)
	set("redirect-uri", "redirect_uris", s.redirectURIs)
	set("post-logout-redirect-uri", "post_logout_redirect_uris", s.postLogoutRedirectURIs)
	set("response-type", "response_types", s.responseTypes)
	set("scope", "scope", s.scope)
	set("auth-method", "token_endpoint_auth_method", s.authMethod)
	set("require-par", "require_pushed_authorization_requests", s.requirePAR)
	set("require-mfa", "require_mfa", s.requireMFA)
	set("jwks-uri", "jwks_uri", s.jwksURI)
	set("access-token-format", "access_token_format", s.accessTokenFormat)
	set("id-token-alg", "id_token_signed_response_alg", s.idTokenAlg)
	set("audience", "audience", s.audience)
	set("contact", "contacts", s.contacts)
	set("client-uri", "client_uri", s.clientURI)
	set("logo-uri", "logo_uri", s.logoURI)
	set("policy-uri", "policy_uri", s.policyURI)
	set("tos-uri", "tos_uri", s.tosURI)
	set("backchannel-logout-uri", "backchannel_logout_uri", s.backchannelLogoutURI)
	set("first-party", "skip_consent", s.firstParty)
	set("introspect", "introspect", s.introspect)
	set("rate-limit", "rate_limit", rateLimitValue(s.rateLimit))
	set("burst", "rate_limit_burst", s.rateLimitBurst)
	if flags.Changed("rate-limit") && !flags.Changed("burst") {
		p["rate_limit_burst"] = 0 // a new rate brings its default burst
	}
	set("authorization-details-type", "authorization_details_types", s.authzDetailsTypes)
	set("profile", "profile", profileValue(s.profile))
	set("dpop-bound", "dpop_bound_access_tokens", s.dpopBound)
	set("tls-client-certificate-bound-access-tokens", "tls_client_certificate_bound_access_tokens", s.tlsBoundTokens)
	set("token-endpoint-auth-signing-alg", "token_endpoint_auth_signing_alg", s.authSigningAlg)
	set("require-signed-request-object", "require_signed_request_object", s.requireSignedRequestObject)
	set("request-object-signing-alg", "request_object_signing_alg", s.requestObjectAlg)
	set("authorization-signed-response-alg", "authorization_signed_response_alg", s.authorizationResponseAlg)
	set("introspection-signed-response-alg", "introspection_signed_response_alg", s.introspectionResponseAlg)
	// A new subject replaces the registered one, whichever kind it was:
	// the identity flags not given are cleared.
	values := map[string]string{
		"tls-subject-dn": s.tlsSubjectDN, "tls-san-dns": s.tlsDNS, "tls-san-uri": s.tlsURI,
		"tls-san-ip": s.tlsIP, "tls-san-email": s.tlsEmail,
	}
	identityGiven := false
	for _, f := range tlsIdentityFlags {
		identityGiven = identityGiven || flags.Changed(f.flag)
	}
	// Moving to another auth method drops the subject, meaningless there.
	leavesTLSClientAuth := flags.Changed("auth-method") && s.authMethod != storage.AuthMethodTLSClientAuth
	if identityGiven || leavesTLSClientAuth {
		for _, g := range tlsIdentityFlags {
			p[g.field] = values[g.flag]
		}
	}
	if flags.Changed("jwks-file") {
		jwks, err := s.readJWKSFlag()
		if err != nil {
			return nil, err
		}
		p["jwks"] = jwks
	}
	if len(p) == 0 {
		return nil, usageErrorf("nothing to update: give at least one flag (see --help)")
	}
	return json.Marshal(p)
}

// flagOfField names the flag that sets each RFC 7591 field.
var flagOfField = map[string]string{ // #nosec G101 -- flag names per field, no credential
	"client_name": "--name", "grant_types": "--grant-type", "redirect_uris": "--redirect-uri",
	"post_logout_redirect_uris": "--post-logout-redirect-uri", "response_types": "--response-type",
	"scope": "--scope", "token_endpoint_auth_method": "--auth-method", "jwks_uri": "--jwks-uri",
	"jwks": "--jwks-file", "id_token_signed_response_alg": "--id-token-alg",
	"access_token_format": "--access-token-format", "audience": "--audience", "contacts": "--contact",
	"client_uri": "--client-uri", "logo_uri": "--logo-uri", "policy_uri": "--policy-uri", "tos_uri": "--tos-uri",
	"backchannel_logout_uri": "--backchannel-logout-uri", "introspect": "--introspect",
	"rate_limit": "--rate-limit", "rate_limit_burst": "--burst",
	"profile": "--profile", "dpop_bound_access_tokens": "--dpop-bound",
	"tls_client_certificate_bound_access_tokens": "--tls-client-certificate-bound-access-tokens",
	"token_endpoint_auth_signing_alg":            "--token-endpoint-auth-signing-alg",
	"require_pushed_authorization_requests":      "--require-par",
	"require_signed_request_object":              "--require-signed-request-object",
	"request_object_signing_alg":                 "--request-object-signing-alg",
	"authorization_signed_response_alg":          "--authorization-signed-response-alg",
	"introspection_signed_response_alg":          "--introspection-signed-response-alg",
	"tls_client_auth_subject_dn":                 "--tls-subject-dn", "tls_client_auth_san_dns": "--tls-san-dns",
	"tls_client_auth_san_uri": "--tls-san-uri", "tls_client_auth_san_ip": "--tls-san-ip",
	"tls_client_auth_san_email": "--tls-san-email",
}

// rateLimitRow shows a client's rate limit ("server default" without one).
func rateLimitRow(limit string, burst int) string {
	if limit == "" {
		return "server default"
	}
	if r, ok := ratelimit.ParseOverride(limit, burst); ok && !r.IsOff() {
		return fmt.Sprintf("%s, burst %d", r, r.Burst)
	}
	return limit
}

// profileValue maps --profile's "none" to the empty profile.
func profileValue(flag string) string {
	if flag == "none" {
		return storage.ProfileNone
	}
	return flag
}

// asUsage marks validation failures of flags as usage errors (exit 2) and
// names the flag beside each RFC 7591 field a problem is about.
func asUsage(err error) error {
	var ve *registration.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	lines := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		// A profile's rules name the field they are about after the profile.
		prefix := ""
		if rest, ok := strings.CutPrefix(p, "profile fapi2: "); ok {
			prefix, p = "--profile fapi2: ", rest
		}
		lines[i] = prefix + p
		field, _, _ := strings.Cut(p, " ")
		field = strings.TrimSuffix(field, ":")
		if flag, ok := flagOfField[field]; ok {
			lines[i] = prefix + flag + " (" + field + ")" + strings.TrimPrefix(p, field)
		}
	}
	return &usageError{err: errors.New(strings.Join(lines, "\n"))}
}

const clientsLong = `Supported grant types: authorization_code, client_credentials, refresh_token.
Supported auth methods: client_secret_basic, client_secret_post,
client_secret_jwt (RFC 7523 assertions HMAC'd with the client secret: HS256,
or HS384/HS512 with --token-endpoint-auth-signing-alg; the server derives
that secret from its secret_id, which the assertion may name as its "kid"),
private_key_jwt, tls_client_auth
(a CA-issued certificate: give exactly one of --tls-subject-dn,
--tls-san-dns, --tls-san-uri, --tls-san-ip, --tls-san-email),
self_signed_tls_client_auth (the certificates' public keys in --jwks-file),
none (public clients only).
--dpop-bound and --tls-client-certificate-bound-access-tokens make the
client's tokens sender-constrained (RFC 9449, RFC 8705).
--profile fapi2 holds the client to the FAPI 2.0 Security Profile: it needs
--require-par, response type code only, sender-constrained tokens,
private_key_jwt, tls_client_auth or self_signed_tls_client_auth, PS256, ES256
or EdDSA (--token-endpoint-auth-signing-alg, required with private_key_jwt,
and --id-token-alg with the openid scope), RSA keys of 2048 bits or more and EC keys on P-256 or stronger.
--profile fapi2-message-signing adds FAPI 2.0 Message Signing: it also needs
--require-signed-request-object and --request-object-signing-alg (PS256, ES256
or EdDSA), and its authorization responses are signed (response_mode jwt).
--require-signed-request-object accepts the client's authorization requests
only as request objects (RFC 9101) signed with its keys (--jwks-file or
--jwks-uri, which any auth method may then register).
Redirect URIs must be exact absolute https URLs without fragment or wildcard;
public clients may also use http on 127.0.0.1, [::1] or localhost.
The scope strongroom:admin (the admin API) is only for confidential clients
whose sole grant type is client_credentials.
--introspect lets a confidential client call the introspection endpoint
(RFC 7662) about its own tokens and the access tokens issued with its
client id as audience; other clients are refused there.
--rate-limit 50/s --burst 100 gives the client its own request limit at the
token, PAR, introspection and revocation endpoints instead of the server's
(serve --rate-limit-client); beyond it the client gets 429 with Retry-After.`

func newClientsCreateCmd(a *app, rf *remoteFlags) *cobra.Command {
	var s specFlags
	var secretExpiresIn time.Duration
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a client",
		Long: `Register an OAuth 2.0 client. The client id is generated. A confidential
client authenticating with client_secret_basic or client_secret_post also
gets a generated secret (256 bits), one with client_secret_jwt a secret the
server derives from its secret_id under a key of STRONGROOM_SECRET: it is
printed once and only its id and keyed hash are stored, so
STRONGROOM_SECRET must be the server's.
Public, private_key_jwt and mTLS clients get no secret.

` + clientsLong,
		Example: `  # A web application (confidential, authorization code with refresh tokens)
  strongroom clients create --name "Web app" \
      --grant-type authorization_code --grant-type refresh_token \
      --redirect-uri https://app.example.com/callback \
      --scope "openid profile email offline_access" --auth-method client_secret_basic

  # A native application (public, PKCE, loopback redirect)
  strongroom clients create --name "CLI" --public --auth-method none \
      --grant-type authorization_code --redirect-uri http://127.0.0.1:8400/callback \
      --scope "openid"

  # A resource server that introspects the access tokens issued for it
  strongroom clients create --name "Payments API" --grant-type client_credentials \
      --auth-method client_secret_basic --introspect

  # A bank's app under FAPI 2.0: PAR, private_key_jwt with ES256, DPoP-bound tokens
  strongroom clients create --name "Bank app" --profile fapi2 --require-par --dpop-bound \
      --grant-type authorization_code --redirect-uri https://app.bank.example/callback \
      --scope "openid accounts" --id-token-alg ES256 \
      --auth-method private_key_jwt --jwks-file app-jwks.json --token-endpoint-auth-signing-alg ES256

  # A partner server authenticating with its CA-issued certificate (RFC 8705)
  strongroom clients create --name "Partner" --grant-type client_credentials \
      --auth-method tls_client_auth --tls-subject-dn "CN=partner.example,O=Partner Ltd,C=GB" \
      --tls-client-certificate-bound-access-tokens

  # A partner server signing RFC 7523 assertions with its secret (HS256)
  strongroom clients create --name "Partner" --grant-type client_credentials \
      --auth-method client_secret_jwt --token-endpoint-auth-signing-alg HS256

  # A partner service whose secret expires in 90 days
  strongroom clients create --name "Partner" --grant-type client_credentials \
      --auth-method client_secret_basic --scope payments --secret-expires-in 2160h -o json`,
		Args: cobra.NoArgs,
	}
	s.add(cmd.Flags(), true)
	cmd.Flags().DurationVar(&secretExpiresIn, "secret-expires-in", 0, "give the generated secret an expiry, e.g. 2160h (default: none)")
	output := addOutputFlag(cmd)
	markRequired(cmd, "name", "grant-type", "auth-method")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		spec, err := s.spec(cmd.Flags())
		if err != nil {
			return err
		}
		needSecret := registration.UsesSecret(s.authMethod)
		return a.withClients(ctx, rf, needSecret, func(b adminBackend) error {
			info, issued, err := b.CreateClient(ctx, spec, authzadmin.CreateOptions{SecretExpiresIn: secretExpiresIn})
			if err != nil {
				return asUsage(err)
			}
			secret := ""
			if issued != nil {
				secret = issued.ClientSecret
			}
			if *output == formatJSON {
				secretID := ""
				if issued != nil {
					secretID = issued.SecretID
				}
				return writeJSON(a.out, struct {
					ClientID     string `json:"client_id"`
					ClientSecret string `json:"client_secret,omitempty"`
					SecretID     string `json:"secret_id,omitempty"`
				}{info.ClientID, secret, secretID})
			}
			fmt.Fprintf(a.out, "Client %q created.\n\n", info.ClientName)
			tw := newTable(a.out)
			fmt.Fprintf(tw, "  client_id:\t%s\n", info.ClientID)
			if secret != "" {
				fmt.Fprintf(tw, "  client_secret:\t%s\n", secret)
				fmt.Fprintf(tw, "  secret_id:\t%s\n", issued.SecretID)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if secret != "" {
				fmt.Fprintln(a.out, "\nStore the secret now: it is shown only this once and cannot be recovered.")
			}
			return nil
		})
	}
	return cmd
}

// secretsSummary renders a client's secrets for the list table.
func secretsSummary(c registration.ClientInfo) (count, expiring string) {
	live, soonest := 0, ""
	for _, s := range c.Secrets {
		if s.State == registration.SecretExpired {
			continue
		}
		live++
		if s.State == registration.SecretExpiring && s.ExpiresAt != nil {
			if t := formatTime(*s.ExpiresAt); soonest == "" || t < soonest {
				soonest = t
			}
		}
	}
	if soonest == "" {
		return fmt.Sprint(live), "-"
	}
	return fmt.Sprint(live), soonest
}

func newClientsListCmd(a *app, rf *remoteFlags) *cobra.Command {
	var expiringOnly bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List clients, with secrets that expire soon",
		Long: `List clients. SECRETS counts the live secrets; EXPIRING SOON shows when the
first of them ends if that is within 7 days (a rotation's grace period, a
planned expiry).`,
		Example: `  strongroom clients list
  strongroom clients list --expiring
  strongroom clients list -o json | jq -r '.[] | select(.secrets_expiring_soon) | .client_id'`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&expiringOnly, "expiring", false, "only clients with a secret that expires soon")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		clients, err := listWith(func() (adminBackend, error) { return a.openBackend(ctx, rf, false) },
			func(b adminBackend) ([]registration.ClientInfo, error) { return b.ListClients(ctx) })
		if err != nil {
			return err
		}
		shown := make([]registration.ClientInfo, 0, len(clients))
		for _, c := range clients {
			if !expiringOnly || c.SecretsExpiringSoon {
				shown = append(shown, c)
			}
		}
		header := []string{"ID", "NAME", "GRANT TYPES", "AUTH METHOD", "PUBLIC", "DISABLED", "SECRETS", "EXPIRING SOON"}
		return printList(a.out, *output, shown, header, func(c registration.ClientInfo) []string {
			n, exp := secretsSummary(c)
			return []string{c.ClientID, c.ClientName, orDash(strings.Join(c.GrantTypes, ",")), orDash(c.TokenEndpointAuthMethod),
				yesNo(c.Public), yesNo(c.Disabled), n, exp}
		})
	}
	return cmd
}

func newClientsGetCmd(a *app, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get CLIENT_ID",
		Short: "Show a client",
		Example: `  strongroom clients get 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f
  strongroom clients get 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f -o json`,
		Args: cobra.ExactArgs(1),
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		return a.withClients(ctx, rf, false, func(b adminBackend) error {
			v, err := b.GetClient(ctx, args[0])
			if err != nil {
				return err
			}
			return printResult(a.out, *output, v, func() error { return printClient(a, v) })
		})
	}
	return cmd
}

func printClient(a *app, v *registration.ClientInfo) error {
	tw := newTable(a.out)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, orDash(v)) }
	row("Client ID", v.ClientID)
	row("Name", v.ClientName)
	row("Grant types", strings.Join(v.GrantTypes, ", "))
	row("Response types", strings.Join(v.ResponseTypes, ", "))
	row("Redirect URIs", strings.Join(v.RedirectURIs, " "))
	row("Post-logout redirect URIs", strings.Join(v.PostLogoutRedirectURIs, " "))
	row("Scope", v.Scope)
	row("Audience", strings.Join(v.Audience, " "))
	row("Public", yesNo(v.Public))
	row("Auth method", v.TokenEndpointAuthMethod)
	row("Auth signing algorithm", v.TokenEndpointAuthSigningAlg)
	for _, id := range []struct{ name, value string }{
		{"TLS subject DN", v.SubjectDN}, {"TLS SAN DNS", v.SANDNS}, {"TLS SAN URI", v.SANURI},
		{"TLS SAN IP", v.SANIP}, {"TLS SAN email", v.SANEmail},
	} {
		if id.value != "" {
			row(id.name, id.value)
		}
	}
	row("Profile", v.Profile)
	row("DPoP-bound tokens", yesNo(v.DPoPBoundAccessTokens))
	row("Certificate-bound tokens", yesNo(v.TLSClientCertificateBoundAccessTokens))
	row("Require PAR", yesNo(v.RequirePAR))
	row("Require signed request object", yesNo(v.RequireSignedRequestObject))
	row("Request object algorithm", v.RequestObjectSigningAlg)
	row("JARM response algorithm", v.AuthorizationSignedResponseAlg)
	row("Introspection JWT algorithm", v.IntrospectionSignedResponseAlg)
	row("Require MFA", yesNo(v.RequireMFA))
	row("Introspect", yesNo(v.Introspect))
	row("Rate limit", rateLimitRow(v.RateLimit, v.RateLimitBurst))
	row("Authorization details types", strings.Join(v.AuthorizationDetailsTypes, " "))
	row("JWKS URI", v.JWKSURI)
	if len(v.JWKS) > 0 {
		row("JWKS", "registered")
	}
	row("Access token format", v.AccessTokenFormat)
	row("ID token algorithm", v.IDTokenSignedResponseAlg)
	row("Contacts", strings.Join(v.Contacts, ", "))
	row("Logo URI", v.LogoURI)
	row("Policy URI", v.PolicyURI)
	row("Terms of service URI", v.TosURI)
	row("Back-channel logout URI", v.BackchannelLogoutURI)
	row("Disabled", yesNo(v.Disabled))
	for _, s := range v.Secrets {
		exp := "never expires"
		if s.ExpiresAt != nil {
			exp = "expires " + formatTime(*s.ExpiresAt)
		}
		row("Secret "+s.ID, fmt.Sprintf("%s, created %s, %s", s.State, formatTime(s.CreatedAt), exp))
	}
	if len(v.Secrets) == 0 {
		row("Secrets", "none")
	}
	row("Created", formatTime(v.CreatedAt))
	row("Updated", formatTime(v.UpdatedAt))
	return tw.Flush()
}

func newClientsUpdateCmd(a *app, rf *remoteFlags) *cobra.Command {
	var s specFlags
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID",
		Short: "Change a client's registration",
		Long: `Change a client's registration: each flag given replaces that field (a
repeatable flag replaces the whole list); the result is validated as a
whole, and nothing changes when it is invalid. Secrets are managed with
rotate-secret and revoke-secret.

` + clientsLong,
		Example: `  strongroom clients update 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --name "Web app (EU)"
  strongroom clients update 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f \
      --redirect-uri https://app.example.com/cb --redirect-uri https://app.example.com/cb2
  strongroom clients update 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --contact ops@example.com --logo-uri https://example.com/logo.png -o json`,
		Args: cobra.ExactArgs(1),
	}
	s.add(cmd.Flags(), false)
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		patch, err := s.patch(cmd.Flags())
		if err != nil {
			return err
		}
		return a.withClients(ctx, rf, false, func(b adminBackend) error {
			v, err := b.UpdateClient(ctx, args[0], patch)
			if err != nil {
				return asUsage(err)
			}
			return printResult(a.out, *output, v, func() error {
				fmt.Fprintf(a.out, "Updated client %s.\n\n", v.ClientID)
				return printClient(a, v)
			})
		})
	}
	return cmd
}

// markRequired marks flags of cmd required: cobra then refuses the command
// without them, and their help says "(required)".
func markRequired(cmd *cobra.Command, names ...string) {
	for _, name := range names {
		_ = cmd.MarkFlagRequired(name)
		if f := cmd.Flags().Lookup(name); f != nil && !strings.Contains(f.Usage, "(required)") {
			f.Usage += " (required)"
		}
	}
}

func addYesFlag(cmd *cobra.Command) *bool {
	var yes bool
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	return &yes
}

func newClientsDeleteCmd(a *app, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a client and every token issued to it",
		Example: `  strongroom clients delete 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f
  strongroom clients delete 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --yes -o json`,
		Args: cobra.ExactArgs(1),
	}
	yes := addYesFlag(cmd)
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		return a.changeClient(ctx, rf, *yes, args[0], func(c *registration.ClientInfo) string {
			return fmt.Sprintf("Delete client %s (%q) and every token issued to it?", c.ClientID, c.ClientName)
		}, func(b adminBackend) error {
			if err := b.DeleteClient(ctx, args[0]); err != nil {
				return err
			}
			return printResult(a.out, *output, struct {
				ClientID string `json:"client_id"`
				Deleted  bool   `json:"deleted"`
			}{args[0], true}, func() error {
				fmt.Fprintf(a.out, "Deleted client %s.\n", args[0])
				return nil
			})
		})
	}
	return cmd
}

func newClientsDisableCmd(a *app, rf *remoteFlags) *cobra.Command {
	return newClientsSetDisabledCmd(a, rf, true)
}

func newClientsEnableCmd(a *app, rf *remoteFlags) *cobra.Command {
	return newClientsSetDisabledCmd(a, rf, false)
}

// newClientsSetDisabledCmd is disable (asks to confirm) or enable.
func newClientsSetDisabledCmd(a *app, rf *remoteFlags, disable bool) *cobra.Command {
	use, short, verb := "enable", "Enable a disabled client", "Enabled"
	example := `  strongroom clients enable 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f`
	if disable {
		use, short, verb = "disable", "Disable a client: it cannot authenticate and its tokens stop working", "Disabled"
		example = `  strongroom clients disable 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f
  strongroom clients disable 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --yes -o json`
	}
	cmd := &cobra.Command{
		Use:     use + " CLIENT_ID",
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
	}
	yes := new(bool)
	if disable {
		yes = addYesFlag(cmd)
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		var question func(c *registration.ClientInfo) string
		if disable {
			question = func(c *registration.ClientInfo) string {
				return fmt.Sprintf("Disable client %s (%q)? It will fail to authenticate and its tokens stop introspecting as active.", c.ClientID, c.ClientName)
			}
		}
		return a.changeClient(ctx, rf, *yes, args[0], question, func(b adminBackend) error {
			v, err := b.SetClientDisabled(ctx, args[0], disable)
			if err != nil {
				return err
			}
			return printResult(a.out, *output, v, func() error {
				fmt.Fprintf(a.out, "%s client %s.\n", verb, v.ClientID)
				return nil
			})
		})
	}
	return cmd
}

func newClientsRotateSecretCmd(a *app, rf *remoteFlags) *cobra.Command {
	var opts authzadmin.RotateOptions
	cmd := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID --grace DURATION",
		Short: "Issue a new client secret; the old one works until the grace period ends",
		Long: `Issue a new client secret (256 bits), printed once. The current secret keeps
working until --grace has passed, so the client's operators can deploy the
new one; after that only the new secret authenticates. A client holds at
most two live secrets: while one is in its grace period, revoke it first
with revoke-secret. --grace 0 ends the old secret at once (asks to confirm).`,
		Example: `  strongroom clients rotate-secret 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --grace 24h
  strongroom clients rotate-secret 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --grace 72h --secret-expires-in 2160h -o json
  strongroom clients rotate-secret 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --grace 0 --yes   # compromised secret`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().DurationVar(&opts.Grace, "grace", 0, "how long the current secret keeps working, e.g. 24h (required)")
	cmd.Flags().DurationVar(&opts.ExpiresIn, "secret-expires-in", 0, "give the new secret an expiry, e.g. 2160h (default: none)")
	// One name for the secret expiry, as on create; the old one stays hidden.
	flagsource.Alias(cmd.Flags(), "expires-in", "secret-expires-in")
	yes := addYesFlag(cmd)
	output := addOutputFlag(cmd)
	markRequired(cmd, "grace")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if opts.Grace < 0 || opts.ExpiresIn < 0 {
			return usageErrorf("--grace and --secret-expires-in must not be negative")
		}
		if opts.Grace == 0 {
			if err := a.checkConfirmable(*yes); err != nil {
				return err
			}
		}
		return a.withClients(ctx, rf, true, func(b adminBackend) error {
			if opts.Grace == 0 {
				if err := a.confirm(*yes, fmt.Sprintf("End the current secret of client %s now (no grace period)?", args[0])); err != nil {
					return err
				}
			}
			issued, err := b.RotateSecret(ctx, args[0], opts)
			if err != nil {
				return asUsage(err)
			}
			return printResult(a.out, *output, issued, func() error {
				fmt.Fprintf(a.out, "New secret for client %s.\n\n", issued.ClientID)
				tw := newTable(a.out)
				fmt.Fprintf(tw, "  client_secret:\t%s\n", issued.ClientSecret)
				fmt.Fprintf(tw, "  secret_id:\t%s\n", issued.SecretID)
				if issued.ExpiresAt != nil {
					fmt.Fprintf(tw, "  expires:\t%s\n", formatTime(*issued.ExpiresAt))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if issued.PreviousSecretID != "" && issued.PreviousExpiresAt != nil {
					fmt.Fprintf(a.out, "\nThe previous secret %s keeps working until %s.\n", issued.PreviousSecretID, formatTime(*issued.PreviousExpiresAt))
				}
				fmt.Fprintln(a.out, "\nStore the secret now: it is shown only this once and cannot be recovered.")
				return nil
			})
		})
	}
	return cmd
}

func newClientsRevokeSecretCmd(a *app, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke-secret CLIENT_ID SECRET_ID",
		Short: "End one client secret now",
		Long: `End one of a client's secrets now, named by its id (shown by get and by
rotate-secret; never the secret itself).`,
		Example: `  strongroom clients get 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f      # shows the secret ids
  strongroom clients revoke-secret 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f 4f1c2a9e0b7d --yes`,
		Args: cobra.ExactArgs(2),
	}
	yes := addYesFlag(cmd)
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		return a.changeClient(ctx, rf, *yes, args[0], func(c *registration.ClientInfo) string {
			return fmt.Sprintf("End secret %s of client %s (%q) now?", args[1], c.ClientID, c.ClientName)
		}, func(b adminBackend) error {
			v, err := b.RevokeSecret(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			return printResult(a.out, *output, v, func() error {
				fmt.Fprintf(a.out, "Revoked secret %s of client %s; %d secret(s) left.\n", args[1], v.ClientID, len(v.Secrets))
				return nil
			})
		})
	}
	return cmd
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// confirmClient loads the client named id (so an unknown id fails before any
// prompt), asks the operator the question built from it and returns it once
// confirmed.
func (a *app) confirmClient(ctx context.Context, b adminBackend, yes bool, id string, question func(*registration.ClientInfo) string) (*registration.ClientInfo, error) {
	c, err := b.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.confirm(yes, question(c)); err != nil {
		return nil, err
	}
	return c, nil
}
