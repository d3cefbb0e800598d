package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/grant"
	"github.com/strongroom/strongroom/storage"
)

// errIntrospectNotAllowed refuses a client that was not registered with the
// right to introspect (ClientSpec.Introspect). The client authenticated, so
// this is not 401 invalid_client (RFC 7662 §2.3 keeps 401 for invalid
// credentials; its "insufficient privileges" case is about bearer tokens):
// it is RFC 6749 §5.2 unauthorized_client ("the authenticated client is
// not authorized") with 403, HTTP's answer to an authenticated caller
// without the permission (RFC 9110 §15.5.4). It is decided before the token
// is looked at, so it says nothing about the token.
func errIntrospectNotAllowed() *fosite.RFC6749Error {
	return &fosite.RFC6749Error{
		ErrorField:       fosite.ErrUnauthorizedClient.ErrorField,
		DescriptionField: "This client is not allowed to introspect tokens.",
		CodeField:        http.StatusForbidden,
	}
}

// mayIntrospect reports whether the client caller may learn about a token
// (RFC 7662 §2.2, §4: the server decides which tokens a caller may see):
// its own tokens, and access tokens whose granted audience names it (a
// resource server the token was issued for). Refresh tokens are seen only
// by the client they were issued to.
func mayIntrospect(caller string, tu fosite.TokenUse, ar fosite.Requester) bool {
	if ar.GetClient().GetID() == caller {
		return true
	}
	return tu == fosite.AccessToken && slices.Contains(ar.GetGrantedAudience(), caller)
}

// introspectAllowed reports whether the client was registered with the
// right to introspect.
func introspectAllowed(c fosite.Client) bool {
	sc, ok := c.(*authz.Client)
	return ok && !sc.IsPublic() && sc.Registration().Metadata.Introspect
}

// Introspect answers RFC 7662. The caller must authenticate as a
// confidential client (any method the token endpoint accepts) registered
// with the right to introspect (403 unauthorized_client otherwise, before
// the token is read). It is answered only about the tokens it may see
// (mayIntrospect); every other token, like a token that is unknown,
// expired, revoked or belongs to a disabled client, is {"active":false},
// byte for byte (RFC 7662 §2.2: no hint whether the token exists). A
// database outage is 503, never active:false. clientID is the
// authenticated caller (for the access log), also with an error.
func (p *Tokens) Introspect(ctx context.Context, r *http.Request) (clientID string, res *authz.Introspection, err error) {
	ctx, span := p.startSpan(ctx, "oauth.Introspect")
	defer func() { endSpan(span, clientID, err) }()
	client, err := p.provider.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		return "", nil, err
	}
	if client.IsPublic() {
		return client.GetID(), nil, fosite.ErrInvalidClient.WithHint("Public clients cannot introspect tokens.")
	}
	if !introspectAllowed(client) {
		return client.GetID(), nil, errIntrospectNotAllowed()
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return client.GetID(), nil, fosite.ErrInvalidRequest.WithHint("The token parameter is missing.")
	}
	tu, ar, err := p.provider.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), authz.NewSession())
	if err != nil || !mayIntrospect(client.GetID(), tu, ar) {
		if errors.Is(err, storage.ErrUnavailable) {
			return client.GetID(), nil, err
		}
		return client.GetID(), &authz.Introspection{Active: false}, nil
	}
	scope := strings.Join(ar.GetGrantedScopes(), " ")
	res = &authz.Introspection{
		Active:   true,
		ClientID: ar.GetClient().GetID(),
		Scope:    &scope,
		Iss:      p.cfg.Issuer,
		Iat:      ar.GetRequestedAt().Unix(),
	}
	sess := ar.GetSession()
	switch tu {
	case fosite.AccessToken:
		res.TokenType = "Bearer"
		if s, ok := sess.(*authz.Session); ok {
			// RFC 9449 §6.2, RFC 8705 §3.2: a gateway enforces the binding
			res.Cnf = s.Confirmation()
			if s.JKT != "" {
				res.TokenType = "DPoP"
			}
		}
		res.Exp = sess.GetExpiresAt(fosite.AccessToken).Unix()
	case fosite.RefreshToken:
		res.TokenType = "refresh_token"
		if exp := sess.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() {
			res.Exp = exp.Unix()
		}
	}
	if s, ok := sess.(*authz.Session); ok && len(s.AuthorizationDetails) > 0 {
		res.AuthorizationDetails = json.RawMessage(s.AuthorizationDetails) // RFC 9396 §9.2
	}
	res.Sub = sess.GetSubject()
	res.Username = sess.GetUsername()
	res.Aud = grant.IssuerAudience(ar.GetGrantedAudience(), p.cfg.Issuer)
	return client.GetID(), res, nil
}

// Userinfo answers OIDC Core §5.3 for a bearer access token sent in the
// Authorization header (RFC 6750 §2.1 only: never the query string or body),
// or a DPoP-bound one with the DPoP scheme and a proof (RFC 9449 §7); the
// token is looked up through storage (LookupAccessToken) and its sender
// constraint checked against this request (CheckSenderConstraint).
// It returns the user's claims released by the token's scopes; a refused
// token is a *BearerError, a storage outage or server error an OAuth error.
func (p *Tokens) Userinfo(ctx context.Context, r *http.Request) (map[string]any, error) {
	scheme, token, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	g, err := p.LookupAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	target := ResourceTarget{Method: r.Method, URI: p.requestOrigin(r.Host) + r.URL.EscapedPath()}
	if err := p.CheckSenderConstraint(ctx, r, target, scheme, token, g); err != nil {
		return nil, err
	}
	if !slices.Contains(g.Scopes, "openid") || g.Subject == "" {
		return nil, &authz.BearerError{Status: http.StatusForbidden, Code: "insufficient_scope", Description: "The access token was not granted the openid scope."}
	}
	user, err := p.store.GetUser(ctx, g.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &authz.BearerError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "The user no longer exists."}
	}
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	claims := UserClaims(user, fosite.Arguments(g.Scopes))
	claims["sub"] = user.ID
	return claims, nil
}
