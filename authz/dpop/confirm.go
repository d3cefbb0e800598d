package dpop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// Confirmation is the value of the cnf claim of a DPoP-bound token
// (RFC 9449 §6): {"jkt": "<thumbprint>"}. It goes into JWT access tokens
// and introspection responses.
type Confirmation struct {
	JKT string `json:"jkt"`
}

// NewConfirmation returns the cnf value for a token bound to jkt.
func NewConfirmation(jkt string) Confirmation { return Confirmation{JKT: jkt} }

// Claim returns the cnf value as a generic JSON object, for claim maps
// (fosite's JWT claims and session extras take map[string]any).
func (c Confirmation) Claim() map[string]any { return map[string]any{"jkt": c.JKT} }

// JKTFromClaims reads cnf.jkt from a claim map (a decoded JWT or a session's
// extra claims); ok is false when the token is not DPoP-bound.
func JKTFromClaims(claims map[string]any) (jkt string, ok bool) {
	switch cnf := claims["cnf"].(type) {
	case map[string]any:
		jkt, ok = cnf["jkt"].(string)
	case map[string]string:
		jkt, ok = cnf["jkt"]
	case Confirmation:
		jkt, ok = cnf.JKT, true
	case *Confirmation:
		if cnf != nil {
			jkt, ok = cnf.JKT, true
		}
	}
	return jkt, ok && jkt != ""
}

// CheckBinding reports, in constant time, whether a proof's key (proofJKT)
// is the key a token or code is bound to (boundJKT). On a mismatch it
// returns an *Error wrapping ErrKeyMismatch. An empty boundJKT never matches.
func CheckBinding(boundJKT, proofJKT string) error {
	if boundJKT == "" || subtle.ConstantTimeCompare([]byte(boundJKT), []byte(proofJKT)) != 1 {
		return invalid(ErrKeyMismatch, "The DPoP proof is not signed by the key the token is bound to.")
	}
	return nil
}

// ValidJKT reports whether s has the form of a JWK SHA-256 thumbprint: the
// unpadded base64url of 32 bytes. For the dpop_jkt parameter of authorize
// and PAR requests (RFC 9449 §10), checked before it is stored.
func ValidJKT(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
