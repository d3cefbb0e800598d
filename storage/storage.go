package storage

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Implementations wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: no row, or the row has expired (expired rows are never returned).
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a unique key is taken (client id, username, replayed JTI, ...).
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConflict: a concurrent writer won (serialization failure, conditional update
	// that matched no row because another transaction changed it first).
	ErrConflict = errors.New("storage: conflict")
	// ErrInactive: the row exists but was invalidated (used authorization code,
	// rotated or revoked refresh token). Get* methods return the row together with it.
	ErrInactive = errors.New("storage: inactive")
	// ErrUnavailable: the backing database cannot be reached. Endpoints map it to
	// 503 temporarily_unavailable, never to invalid_client.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrJTIUsed: CreateRequestOnce found its jti recorded and unexpired (a
	// replay); nothing was written.
	ErrJTIUsed = errors.New("storage: jti already used")
)

// Store is everything the server needs, grouped by concern. Each concern is a
// small interface so callers and fakes stay small.
type Store interface {
	Clients
	Users
	Keys
	Requests
	JTIs
	AuthFlows
	BrowserSessions
	Consents
	AuthorizationTypes
	MFA
	Logout
	Audit
	RevokedGrants
	Transactor
	Notifier
	// Ping reports whether the backing database is reachable (readiness).
	Ping(ctx context.Context) error
	// Close releases connections.
	Close()
}

// Change topics published through Notifier.
const (
	TopicClients = "clients" // payload: the client id
	TopicKeys    = "keys"    // payload: the kid (or empty)
	// TopicRevokedGrants: payload RevokedGrant.Payload (expiry and grant id).
	TopicRevokedGrants = "revoked_grants"
)

// SubscriptionLost is the payload a Notifier subscriber gets when its
// connection is lost; no topic's payload can take this value.
const SubscriptionLost = "\x00subscription-lost"

// Notifier tells caches on every node about changes made by any node
// (Postgres LISTEN/NOTIFY; in-process callbacks for the memory store).
// Writers of clients and keys publish on commit; Subscribe delivers each
// change to fn until ctx ends. When the subscription's connection is lost,
// fn is called at once with SubscriptionLost (changes made from then on are
// not delivered: a cache must stop trusting itself); once it is back, fn is
// called with the empty payload, meaning "changes may have been missed:
// reload all".
type Notifier interface {
	Subscribe(ctx context.Context, topic string, fn func(payload string)) error
}

// Transactor runs several operations atomically. BeginTx returns a context
// that carries the transaction; every method called with that context takes
// part in it until CommitTx or RollbackTx. It maps directly onto fosite's
// storage.Transactional (code exchange and refresh rotation).
type Transactor interface {
	BeginTx(ctx context.Context) (context.Context, error)
	CommitTx(ctx context.Context) error
	RollbackTx(ctx context.Context) error
}

// InTx runs fn in a transaction of t, committing when fn returns nil and
// rolling back otherwise.
func InTx(ctx context.Context, t Transactor, fn func(ctx context.Context) error) (err error) {
	txCtx, err := t.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = t.RollbackTx(txCtx)
			panic(p)
		}
	}()
	if err := fn(txCtx); err != nil {
		if rbErr := t.RollbackTx(txCtx); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return t.CommitTx(txCtx)
}

// ---------------------------------------------------------------- clients

// Client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthMethodSecretBasic   = "client_secret_basic"
	AuthMethodSecretPost    = "client_secret_post"
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	AuthMethodNone          = "none"
	// AuthMethodSecretJWT is a client assertion signed with HMAC over the
	// client secret (RFC 7523, OIDC Core §9).
	AuthMethodSecretJWT = "client_secret_jwt"
	// AuthMethodTLSClientAuth is mutual TLS with a CA-issued certificate
	// whose subject the client registered (RFC 8705 §2.1).
	AuthMethodTLSClientAuth = "tls_client_auth"
	// AuthMethodSelfSignedTLSClientAuth is mutual TLS with a self-signed
	// certificate whose key is in the client's registered JWKS (RFC 8705 §2.2).
	AuthMethodSelfSignedTLSClientAuth = "self_signed_tls_client_auth"
)

// Client profiles (ClientMetadata.Profile): a set of rules a registration
// must meet as a whole and the server enforces at run time.
const (
	// ProfileNone is an ordinary client.
	ProfileNone = ""
	// ProfileFAPI2 is the FAPI 2.0 Security Profile.
	ProfileFAPI2 = "fapi2"
	// ProfileFAPI2MessageSigning is the FAPI 2.0 Security Profile with
	// FAPI 2.0 Message Signing: signed request objects (RFC 9101) and
	// signed authorization responses (JARM) on top of ProfileFAPI2.
	ProfileFAPI2MessageSigning = "fapi2-message-signing"
)

// Access token formats.
const (
	TokenFormatOpaque = "opaque"
	TokenFormatJWT    = "jwt"
)

// ClientSecret is one secret of a client. Only a keyed hash is stored
// (HMAC-SHA256 under a server key): secrets are server-generated with 256
// bits of entropy, so a slow password hash would add cost and no safety.
type ClientSecret struct {
	// ID names the secret to operators (revoke-secret, listings) without
	// revealing it: a short fingerprint of the hash; never the secret.
	ID        string
	Hash      []byte
	CreatedAt time.Time
	// ExpiresAt, when set, ends the secret (rotation grace, planned expiry).
	ExpiresAt *time.Time
}

// Client is an OAuth 2.0 client registration; field names follow RFC 7591.
type Client struct {
	ID                       string
	Name                     string
	Secrets                  []ClientSecret
	RedirectURIs             []string
	PostLogoutRedirectURIs   []string
	GrantTypes               []string
	ResponseTypes            []string
	Scopes                   []string
	Audience                 []string
	Public                   bool
	TokenEndpointAuthMethod  string
	RequirePAR               bool
	JWKSURI                  string
	JWKS                     []byte // a JWK Set (JSON) for private_key_jwt, or nil
	AccessTokenFormat        string // TokenFormatOpaque or TokenFormatJWT
	IDTokenSignedResponseAlg string // e.g. RS256 (default) or ES256
	Disabled                 bool
	Metadata                 ClientMetadata
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// ClientMetadata holds the registration fields (RFC 7591, OIDC Dynamic
// Registration and Back-Channel Logout) that no query filters on; stored as
// one JSON document.
type ClientMetadata struct {
	Contacts  []string `json:"contacts,omitempty"`
	ClientURI string   `json:"client_uri,omitempty"`
	LogoURI   string   `json:"logo_uri,omitempty"`
	PolicyURI string   `json:"policy_uri,omitempty"`
	TosURI    string   `json:"tos_uri,omitempty"`
	// BackchannelLogoutURI receives logout tokens (OIDC Back-Channel Logout 1.0).
	BackchannelLogoutURI             string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `json:"backchannel_logout_session_required,omitempty"`
	// RequireMFA makes every login for this client use a second factor.
	RequireMFA bool `json:"require_mfa,omitempty"`
	// SkipConsent marks a first-party client whose users are not asked to consent.
	SkipConsent bool `json:"skip_consent,omitempty"`
	// AuthorizationDetailsTypes are the authorization details types
	// (RFC 9396 §2) the client may request; empty: none.
	AuthorizationDetailsTypes []string `json:"authorization_details_types,omitempty"`
	// Introspect allows the client to call the introspection endpoint
	// (RFC 7662) about its own tokens and access tokens whose audience
	// names it.
	Introspect bool `json:"introspect,omitempty"`
	// RateLimit is the client's own request limit at the token, PAR,
	// introspection and revocation endpoints, as "<events>/<s|m|h>" or
	// "off" (authz/ratelimit.ParseRate); "": the server's default (serve
	// --client-rate-limit).
	RateLimit string `json:"rate_limit,omitempty"`
	// RateLimitBurst is the burst of RateLimit; 0: twice its events.
	RateLimitBurst int `json:"rate_limit_burst,omitempty"`

	// Profile is ProfileNone or ProfileFAPI2 (the FAPI 2.0 Security
	// Profile: registration rules checked together, runtime rules such as
	// sender-constrained tokens and short code lifetimes).
	Profile string `json:"profile,omitempty"`
	// DPoPBoundAccessTokens requires a DPoP proof (RFC 9449) on every token
	// request of this client, so its tokens are always DPoP-bound
	// (RFC 9449 §5.2 client metadata).
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
	// TLSClientCertificateBoundAccessTokens binds this client's access
	// tokens to its TLS client certificate (RFC 8705 §3.4, cnf.x5t#S256).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// TokenEndpointAuthSigningAlg is the one JWS algorithm the client's
	// assertions (private_key_jwt, client_secret_jwt) may use (RFC 7591 §2);
	// empty: any the server accepts for the method.
	TokenEndpointAuthSigningAlg string `json:"token_endpoint_auth_signing_alg,omitempty"`

	// The certificate subject of a tls_client_auth client (RFC 8705
	// §2.1.2): exactly one of the five is set for that method, none for
	// the others. authz/mtls.Identity has the same fields and matches them.
	TLSClientAuthSubjectDN string `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS    string `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI    string `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP     string `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail  string `json:"tls_client_auth_san_email,omitempty"`

	// RequireSignedRequestObject makes every authorization request of the
	// client (at PAR or the authorization endpoint) a signed request
	// object (RFC 9101 §10.5).
	RequireSignedRequestObject bool `json:"require_signed_request_object,omitempty"`
	// RequestObjectSigningAlg is the one JWS algorithm the client's request
	// objects may use (OIDC Dynamic Registration §2); empty: any the server
	// accepts.
	RequestObjectSigningAlg string `json:"request_object_signing_alg,omitempty"`
	// AuthorizationSignedResponseAlg signs the client's JARM authorization
	// responses; empty: the server's default (ES256 or PS256).
	AuthorizationSignedResponseAlg string `json:"authorization_signed_response_alg,omitempty"`
	// IntrospectionSignedResponseAlg signs the JWT introspection responses
	// the client receives (RFC 9701 §6); empty: the server's default.
	IntrospectionSignedResponseAlg string `json:"introspection_signed_response_alg,omitempty"`
}

// IsFAPI2 reports whether the client registered the FAPI 2.0 profile
// (with or without Message Signing).
func (m ClientMetadata) IsFAPI2() bool {
	return m.Profile == ProfileFAPI2 || m.Profile == ProfileFAPI2MessageSigning
}

// IsFAPI2MessageSigning reports whether the client registered FAPI 2.0
// Message Signing: signed request objects and JARM responses.
func (m ClientMetadata) IsFAPI2MessageSigning() bool { return m.Profile == ProfileFAPI2MessageSigning }

// Clients stores client registrations.
type Clients interface {
	// CreateClient inserts c with its secrets; ErrAlreadyExists if the id is taken.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client or ErrNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns every client ordered by id.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient reads the client, lets fn change it and writes it back
	// atomically (secrets included). ErrNotFound if missing.
	UpdateClient(ctx context.Context, id string, fn func(c *Client) error) error
	// DeleteClient removes the client and everything issued to it; ErrNotFound if missing.
	DeleteClient(ctx context.Context, id string) error
}

// ---------------------------------------------------------------- users

// User is an end user who logs in at the authorization server.
type User struct {
	ID            string // stable opaque subject identifier (UUID)
	Username      string // unique, case-sensitive login name
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	// PhoneNumber is E.164 ('+' then 8 to 15 digits) or empty.
	PhoneNumber         string
	PhoneNumberVerified bool
	PasswordHash        string // argon2id in PHC string format
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Users stores end users.
type Users interface {
	// CreateUser inserts u; ErrAlreadyExists if the username (or id) is taken.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user by id or ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByUsername returns the user by username or ErrNotFound.
	GetUserByUsername(ctx context.Context, username string) (*User, error)
	// ListUsers returns every user ordered by username.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser removes the user and everything issued to or kept for them:
	// browser sessions, consents, second factors, pending authorization flows
	// and every request row whose subject they are (codes, access and
	// refresh tokens, PKCE and OIDC state), including rows a code exchange or
	// refresh running concurrently commits meanwhile. ErrNotFound if missing.
	DeleteUser(ctx context.Context, id string) error
}

// ---------------------------------------------------------------- signing keys

// Key states: next (published, not signing) → active (signing) → retired
// (published for verification only) → removed. A key revoked in an emergency
// is neither published nor trusted (revoked) until it is removed.
const (
	KeyStateNext    = "next"
	KeyStateActive  = "active"
	KeyStateRetired = "retired"
	KeyStateRevoked = "revoked"
)

// SigningKey is one asymmetric key used to sign ID tokens and JWT access tokens.
type SigningKey struct {
	KID         string
	Alg         string // RS256, ES256, PS256, EdDSA
	State       string
	PublicJWK   []byte // public JWK (JSON)
	PrivateEnc  []byte // private key, AES-256-GCM encrypted under the KEK
	CreatedAt   time.Time
	ActivatedAt *time.Time
	RetiredAt   *time.Time
	PublishedAt *time.Time // first served in the JWKS (nil: CreatedAt)
	RevokedAt   *time.Time
}

// Keys stores signing keys.
type Keys interface {
	// CreateKey inserts k; ErrAlreadyExists if the kid is taken.
	CreateKey(ctx context.Context, k *SigningKey) error
	// ListKeys returns every key, newest first.
	ListKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateKeys lets fn change the key set atomically (rotation). Keys that fn
	// returns are upserted by kid; keys it omits are deleted. A returned set
	// with an empty or repeated kid is refused (CheckKeySet) and nothing is
	// written. Concurrent callers are serialized.
	UpdateKeys(ctx context.Context, fn func(keys []SigningKey) ([]SigningKey, error)) error
}

// ---------------------------------------------------------------- fosite requests

// RequestKind names what a stored request row stands for.
type RequestKind string

// Request kinds, one per fosite storage concern.
const (
	KindAuthorizeCode RequestKind = "code"
	KindAccessToken   RequestKind = "access"
	KindRefreshToken  RequestKind = "refresh"
	KindOIDC          RequestKind = "oidc"
	KindPKCE          RequestKind = "pkce"
	KindPAR           RequestKind = "par"
)

// Request is a persisted fosite request, keyed by (Kind, Signature). The
// signature is the token's HMAC or JWT signature (or the PAR request_uri), never
// the token itself.
type Request struct {
	Kind      RequestKind
	Signature string
	RequestID string // the grant: every token of one grant shares it
	ClientID  string
	Subject   string
	Active    bool
	// DeactivatedAt is when the row was deactivated (zero while active):
	// distinguishes a retry just after a refresh rotation from token reuse.
	DeactivatedAt time.Time
	RequestedAt   time.Time
	ExpiresAt     time.Time
	Data          []byte // the serialized fosite requester and session (JSON)
}

// Requests stores fosite requests (authorization codes, tokens, PKCE, OIDC and PAR state).
type Requests interface {
	// CreateRequest inserts r; ErrAlreadyExists if (kind, signature) is taken.
	CreateRequest(ctx context.Context, r *Request) error
	// GetRequest returns the row. Missing or expired rows give ErrNotFound; an
	// inactive row is returned together with ErrInactive.
	GetRequest(ctx context.Context, kind RequestKind, signature string) (*Request, error)
	// DeleteRequest removes the row; ErrNotFound if missing.
	DeleteRequest(ctx context.Context, kind RequestKind, signature string) error
	// DeactivateRequest marks an active row inactive. Exactly one of several
	// concurrent callers succeeds: the others get ErrConflict (the row was
	// active when they looked but not when they wrote) or ErrInactive.
	// ErrNotFound if missing.
	DeactivateRequest(ctx context.Context, kind RequestKind, signature string) error
	// RevokeRequestID deactivates every row of kind that belongs to requestID.
	// It succeeds when there are none.
	RevokeRequestID(ctx context.Context, kind RequestKind, requestID string) error
	// DeleteExpiredRequests removes rows expired before the given time and reports how many.
	DeleteExpiredRequests(ctx context.Context, before time.Time) (int64, error)
}

// JTIs records client assertion JWT ids (private_key_jwt) for replay prevention.
type JTIs interface {
	// UseJTI records jti until exp. ErrAlreadyExists if it is recorded and
	// not yet expired (a replay). Atomic under concurrency.
	UseJTI(ctx context.Context, jti string, exp time.Time) error
	// DeleteExpiredJTIs removes the records that expired before the given
	// time and reports how many (an expired record no longer prevents a
	// replay: its assertion has expired too).
	DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error)
	// CreateRequestOnce records jti until exp (as UseJTI) and inserts r (as
	// CreateRequest), both or neither, in one write: a DPoP proof's jti
	// with the access token it binds, for the price of the token's INSERT.
	// ErrJTIUsed when jti is recorded and unexpired (nothing written);
	// ErrAlreadyExists when (kind, signature) is taken. Atomic under
	// concurrency: of several calls with one jti exactly one succeeds.
	CreateRequestOnce(ctx context.Context, r *Request, jti string, exp time.Time) error
}

// ---------------------------------------------------------------- browser login

// AuthFlow is a pending authorization request waiting for the end user to log
// in and consent. Its ID is the SHA-256 of a random single-use challenge
// handed to the browser.
type AuthFlow struct {
	ID        string
	ClientID  string
	Form      []byte // the validated authorization request parameters (url.Values, encoded)
	Subject   string // set once the user has logged in
	AuthTime  *time.Time
	SessionID string // the browser session that logged in
	// Binding is the SHA-256 of the flow-binding cookie of the browser that
	// started the flow; fixed at creation. Only that browser may continue it.
	Binding   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuthFlows stores pending authorization flows.
type AuthFlows interface {
	// CreateAuthFlow inserts f.
	CreateAuthFlow(ctx context.Context, f *AuthFlow) error
	// GetAuthFlow returns the flow; ErrNotFound if missing or expired.
	GetAuthFlow(ctx context.Context, id string) (*AuthFlow, error)
	// UpdateAuthFlow records the login on an unexpired flow; ErrNotFound if missing or expired.
	UpdateAuthFlow(ctx context.Context, f *AuthFlow) error
	// ConsumeAuthFlow deletes the flow and returns it. Exactly one of several
	// concurrent callers gets it; the others get ErrNotFound.
	ConsumeAuthFlow(ctx context.Context, id string) (*AuthFlow, error)
	// DeleteExpiredAuthFlows removes the flows that expired before the given
	// time, with their pending logins, and reports how many flows.
	DeleteExpiredAuthFlows(ctx context.Context, before time.Time) (int64, error)
}

// BrowserSession is a logged-in end user's session at the server. Its ID is the
// SHA-256 of the random cookie value.
type BrowserSession struct {
	ID         string
	UserID     string
	AuthTime   time.Time
	AMR        []string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// BrowserSessions stores browser sessions.
type BrowserSessions interface {
	// CreateBrowserSession inserts s.
	CreateBrowserSession(ctx context.Context, s *BrowserSession) error
	// GetBrowserSession returns the session; ErrNotFound if missing or expired.
	GetBrowserSession(ctx context.Context, id string) (*BrowserSession, error)
	// TouchBrowserSession records activity (idle timeout); ErrNotFound if missing or expired.
	TouchBrowserSession(ctx context.Context, id string, at time.Time) error
	// DeleteBrowserSession ends the session; ErrNotFound if missing.
	DeleteBrowserSession(ctx context.Context, id string) error
	// DeleteExpiredBrowserSessions removes the sessions that expired before
	// the given time, with the clients recorded on them, and reports how
	// many sessions. No back-channel logout is queued: an expired session
	// ended at its expiry, unseen by any client.
	DeleteExpiredBrowserSessions(ctx context.Context, before time.Time) (int64, error)
}

// Consent records that a user granted a client a set of scopes.
type Consent struct {
	UserID   string
	ClientID string
	Scopes   []string
	// AuthorizationDetails are the authorization details (RFC 9396, a JSON
	// array in canonical form) the user approved last, nil when none: a
	// request with other details (a new payment) asks again.
	AuthorizationDetails []byte
	GrantedAt            time.Time
}

// Consents stores remembered consent grants, one per user and client.
type Consents interface {
	// SaveConsent inserts or replaces the consent for (UserID, ClientID).
	SaveConsent(ctx context.Context, c *Consent) error
	// GetConsent returns the consent or ErrNotFound.
	GetConsent(ctx context.Context, userID, clientID string) (*Consent, error)
	// DeleteConsent removes it; ErrNotFound if missing.
	DeleteConsent(ctx context.Context, userID, clientID string) error
}

// ---------------------------------------------------------------- revoked grants

// RevokedGrant is an entry of the grant revocation list: a stateless JWT
// access token (no row in Requests) revoked before it expires. GrantID is
// the token's grant id (its "gid" and "jti" claims); the entry is needed
// only until ExpiresAt, the token's exp.
type RevokedGrant struct {
	GrantID   string
	ClientID  string
	ExpiresAt time.Time
}

// Payload is the TopicRevokedGrants notification of g: its expiry in Unix
// seconds, a space, its grant id. Receivers apply it without a read.
func (g RevokedGrant) Payload() string {
	return strconv.FormatInt(g.ExpiresAt.Unix(), 10) + " " + g.GrantID
}

// ParseRevokedGrantPayload reads a TopicRevokedGrants payload (Payload);
// ok is false for anything else (the empty "reload all" payload included).
func ParseRevokedGrantPayload(payload string) (grantID string, expiresAt time.Time, ok bool) {
	exp, id, found := strings.Cut(payload, " ")
	if !found || id == "" {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return id, time.Unix(sec, 0), true
}

// RevokedGrants stores the grant revocation list (migration 0015).
type RevokedGrants interface {
	// RevokeGrant records g (idempotent: an entry already there is kept,
	// with the later expiry) and publishes TopicRevokedGrants on commit.
	RevokeGrant(ctx context.Context, g RevokedGrant) error
	// ListRevokedGrants returns the entries that have not expired.
	ListRevokedGrants(ctx context.Context) ([]RevokedGrant, error)
	// IsGrantRevoked reports whether grantID has an unexpired entry.
	IsGrantRevoked(ctx context.Context, grantID string) (bool, error)
	// DeleteExpiredRevokedGrants removes the entries that expired before
	// the given time and reports how many.
	DeleteExpiredRevokedGrants(ctx context.Context, before time.Time) (int64, error)
}
