package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/revocation"
	"github.com/strongroom/strongroom/storage"
)

// JWT access tokens verified locally: with the published keys (the JWKS, so
// a revoked key verifies nothing), without fosite's claim maps. Stateless
// ones (grant.ClaimGrantID) are answered without any read: the revocation
// list and the client cache are in memory (docs/tokens.md).

// accessJWTClaims are the claims of a JWT access token that are read.
type accessJWTClaims struct {
	Iss                  string          `json:"iss"`
	Sub                  string          `json:"sub"`
	ClientID             string          `json:"client_id"`
	Aud                  audienceClaim   `json:"aud"`
	Exp                  *json.Number    `json:"exp"`
	Iat                  *json.Number    `json:"iat"`
	Nbf                  *json.Number    `json:"nbf"`
	Jti                  string          `json:"jti"`
	GrantID              string          `json:"gid"`
	Scope                *string         `json:"scope"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
	Cnf                  *struct {
		JKT     string `json:"jkt"`
		X5TS256 string `json:"x5t#S256"`
	} `json:"cnf"`

	exp, iat time.Time
}

// audienceClaim is aud: one string or an array of them (RFC 7519 §4.1.3).
type audienceClaim []string

// UnmarshalJSON implements json.Unmarshaler.
func (a *audienceClaim) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// errJWTRefused is a JWT access token that is not valid here (malformed,
// unverifiable, expired, not yet valid, another issuer's).
var errJWTRefused = errors.New("JWT access token refused")

// jwtAlgs are the signature algorithms a JWT access token may use; the key
// its kid names must be of the same one.
var jwtAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.RS256, jose.RS384, jose.RS512, jose.EdDSA}

// publishedKeys is the parsed JWKS of a KeySource, parsed again when the
// document changes (rotation, revocation).
type publishedKeys struct {
	src authz.KeySource

	mu  sync.Mutex
	raw []byte
	set jose.JSONWebKeySet
}

// key returns the published key kid.
func (k *publishedKeys) key(kid string) (jose.JSONWebKey, bool) {
	raw := k.src.JWKS()
	k.mu.Lock()
	defer k.mu.Unlock()
	if !bytes.Equal(raw, k.raw) {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			return jose.JSONWebKey{}, false
		}
		k.raw, k.set = raw, set
	}
	for _, jwk := range k.set.Keys {
		if jwk.KeyID == kid {
			return jwk, true
		}
	}
	return jose.JSONWebKey{}, false
}

// verifyAccessJWT verifies a JWT access token: its signature with the
// published key its kid names (of the header's alg), typ at+jwt, a
// client_id, exp in the future, nbf and iat not ahead, and, when checkIss,
// iss this node's issuer. Introspection does not compare iss (as the
// stored path never did): our signature and typ at+jwt already say the
// token is one of ours, whichever node's issuer URL signed it.
func (p *core) verifyAccessJWT(token string, checkIss bool) (*accessJWTClaims, error) {
	if !IsJWT(token) || len(token) > maxResourceTokenLen {
		return nil, errJWTRefused
	}
	jws, err := jose.ParseSignedCompact(token, jwtAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errJWTRefused
	}
	h := jws.Signatures[0].Header
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, errJWTRefused
	}
	key, ok := p.jwtKeys.key(h.KeyID)
	if !ok || h.KeyID == "" || key.Algorithm != h.Algorithm {
		return nil, errJWTRefused
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, errJWTRefused
	}
	var c accessJWTClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errJWTRefused
	}
	now := p.now()
	exp, ok := numberClaim(c.Exp)
	if !ok || (checkIss && c.Iss != p.cfg.Issuer) || c.ClientID == "" || !now.Before(exp) {
		return nil, errJWTRefused
	}
	c.exp = exp
	for _, n := range []*json.Number{c.Nbf, c.Iat} {
		if v, ok := numberClaim(n); ok && v.After(now.Add(jwtClockSkew)) {
			return nil, errJWTRefused
		} else if n != nil && !ok {
			return nil, errJWTRefused
		}
	}
	c.iat, _ = numberClaim(c.Iat)
	return &c, nil
}

// numberClaim reads a NumericDate claim; false when absent or malformed.
func numberClaim(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// checkStateless decides a verified stateless JWT: refused when its grant
// was revoked or its client was deleted or disabled (the client cache,
// invalidated on every node by LISTEN/NOTIFY). It returns the current
// client. An outage (the revocation list not current and the database not
// answering, or a client not cached and the database not answering) is an
// error matching storage.ErrUnavailable; a refusal is errJWTRefused.
func (p *core) checkStateless(ctx context.Context, c *accessJWTClaims) (*authz.Client, error) {
	revoked, err := p.revoked.Revoked(ctx, c.GrantID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errJWTRefused
	}
	client, err := p.clients.Get(ctx, c.ClientID)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return nil, err
		}
		return nil, errJWTRefused
	}
	return client, nil
}

// statelessIntrospector answers fosite's introspection (the introspection
// endpoint, userinfo, the admin API's bearer tokens) for stateless JWT
// access tokens without a read, and hands every other token to the
// storage-backed validator (fosite's CoreValidator). A JWT that does not
// verify is refused at once: no row could make it valid.
type statelessIntrospector struct {
	p     *core
	inner fosite.TokenIntrospector
}

// IntrospectToken implements fosite.TokenIntrospector.
func (v statelessIntrospector) IntrospectToken(ctx context.Context, token string, tu fosite.TokenUse, ar fosite.AccessRequester, scopes []string) (fosite.TokenUse, error) {
	if !IsJWT(token) {
		return v.inner.IntrospectToken(ctx, token, tu, ar, scopes)
	}
	c, err := v.p.verifyAccessJWT(token, false)
	if err != nil {
		return "", fosite.ErrRequestUnauthorized.WithWrap(err)
	}
	if c.GrantID == "" {
		return v.inner.IntrospectToken(ctx, token, tu, ar, scopes) // a user grant's JWT: stored
	}
	client, err := v.p.checkStateless(ctx, c)
	if err != nil {
		if errors.Is(err, errJWTRefused) {
			return "", fosite.ErrRequestUnauthorized.WithWrap(err)
		}
		return "", fosite.ErrServerError.WithWrap(err)
	}
	var granted fosite.Arguments
	if c.Scope != nil {
		granted = fosite.Arguments(strings.Fields(*c.Scope))
	}
	for _, s := range scopes {
		if s != "" && !fosite.ExactScopeStrategy(granted, s) {
			return fosite.AccessToken, fosite.ErrInvalidScope.WithHintf("The request scope '%s' has not been granted.", s)
		}
	}
	sess, ok := ar.GetSession().(*authz.Session)
	if !ok || sess == nil {
		sess = authz.NewSession()
	}
	sess.ClientID = c.ClientID
	sess.SetExpiresAt(fosite.AccessToken, c.exp)
	if c.Cnf != nil {
		sess.JKT, sess.X5TS256 = c.Cnf.JKT, c.Cnf.X5TS256
	}
	if len(c.AuthorizationDetails) > 0 && !bytes.Equal(c.AuthorizationDetails, []byte("null")) {
		sess.AuthorizationDetails = slices.Clone(c.AuthorizationDetails)
	}
	// The grant's audience as it would be stored: the issuer is the default
	// filled in when signing, not part of the grant (grant.IssuerAudience).
	aud := fosite.Arguments(c.Aud)
	if len(aud) == 1 && aud[0] == v.p.cfg.Issuer {
		aud = nil
	}
	ar.Merge(&fosite.Request{
		ID: c.GrantID, RequestedAt: c.iat.UTC(), Client: client,
		RequestedScope: granted, GrantedScope: granted,
		RequestedAudience: aud, GrantedAudience: aud,
		Form: url.Values{}, Session: sess,
	})
	return fosite.AccessToken, nil
}

// statelessRevoker revokes stateless JWT access tokens (RFC 7009) through
// the grant revocation list and hands every other token to fosite's
// revocation handler. Another client's token is answered like fosite
// answers it (unauthorized_client, which Revoke answers like an unknown
// token) and not revoked.
type statelessRevoker struct {
	p     *core
	inner fosite.RevocationHandler
}

// RevokeToken implements fosite.RevocationHandler.
func (r statelessRevoker) RevokeToken(ctx context.Context, token string, tt fosite.TokenType, client fosite.Client) error {
	if IsJWT(token) {
		if c, err := r.p.verifyAccessJWT(token, false); err == nil && c.GrantID != "" {
			if c.ClientID != client.GetID() {
				return fosite.ErrUnauthorizedClient
			}
			g := storage.RevokedGrant{GrantID: c.GrantID, ClientID: c.ClientID, ExpiresAt: c.exp}
			if err := r.p.revoked.Revoke(ctx, g); err != nil {
				return fosite.ErrTemporarilyUnavailable.WithWrap(err).WithDebug("recording the revocation failed")
			}
			return nil
		}
	}
	return r.inner.RevokeToken(ctx, token, tt, client)
}

// WatchRevocations subscribes the grant revocation list to revocations
// from every node and loads it. On an error the list is not current: its
// checks read the database until RunRevocations has made it current.
func (p *Tokens) WatchRevocations(ctx context.Context) error {
	if err := p.revoked.Start(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("watch revocations: %w", err)
	}
	return nil
}

// RunRevocations keeps the revocation list healthy until ctx ends
// (revocation.List.Run): expired entries leave memory, a list that is not
// current is retried.
func (p *Tokens) RunRevocations(ctx context.Context, interval time.Duration) {
	p.revoked.Run(ctx, interval)
}

// Revocations is the node's grant revocation list (tests, metrics).
func (p *Tokens) Revocations() *revocation.List { return p.revoked }
