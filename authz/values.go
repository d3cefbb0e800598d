package authz

import "slices"

// Grant types a client may be registered for (RFC 7591 grant_types values
// Strongroom supports). authz/registration validates registrations against
// them; client authentication checks them at use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// Dedupe returns values without repeats, in first-seen order; nil for none.
// Registration lists (grant types, redirect URIs, scopes, ...) and the ids
// an operator names are deduplicated with it.
func Dedupe(values []string) []string {
	var out []string
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
