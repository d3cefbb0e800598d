package dpop

import (
	"errors"
	"strings"
)

// OAuth error codes of RFC 9449.
const (
	// CodeInvalidProof is the error code for a proof that fails any check
	// (RFC 9449 §5 at the token endpoint).
	CodeInvalidProof = "invalid_dpop_proof"
	// CodeUseNonce asks the client to retry with the nonce sent in the
	// DPoP-Nonce header (RFC 9449 §8 and §9).
	CodeUseNonce = "use_dpop_nonce"
	// CodeInvalidToken is the code a resource endpoint answers for a proof or
	// binding it refuses (RFC 6750 §3.1; RFC 9449 §7.1).
	CodeInvalidToken = "invalid_token"
)

// Reasons a proof is refused. An *Error wraps exactly one of them, so callers
// and tests can tell the failures apart with errors.Is without parsing text.
var (
	ErrNoProof         = errors.New("no DPoP proof")
	ErrMultipleProofs  = errors.New("more than one DPoP proof")
	ErrTooLarge        = errors.New("DPoP proof too large")
	ErrMalformed       = errors.New("DPoP proof malformed")
	ErrType            = errors.New("DPoP proof typ is not dpop+jwt")
	ErrAlgorithm       = errors.New("DPoP proof algorithm not allowed")
	ErrKey             = errors.New("DPoP proof key unusable")
	ErrPrivateKey      = errors.New("DPoP proof jwk holds private key material")
	ErrSignature       = errors.New("DPoP proof signature invalid")
	ErrMissingClaim    = errors.New("DPoP proof claim missing")
	ErrMethod          = errors.New("DPoP proof htm does not match the request method")
	ErrURI             = errors.New("DPoP proof htu does not match the request URI")
	ErrIssuedAt        = errors.New("DPoP proof iat outside the accepted window")
	ErrJTI             = errors.New("DPoP proof jti invalid")
	ErrReplay          = errors.New("DPoP proof replayed")
	ErrAccessTokenHash = errors.New("DPoP proof ath does not match the access token")
	ErrNonce           = errors.New("DPoP proof nonce missing or stale")
	ErrKeyMismatch     = errors.New("DPoP proof key is not the key the token is bound to")
	ErrReplayCache     = errors.New("DPoP replay cache unavailable")
)

// Error is a refused proof. Code is the OAuth error code for the token
// endpoint; Description is safe to send to the client (it never repeats the
// proof, a token, or any value the client chose). Nonce is set with
// CodeUseNonce: send it in a DPoP-Nonce header.
type Error struct {
	Code        string
	Description string
	Nonce       string

	reason error // one of the Err* reasons above
	cause  error // an underlying error, for logs only (may be nil)
}

// Error returns "code: description".
func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Description + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Description
}

// Unwrap exposes the reason (an Err* value) and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.reason, e.cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// ResourceCode is the error code a protected resource (userinfo, an API)
// answers in its WWW-Authenticate challenge: use_dpop_nonce for a nonce
// request, invalid_token for everything else.
func (e *Error) ResourceCode() string {
	if e.Code == CodeUseNonce {
		return CodeUseNonce
	}
	return CodeInvalidToken
}

// ServerFault reports whether the proof was refused because a dependency
// (the replay cache) failed rather than because the proof was bad; callers
// may answer 500/503 instead of 400/401.
func (e *Error) ServerFault() bool { return errors.Is(e.reason, ErrReplayCache) }

// invalid builds an invalid_dpop_proof error.
func invalid(reason error, description string) *Error {
	return &Error{Code: CodeInvalidProof, Description: description, reason: reason}
}

// invalidCause builds an invalid_dpop_proof error that keeps cause for logs.
func invalidCause(reason error, description string, cause error) *Error {
	return &Error{Code: CodeInvalidProof, Description: description, reason: reason, cause: cause}
}

// ResourceChallenge returns the value of a WWW-Authenticate header for a
// protected resource that refuses a request with err (RFC 9449 §7.1): the
// DPoP scheme, the error code, its description and the accepted algorithms.
// A nil err gives the bare challenge sent when no credentials came.
func ResourceChallenge(err error, algs []string) string {
	var b strings.Builder
	b.WriteString("DPoP")
	sep := " "
	add := func(name, value string) {
		b.WriteString(sep + name + `="` + quoteSafe(value) + `"`)
		sep = ", "
	}
	var de *Error
	switch {
	case errors.As(err, &de):
		add("error", de.ResourceCode())
		add("error_description", de.Description)
	case err != nil:
		add("error", CodeInvalidToken)
	}
	if len(algs) > 0 {
		add("algs", strings.Join(algs, " "))
	}
	return b.String()
}

// quoteSafe keeps a quoted-string value to printable ASCII without quotes or
// backslashes (RFC 6750 §3 restricts error_description the same way).
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
