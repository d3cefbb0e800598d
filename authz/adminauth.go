package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// AdminScope is the scope an access token needs for the admin API. Only a
// confidential client registered with it and with no grant type but
// client_credentials can be granted it (checkAdminScope; exact scope
// matching).
const AdminScope = "strongroom:admin"

// Errors of AuthenticateAdmin: the admin API answers the first with 401 and
// the others with 403 (RFC 6750 §3.1 invalid_token / insufficient_scope).
var (
	ErrAdminTokenInvalid = errors.New("the access token is invalid, expired or revoked")
	ErrAdminScope        = errors.New("the access token was not granted the " + AdminScope + " scope")
	// ErrAdminUserToken: the token was issued for a user (authorization
	// code or refresh grant). The admin API acts for operator clients only,
	// whatever scope such a token carries.
	ErrAdminUserToken = errors.New("the admin API accepts only access tokens from the client credentials grant; this token was issued for a user")
	// ErrAdminClientWithdrawn: the token carries the scope, but its client
	// is no longer registered for it (scope or client_credentials grant
	// withdrawn since the token was issued). It matches ErrAdminScope.
	ErrAdminClientWithdrawn = fmt.Errorf("%w: its client is no longer registered for it", ErrAdminScope)
)

// AdminUserTokenError refuses a token issued for a user; it names the user
// for the audit trail and matches ErrAdminUserToken.
type AdminUserTokenError struct {
	Subject string
}

func (e *AdminUserTokenError) Error() string { return ErrAdminUserToken.Error() }

// Unwrap makes errors.Is(err, ErrAdminUserToken) hold.
func (e *AdminUserTokenError) Unwrap() error { return ErrAdminUserToken }

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
func (p *Provider) AuthenticateAdmin(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", ErrAdminTokenInvalid
	}
	tu, ar, err := p.OAuth2.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return "", err
		}
		return "", ErrAdminTokenInvalid
	}
	if tu != fosite.AccessToken {
		return "", ErrAdminTokenInvalid
	}
	clientID := ar.GetClient().GetID()
	if sub := tokenUser(ar.GetSession()); sub != "" {
		return clientID, &AdminUserTokenError{Subject: sub}
	}
	// Exact comparison: fosite's Arguments.Has ignores case, and a client
	// registered with "STRONGROOM:ADMIN" must not pass for an operator.
	if !slices.Contains(ar.GetGrantedScopes(), AdminScope) {
		return clientID, ErrAdminScope
	}
	c := ar.GetClient() // the current registration (ClientCache), not the one at issue
	if c.IsPublic() || !slices.Contains(c.GetScopes(), AdminScope) || !slices.Contains(c.GetGrantTypes(), GrantClientCredentials) {
		return clientID, ErrAdminClientWithdrawn
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
	if ss, ok := s.(*Session); ok && ss.DefaultSession != nil && ss.Claims != nil && ss.Claims.Subject != "" {
		return ss.Claims.Subject
	}
	return ""
}
