package authz

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// AdminScope is the scope an access token needs for the admin API. Only a
// client registered with it can be granted it (exact scope matching).
const AdminScope = "strongroom:admin"

// Errors of AuthenticateAdmin: the admin API answers the first with 401 and
// the second with 403 (RFC 6750 §3.1 invalid_token / insufficient_scope).
var (
	ErrAdminTokenInvalid = errors.New("the access token is invalid, expired or revoked")
	ErrAdminScope        = errors.New("the access token was not granted the " + AdminScope + " scope")
)

// AuthenticateAdmin checks a bearer token presented to the admin API: an
// active access token issued by this server (client credentials grant) with
// the strongroom:admin scope, whose client is still enabled. It returns the
// client id, also with ErrAdminScope (a valid token of the wrong scope
// names its client). A database outage is returned as is (storage.ErrUnavailable).
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
	if !ar.GetGrantedScopes().Has(AdminScope) {
		return ar.GetClient().GetID(), ErrAdminScope // the id names the refused caller in the audit trail
	}
	return ar.GetClient().GetID(), nil
}
