package authz

import (
	"slices"
)

// Authentication context classes (OIDC Core §2 acr). A client that sends
// acr_values containing ACRMFA gets a second factor whatever the user's and
// the client's policy; the ID token's acr says which class was met.
const (
	ACRPassword = "urn:strongroom:acr:pwd"
	ACRMFA      = "urn:strongroom:acr:mfa"
)

// ACRValuesSupported are the acr values discovery advertises.
func ACRValuesSupported() []string { return []string{ACRPassword, ACRMFA} }

// Authentication method references (RFC 8176) the login flow records.
const (
	AMRPassword = "pwd" // password
	AMROTP      = "otp" // TOTP code or one-time recovery code
	AMRHardware = "hwk" // WebAuthn credential (proof of possession of a key)
	AMRMFA      = "mfa" // more than one factor
)

// ACRFor returns the acr a session's methods satisfy.
func ACRFor(amr []string) string {
	if slices.Contains(amr, AMRMFA) {
		return ACRMFA
	}
	return ACRPassword
}
