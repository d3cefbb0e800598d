package oauth

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/par"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"
	"go.opentelemetry.io/otel/trace"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/authz/oauth/fositestore"
	"github.com/strongroom/strongroom/authz/oauth/grant"
	"github.com/strongroom/strongroom/authz/rar"
	"github.com/strongroom/strongroom/authz/revocation"
	"github.com/strongroom/strongroom/storage"
)

// core is fosite composed with Strongroom's configuration, storage
// adapter, strategies and policies: what Tokens and Authorizer share.
type core struct {
	cfg      authz.Config
	provider *fosite.Fosite // fosite's OAuth2Provider over the handler list
	store    storage.Store
	clients  *authz.ClientCache
	keys     authz.KeySource
	hasher   *authz.SecretHasher
	sessions *authz.SessionManager
	log      *slog.Logger
	rar      *rar.Registry // authorization details types (RFC 9396)
	// revoked is the grant revocation list of stateless JWT access tokens;
	// jwtKeys verifies JWT access tokens with the published keys
	// (statelessjwt.go).
	revoked *revocation.List
	// discoveryCache is the last discovery document built (Discovery).
	discoveryCache atomic.Pointer[cachedDoc]
	jwtKeys        *publishedKeys

	fositeConfig *fosite.Config
	csrfKey      []byte
	clientAuth   *clientauth.Authenticator
	now          func() time.Time

	// sender constraint (binding.go)
	dpop      *dpop.Verifier
	nonceMode dpop.NonceMode
	certs     *mtls.CertificateSource
	clientCAs *x509.CertPool // tls_client_auth trust anchors (WithClientCAs; nil: none)
	origin    string         // the issuer's scheme and host: the origin of DPoP htu
	// mTLS endpoint aliases (WithMTLSEndpointAliases; "": none)
	mtlsBaseURL string
	mtlsOrigin  string // its scheme and host: the DPoP htu origin of requests to it
	mtlsHost    string // its host (and port), as a request's Host names it

	metrics Metrics      // WithMetrics; noMetrics by default
	tracer  trace.Tracer // WithTracerProvider; noTracer by default
}

// Tokens answers the token-side endpoints: token, PAR, introspection,
// revocation, userinfo, discovery and JWKS, and the admin API's bearer
// tokens.
type Tokens struct{ *core }

// Authorizer parses authorization requests (Strongroom's policy on top of
// fosite's validation) and answers them: the response of an authorized
// request (Issue) or its error (AuthorizeError). The browser flow
// (authz/login) calls it.
type Authorizer struct{ *core }

// Service is the composed token service: its two faces and the parts the
// composition root hands to the other services. It has no behaviour.
type Service struct {
	Tokens     *Tokens
	Authorizer *Authorizer
	// Clients is the client cache fosite's client lookups go through.
	Clients *authz.ClientCache
	// Hasher hashes and compares client secrets.
	Hasher *authz.SecretHasher
	// Sessions ends browser sessions and records their clients.
	Sessions *authz.SessionManager
}

// New composes fosite and returns the token service. cfg must have passed
// Validate. Options set the sender constraint (WithDPoP,
// WithClientCertificates).
func New(cfg authz.Config, store storage.Store, keys authz.KeySource, log *slog.Logger, opts ...Option) (*Service, error) {
	p, err := newCore(cfg, store, keys, log)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(p)
	}
	if p.mtlsBaseURL != "" {
		if p.mtlsBaseURL, err = ParseMTLSBaseURL(p.mtlsBaseURL); err != nil {
			return nil, err
		}
		u, _ := url.Parse(p.mtlsBaseURL) // parsed just above
		p.mtlsOrigin, p.mtlsHost = u.Scheme+"://"+u.Host, u.Host
	}
	if p.dpop == nil {
		if p.dpop, err = NewDPoPVerifier(cfg.SystemSecret, dpop.NewStoreReplayCache(store), p.nonceMode); err != nil {
			return nil, err
		}
	}
	return &Service{Tokens: &Tokens{p}, Authorizer: &Authorizer{p}, Clients: p.clients, Hasher: p.hasher, Sessions: p.sessions}, nil
}

// newCore composes fosite.
func newCore(cfg authz.Config, store storage.Store, keys authz.KeySource, log *slog.Logger) (*core, error) {
	if log == nil {
		log = slog.Default()
	}
	hasher, err := authz.NewSecretHasher(cfg.SystemSecret)
	if err != nil {
		return nil, err
	}
	tokenKey, err := authz.DeriveKey(cfg.SystemSecret, "token-hmac")
	if err != nil {
		return nil, err
	}
	csrfKey, err := authz.DeriveKey(cfg.SystemSecret, "csrf")
	if err != nil {
		return nil, err
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	origin := iss.Scheme + "://" + iss.Host
	registry, err := rar.NewRegistry(store)
	if err != nil {
		return nil, err
	}
	p := &core{
		rar:     registry,
		cfg:     cfg,
		store:   store,
		clients: authz.NewClientCache(store, cfg.ClientCacheTTL, nil),
		keys:    keys,
		hasher:  hasher,
		log:     log,
		csrfKey: csrfKey,
		now:     time.Now,

		nonceMode: dpop.NonceOptional,
		certs:     &mtls.CertificateSource{},
		origin:    origin,
		metrics:   noMetrics{},
		tracer:    noTracer,
		jwtKeys:   &publishedKeys{src: keys},
	}
	// the list reads the clock at each use (WithClock and tests replace it)
	p.revoked = revocation.New(store, func() time.Time { return p.now() }, log)

	fc := &fosite.Config{
		IDTokenIssuer:                   cfg.Issuer,
		AccessTokenIssuer:               cfg.Issuer,
		AuthorizeCodeLifespan:           cfg.AuthorizeCodeLifespan,
		AccessTokenLifespan:             cfg.AccessTokenLifespan,
		IDTokenLifespan:                 cfg.IDTokenLifespan,
		RefreshTokenLifespan:            cfg.RefreshTokenLifespan,
		PushedAuthorizeContextLifespan:  cfg.PARLifespan,
		PushedAuthorizeRequestURIPrefix: "urn:ietf:params:oauth:request_uri:",
		GlobalSecret:                    tokenKey,
		ClientSecretsHasher:             hasher,
		EnforcePKCEForPublicClients:     true,
		EnablePKCEPlainChallengeMethod:  false,
		// Client assertions are verified by authz/oauth/clientauth
		// (its assertion audiences), not by fosite.
		TokenURL:                   cfg.URL(authz.PathToken),
		ScopeStrategy:              fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:   grant.ExactAudience(cfg.Issuer),
		RefreshTokenScopes:         []string{"offline_access"},
		MinParameterEntropy:        fosite.MinParameterEntropy,
		SendDebugMessagesToClients: false,
		JWTScopeClaimKey:           jwt.JWTScopeFieldString,
		AllowedPromptValues:        []string{"login", "none", "consent"},
		RedirectSecureChecker:      fosite.IsRedirectURISecureStrict,
		// jwks_uri fetches: https and public addresses only, bounded in
		// time and size (WithJWKSFetchPolicy widens it).
		JWKSFetcherStrategy: clientauth.NewJWKSFetcher(clientauth.JWKSFetchPolicy{AllowHTTP: iss.Scheme == "http"}),
		// JARM response modes (jarm.go): accepted by fosite, answered by us
		ResponseModeHandlerExtension: jarmResponseModes{},
	}
	p.fositeConfig = fc
	// the store reads the clock at each use (WithClock and tests replace it)
	fositeStore := fositestore.New(store, p.clients, func() time.Time { return p.now() }, cfg.RefreshRotationGrace)

	signer := &algSigner{Signer: keys.Signer(cfg.IDTokenAlgs[0]), keys: keys}
	hmacStrategy := grant.NewPrefixedHMAC(oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: fc}, fc))
	strategy := &grant.TokenStrategy{
		Issuer:       cfg.Issuer,
		PrefixedHMAC: hmacStrategy,
		JWT:          &oauth2.DefaultJWTStrategy{Signer: signer, HMACSHAStrategy: hmacStrategy, Config: fc},
	}
	idStrategy := &openid.DefaultStrategy{Signer: signer, Config: fc}
	idHelper := &openid.IDTokenHandleHelper{IDTokenStrategy: idStrategy}
	validator := openid.NewOpenIDConnectRequestValidator(signer, fc)

	// The explicit handler list: every handler the server runs, in order.
	// Strongroom's own handlers (DPoP, mTLS binding, FAPI policy, ...) join here.
	handlers := []any{
		grant.Code{AuthorizeExplicitGrantHandler: &oauth2.AuthorizeExplicitGrantHandler{
			AccessTokenStrategy: strategy, RefreshTokenStrategy: strategy, AuthorizeCodeStrategy: strategy,
			CoreStorage: fositeStore, TokenRevocationStorage: fositeStore, Config: grant.CodeLifetimeConfig{Config: fc},
		}, MaxLifetime: fapi2CodeLifetime},
		// A JWT client's client_credentials token is stateless: signed, not
		// stored (grant.StatelessStrategy; statelessjwt.go verifies it).
		grant.ClientCredentials{ClientCredentialsGrantHandler: &oauth2.ClientCredentialsGrantHandler{
			HandleHelper: &oauth2.HandleHelper{
				AccessTokenStrategy: &grant.StatelessStrategy{AccessTokenStrategy: strategy, Signer: signer, Issuer: cfg.Issuer},
				AccessTokenStorage:  grant.StatelessStorage{AccessTokenStorage: fositeStore}, Config: fc,
			},
			Config: fc,
		}},
		grant.Refresh{RefreshTokenGrantHandler: &oauth2.RefreshTokenGrantHandler{
			AccessTokenStrategy: strategy, RefreshTokenStrategy: strategy, TokenRevocationStorage: fositeStore, Config: fc,
		}, Store: fositeStore, KeepRefreshToken: isFAPI2, Reused: func(context.Context) { p.metrics.RefreshReuseDetected() }},
		&openid.OpenIDConnectExplicitHandler{
			OpenIDConnectRequestStorage: fositeStore, IDTokenHandleHelper: idHelper,
			OpenIDConnectRequestValidator: validator, Config: fc,
		},
		// Hybrid (code id_token) only answers at the authorization endpoint:
		// its embedded explicit handler must not run a second time at /token.
		authorizeOnly{&openid.OpenIDConnectHybridHandler{
			AuthorizeExplicitGrantHandler: &oauth2.AuthorizeExplicitGrantHandler{
				AccessTokenStrategy: strategy, RefreshTokenStrategy: strategy, AuthorizeCodeStrategy: strategy,
				CoreStorage: fositeStore, TokenRevocationStorage: fositeStore, Config: fc,
			},
			AuthorizeImplicitGrantTypeHandler: &oauth2.AuthorizeImplicitGrantTypeHandler{
				AccessTokenStrategy: strategy, AccessTokenStorage: fositeStore, Config: fc,
			},
			IDTokenHandleHelper: idHelper, OpenIDConnectRequestStorage: fositeStore,
			OpenIDConnectRequestValidator: validator, Config: fc,
		}},
		&openid.OpenIDConnectRefreshHandler{IDTokenHandleHelper: idHelper, Config: fc},
		statelessIntrospector{p: p, inner: &oauth2.CoreValidator{CoreStrategy: strategy, CoreStorage: fositeStore, Config: fc}},
		statelessRevoker{p: p, inner: &oauth2.TokenRevocationHandler{TokenRevocationStorage: fositeStore, AccessTokenStrategy: strategy, RefreshTokenStrategy: strategy}},
		&grant.PKCE{Handler: &pkce.Handler{AuthorizeCodeStrategy: strategy, Storage: fositeStore, Config: fc}, Codes: fositeStore, Strategy: strategy},
		&par.PushedAuthorizeHandler{Storage: fositeStore, Config: fc},
	}
	for _, h := range handlers {
		if ah, ok := h.(fosite.AuthorizeEndpointHandler); ok {
			fc.AuthorizeEndpointHandlers.Append(ah)
		}
		if th, ok := h.(fosite.TokenEndpointHandler); ok {
			// appended directly: Append deduplicates by type, and every wrapper has one
			fc.TokenEndpointHandlers = append(fc.TokenEndpointHandlers, tokenHandler{th})
		}
		if tv, ok := h.(fosite.TokenIntrospector); ok {
			fc.TokenIntrospectionHandlers.Append(tv)
		}
		if rh, ok := h.(fosite.RevocationHandler); ok {
			fc.RevocationHandlers.Append(rh)
		}
		if ph, ok := h.(fosite.PushedAuthorizeEndpointHandler); ok {
			fc.PushedAuthorizeEndpointHandlers.Append(ph)
		}
	}
	// the session manager reads the clock at each use (tests change it)
	p.sessions = &authz.SessionManager{Store: store, Now: func() time.Time { return p.now() }}
	p.provider = fosite.NewOAuth2Provider(fositeStore, &fositeConfig{Config: fc, cfg: &p.cfg})
	// client authentication reads the clock, certificates, CAs and log at
	// each use (options and tests replace them)
	p.clientAuth = clientauth.New(clientauth.Deps{
		Clients:      fositeStore,
		Fallback:     p.provider.DefaultClientAuthenticationStrategy,
		JWKS:         fc.GetJWKSFetcherStrategy,
		Config:       &p.cfg,
		Now:          func() time.Time { return p.now() },
		Certificates: func() *mtls.CertificateSource { return p.certs },
		ClientCAs:    func() *x509.CertPool { return p.clientCAs },
		Log:          func() *slog.Logger { return p.log },
		MTLSBaseURL:  func() string { return p.mtlsBaseURL },
		Secrets:      hasher,
		Audit:        store.AppendAudit,
		Failed:       func(reason string) { p.metrics.ClientAuthFailed(reason) },
	})
	fc.ClientAuthenticationStrategy = p.clientAuth.Authenticate
	return p, nil
}

// fositeConfig overrides fosite getters whose values fosite's Config cannot express.
type fositeConfig struct {
	*fosite.Config
	cfg *authz.Config
}

// GetTokenURLs is only read by fosite's own assertion verification, which no
// longer runs (authz/oauth/clientauth replaces it); should a fosite handler
// read it again, it gets the values we accept everywhere.
func (c *fositeConfig) GetTokenURLs(context.Context) []string {
	return []string{c.cfg.Issuer, c.cfg.URL(authz.PathToken)}
}

// algSigner picks the signing key by the algorithm a token's header asks for
// (a client's id_token_signed_response_alg, the JWT access token alg) and
// names it in "kid"; fosite's header mapping drops "alg" before signing.
type algSigner struct {
	jwt.Signer
	keys authz.KeySource
}

// Generate implements jwt.Signer.
func (s *algSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if h, ok := header.(*jwt.Headers); ok && h != nil {
		if alg, _ := h.Extra["alg"].(string); alg != "" {
			kid, ok := s.keys.ActiveKID(alg)
			if !ok {
				return "", "", fmt.Errorf("no active signing key for %s", alg)
			}
			extra := make(map[string]any, len(h.Extra)+1)
			for k, v := range h.Extra {
				extra[k] = v
			}
			extra["kid"] = kid
			header = &jwt.Headers{Extra: extra}
		}
	}
	return s.Signer.Generate(ctx, claims, header)
}

// JWKS returns the published JWK Set document of the server's keys.
func (p *Tokens) JWKS() []byte { return p.keys.JWKS() }

// WatchClients invalidates cached clients on changes from any node until ctx ends.
func (p *Tokens) WatchClients(ctx context.Context) error {
	return p.clients.Watch(ctx, p.store)
}

// syntheticAuthorizeRequest rebuilds an authorization request from stored,
// already validated parameters (after login and consent) so fosite can issue
// the response.
func syntheticAuthorizeRequest(r *http.Request, form url.Values) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	u := *r.URL
	u.Path = authz.PathAuthorize
	u.RawQuery = form.Encode()
	r2.URL = &u
	r2.Form, r2.PostForm = nil, nil
	r2.Body = http.NoBody
	r2.ContentLength = 0
	r2.Header = r.Header.Clone()
	r2.Header.Del("Content-Type")
	return r2
}

// authorizeOnly exposes only a handler's authorization endpoint role.
type authorizeOnly struct {
	fosite.AuthorizeEndpointHandler
}

// tokenHandler skips a handler that cannot handle the grant before calling
// it: fosite's handlers answer ErrUnknownRequest wrapped with a captured stack
// trace, a measurable cost on every token request for every handler.
type tokenHandler struct{ fosite.TokenEndpointHandler }

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler. A grant
// type the client is not registered for is unauthorized_client (RFC 6749
// §5.2) before the handler looks at anything else: fosite's handlers check
// scopes first (invalid_scope) and call a public client's client_credentials
// request invalid_grant.
func (h tokenHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	if c := r.GetClient(); c != nil {
		for _, gt := range r.GetGrantTypes() {
			if !c.GetGrantTypes().Has(gt) {
				return fosite.ErrUnauthorizedClient.WithHintf("The client is not registered for the grant type %q.", gt)
			}
		}
	}
	return h.TokenEndpointHandler.HandleTokenEndpointRequest(ctx, r)
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler.
func (h tokenHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return h.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, r, resp)
}

// logServerError is LogServerError on the token service's log.
func (p *core) logServerError(ctx context.Context, err error) { authz.LogServerError(ctx, p.log, err) }
