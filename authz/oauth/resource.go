package oauth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/storage"
)

// Protected resources. Userinfo (this server's own resource) and the
// gateway forward-auth check (authz/gateway, for the APIs behind an API
// gateway) accept access tokens through the same steps:
//
//  1. BearerToken reads the Authorization header (Bearer or DPoP scheme;
//     RFC 6750 §2.1, RFC 9449 §7.1);
//  2. LookupAccessToken (through storage: fosite's introspection) or
//     VerifyJWTAccessToken (locally, with the published signing keys)
//     turns the token into an AccessGrant;
//  3. CheckSenderConstraint enforces the grant's binding against the
//     request the token came with (ResourceTarget: its method and URI).

// AccessGrant is what an accepted access token grants at a protected
// resource. It holds no token.
type AccessGrant struct {
	// ClientID is the client the token was issued to.
	ClientID string
	// Subject is the user the token acts for; "" for a client's own token
	// (client_credentials).
	Subject string
	// Scopes are the granted scopes.
	Scopes []string
	// Audience is the token's aud (the issuer when the grant named none).
	Audience []string
	// ExpiresAt is when the token expires.
	ExpiresAt time.Time
	// JKT and X5TS256 are the token's binding (cnf.jkt, cnf.x5t#S256); ""
	// when it is not bound that way.
	JKT, X5TS256 string
	// JWT reports a JWT access token verified locally (VerifyJWTAccessToken).
	JWT bool

	// client is the token's client (its DPoP policy: nonces, FAPI 2.0
	// algorithms).
	client *authz.Client
}

// SubjectOrClient is the token's subject as RFC 9068 §2.2 names it: the
// user, or the client itself for a client's own token.
func (g *AccessGrant) SubjectOrClient() string {
	if g.Subject != "" {
		return g.Subject
	}
	return g.ClientID
}

// ResourceTarget is the request an access token was presented with at a
// protected resource, as the client addressed it: the DPoP proof's htm and
// htu must match it (RFC 9449 §4.3).
type ResourceTarget struct {
	// Method is the HTTP method.
	Method string
	// URI is the absolute URI (scheme, host, path; a query is ignored).
	URI string
}

// errInvalidToken is the refusal of a token that is unknown, expired,
// revoked, malformed or of a disabled client (RFC 6750 §3.1): nothing tells
// these apart.
func errInvalidToken() *authz.BearerError {
	return &authz.BearerError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "The access token is invalid, expired or revoked."}
}

// BearerToken reads the access token of a request at a protected resource
// from its one Authorization header (RFC 6750 §2.1: never the query string
// or the body): the scheme ("Bearer" or "DPoP", as sent) and the token. A
// request without one is a *authz.BearerError with NoToken; any other
// malformed header is 400 invalid_request.
func BearerToken(r *http.Request) (scheme, token string, err error) {
	if r.URL.Query().Has("access_token") || (r.PostForm != nil && r.PostForm.Has("access_token")) {
		return "", "", &authz.BearerError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "Send the access token in the Authorization header only."}
	}
	values := r.Header.Values("Authorization")
	if len(values) == 0 || values[0] == "" {
		return "", "", &authz.BearerError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "Missing bearer token.", NoToken: true}
	}
	if len(values) > 1 {
		return "", "", &authz.BearerError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The request carries more than one Authorization header."}
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) || token == "" || strings.ContainsAny(token, " \t") {
		return "", "", &authz.BearerError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The Authorization header must use the Bearer or DPoP scheme."}
	}
	return scheme, token, nil
}

// IsJWT reports whether token has the form of a JWT (a compact JWS), as
// JWT access tokens do; opaque tokens never do.
func IsJWT(token string) bool { return strings.Count(token, ".") == 2 }

// LookupAccessToken looks an access token up through fosite's
// introspection (storage, for opaque and JWT tokens alike): revocation,
// expiry and a disabled client are seen at once. A refused token is a
// *authz.BearerError invalid_token; a storage outage an error wrapping
// storage.ErrUnavailable.
func (p *Tokens) LookupAccessToken(ctx context.Context, token string) (*AccessGrant, error) {
	tu, ar, err := p.provider.IntrospectToken(ctx, token, fosite.AccessToken, authz.NewSession())
	if err != nil || tu != fosite.AccessToken {
		if errors.Is(err, storage.ErrUnavailable) {
			return nil, err
		}
		return nil, errInvalidToken()
	}
	c, err := storageClient(ar.GetClient())
	if err != nil {
		return nil, err
	}
	sess, ok := ar.GetSession().(*authz.Session)
	if !ok {
		return nil, fosite.ErrServerError.WithDebug("unexpected session type")
	}
	return &AccessGrant{
		ClientID:  c.GetID(),
		Subject:   sess.GetSubject(),
		Scopes:    slices.Clone(ar.GetGrantedScopes()),
		Audience:  slices.Clone(grantIssuerAudience(ar, p.cfg.Issuer)),
		ExpiresAt: sess.GetExpiresAt(fosite.AccessToken),
		JKT:       sess.JKT,
		X5TS256:   sess.X5TS256,
		client:    c,
	}, nil
}

// grantIssuerAudience is the aud of the grant's access token.
func grantIssuerAudience(ar fosite.Requester, issuer string) []string {
	if len(ar.GetGrantedAudience()) > 0 {
		return ar.GetGrantedAudience()
	}
	return []string{issuer}
}

// VerifyJWTAccessToken verifies an RFC 9068 JWT access token locally,
// without a database read: the signature with the published key its kid
// names (a revoked key is no longer published), typ at+jwt, iss this
// issuer, exp in the future, nbf and iat not ahead, and a client_id whose
// client exists and is enabled (the client cache). A stateless token (a
// client_credentials JWT, grant.ClaimGrantID) is also checked against the
// grant revocation list, so its revocation is seen at once on this node
// and within a notification on the others; a user grant's JWT revoked in
// storage stays valid here until it expires (only LookupAccessToken sees
// that). A refused token is a *authz.BearerError invalid_token; an outage
// an error matching storage.ErrUnavailable.
func (p *Tokens) VerifyJWTAccessToken(ctx context.Context, token string) (*AccessGrant, error) {
	claims, err := p.verifyAccessJWT(token, true)
	if err != nil {
		return nil, errInvalidToken()
	}
	var c *authz.Client
	if claims.GrantID != "" {
		c, err = p.checkStateless(ctx, claims)
	} else {
		c, err = p.clients.Get(ctx, claims.ClientID)
		if err != nil && !errors.Is(err, storage.ErrUnavailable) {
			err = errJWTRefused
		}
	}
	if err != nil {
		if errors.Is(err, errJWTRefused) {
			return nil, errInvalidToken()
		}
		return nil, err
	}
	g := &AccessGrant{ClientID: claims.ClientID, ExpiresAt: claims.exp, JWT: true, client: c, Audience: []string(claims.Aud)}
	if claims.Sub != claims.ClientID {
		g.Subject = claims.Sub
	}
	if claims.Scope != nil { // fosite's JWTScopeFieldString
		g.Scopes = strings.Fields(*claims.Scope)
	}
	if claims.Cnf != nil {
		g.JKT, g.X5TS256 = claims.Cnf.JKT, claims.Cnf.X5TS256
	}
	return g, nil
}

// jwtClockSkew is how far ahead of our clock a JWT's nbf or iat may be
// (another node's clock).
const jwtClockSkew = 10 * time.Second

// maxResourceTokenLen bounds a token verified locally.
const maxResourceTokenLen = 16 << 10

// CheckSenderConstraint enforces an access token's binding at a protected
// resource: a DPoP-bound token must come with the DPoP scheme and a proof of
// its key over target and this token (RFC 9449 §7), a certificate-bound one
// with its certificate (RFC 8705 §3: the TLS connection's, or the header a
// trusted proxy sets); the DPoP scheme with a token that is not DPoP-bound
// is refused too. A refusal is a *authz.BearerError (DPoP challenge when
// DPoP is in play, with a fresh nonce for use_dpop_nonce).
func (p *Tokens) CheckSenderConstraint(ctx context.Context, r *http.Request, target ResourceTarget, scheme, token string, g *AccessGrant) error {
	isDPoP := strings.EqualFold(scheme, "DPoP")
	refuse := func(desc string) *authz.BearerError {
		return &authz.BearerError{Status: http.StatusUnauthorized, Code: dpop.CodeInvalidToken, Description: desc, DPoP: g.JKT != "" || isDPoP, Algs: p.dpop.Algorithms()}
	}
	switch {
	case g.JKT == "" && isDPoP:
		return refuse("The access token is not DPoP-bound: use the Bearer scheme.")
	case g.JKT != "" && !isDPoP:
		return refuse("The access token is DPoP-bound: use the DPoP scheme with a proof.")
	case g.JKT != "":
		proof, err := dpop.ProofFromHeader(r.Header)
		if err == nil {
			req := p.clientProofPolicy(dpop.Request{Proof: proof, Method: target.Method, URI: target.URI}, g.client)
			req.AccessToken = token
			req.BoundJKT = g.JKT
			_, err = p.dpop.Verify(ctx, req)
		}
		if err != nil {
			var de *dpop.Error
			if !errors.As(err, &de) || de.ServerFault() {
				return fosite.ErrServerError.WithWrap(err)
			}
			be := refuse(de.Description)
			be.Code = de.ResourceCode()
			be.Nonce = de.Nonce
			return be
		}
	}
	if g.X5TS256 != "" {
		cert, err := p.clientCertificate(ctx, r)
		if err != nil || cert == nil {
			return refuse("The access token is bound to a TLS client certificate: present it.")
		}
		if mtls.VerifyBoundCertificate(cert, g.X5TS256) != nil {
			return refuse("The access token is bound to another TLS client certificate.")
		}
	}
	return nil
}
