package authz

import (
	"errors"
	"fmt"
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
