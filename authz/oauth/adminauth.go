package oauth

import (
	"context"
	"errors"
	"slices"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// AuthenticateAdmin checks a bearer token presented to the admin API: an
// active access token issued by this server through the client credentials
// grant (no user: a token obtained through a user-facing grant is refused
// even if it carries the scope, so that registrations made before
// checkAdminScope cannot lend a user the admin API) with exactly the
// strongroom:admin scope, whose client is still enabled and still registered
// for client_credentials with that scope (a scope or grant withdrawn by an
// operator ends its tokens' admin access at once). It returns the client
// id, also with the refusals (a valid token of the wrong kind names its
// client in the audit trail). A database outage is returned as is
// (storage.ErrUnavailable).
func (p *Tokens) AuthenticateAdmin(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", authz.ErrAdminTokenInvalid
	}
	tu, ar, err := p.provider.IntrospectToken(ctx, token, fosite.AccessToken, authz.NewSession())
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return "", err
		}
		return "", authz.ErrAdminTokenInvalid
	}
	if tu != fosite.AccessToken {
		return "", authz.ErrAdminTokenInvalid
	}
	clientID := ar.GetClient().GetID()
	if sub := tokenUser(ar.GetSession()); sub != "" {
		return clientID, &authz.AdminUserTokenError{Subject: sub}
	}
	// Exact comparison: fosite's Arguments.Has ignores case, and a client
	// registered with "STRONGROOM:ADMIN" must not pass for an operator.
	if !slices.Contains(ar.GetGrantedScopes(), authz.AdminScope) {
		return clientID, authz.ErrAdminScope
	}
	c := ar.GetClient() // the current registration (authz.ClientCache), not the one at issue
	if c.IsPublic() || !slices.Contains(c.GetScopes(), authz.AdminScope) || !slices.Contains(c.GetGrantTypes(), authz.GrantClientCredentials) {
		return clientID, authz.ErrAdminClientWithdrawn
	}
	return clientID, nil
}

// tokenUser returns the user a token was issued for, "" for a client
// credentials token. Every user-facing grant sets the subject (and the
// username and ID token subject) from the login; the client credentials
// grant sets none of them.
func tokenUser(s fosite.Session) string {
	if s == nil {
		return ""
	}
	if sub := s.GetSubject(); sub != "" {
		return sub
	}
	if u := s.GetUsername(); u != "" {
		return "username:" + u
	}
	if ss, ok := s.(*authz.Session); ok && ss.DefaultSession != nil && ss.Claims != nil && ss.Claims.Subject != "" {
		return ss.Claims.Subject
	}
	return ""
}
