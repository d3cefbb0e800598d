package authz

import "slices"

// Grant types a client may be registered for (RFC 7591 grant_types values
// Strongroom supports). The admin services validate registrations against
// them; client authentication checks them at use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// dedupe returns values without repeats, in their first order.
func dedupe(values []string) []string {
	var out []string
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
