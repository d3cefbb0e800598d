package authz

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// AuthorizeResponse is the answer to an authorization request that goes back
// through the browser, built exactly as fosite would have written it: either
// a 303 See Other to RedirectURL (the response parameters in its query or
// fragment), or, for response_mode=form_post (OAuth 2.0 Form Post Response
// Mode), an auto-submitting form posting FormParams to FormAction. Header
// holds the response headers to set first (no-store, and fosite's own).
// The HTTP layer writes it; authz never does.
type AuthorizeResponse struct {
	Header      http.Header
	RedirectURL string
	FormAction  string
	FormParams  url.Values
}

// FormPost reports whether the response is an auto-submitting form.
func (r *AuthorizeResponse) FormPost() bool { return r.FormAction != "" }

// UnredirectableError is a failed authorization request whose answer must not
// go to the client: the redirect URI is missing, invalid or not exactly a
// registered one (redirectAllowed). The browser is shown an error page with
// the OAuth error code, description and status instead; Description never
// carries debug detail.
type UnredirectableError struct {
	Status      int
	Code        string
	Description string
	cause       error
}

// Error implements error.
func (e *UnredirectableError) Error() string {
	return fmt.Sprintf("authorization error (not redirectable): %s: %s", e.Code, e.Description)
}

// Unwrap returns the OAuth error it was built from.
func (e *UnredirectableError) Unwrap() error { return e.cause }

// BearerError is a refused request at a resource endpoint of this server
// (userinfo) that authenticates with a bearer token: RFC 6750 §3.1. It is
// answered with a WWW-Authenticate: Bearer challenge naming the error;
// NoToken marks a request without any token, whose challenge names only
// the realm (§3.1: no error code then).
//
// A refused DPoP-bound token (RFC 9449 §7.1) is answered with the DPoP
// scheme instead (DPoP true), naming the accepted proof algorithms (Algs);
// Nonce, when set, goes into a DPoP-Nonce header (use_dpop_nonce).
type BearerError struct {
	Status      int
	Code        string
	Description string
	NoToken     bool
	DPoP        bool
	Algs        []string
	Nonce       string
	// Scope, when set, names the scopes the resource requires
	// (insufficient_scope: RFC 6750 §3 scope attribute).
	Scope string
}

// Error implements error.
func (e *BearerError) Error() string { return "bearer token refused: " + e.Code + ": " + e.Description }

// Challenge is the WWW-Authenticate header value of the error.
func (e *BearerError) Challenge() string {
	if e.DPoP {
		c := `DPoP error="` + e.Code + `", error_description="` + e.Description + `"`
		if e.Scope != "" {
			c += `, scope="` + e.Scope + `"`
		}
		if len(e.Algs) > 0 {
			c += `, algs="` + strings.Join(e.Algs, " ") + `"`
		}
		return c
	}
	if e.NoToken {
		return `Bearer realm="strongroom"`
	}
	c := `Bearer error="` + e.Code + `", error_description="` + e.Description + `"`
	if e.Scope != "" {
		c += `, scope="` + e.Scope + `"`
	}
	return c
}

// ErrorResponse is an OAuth error as it is answered (RFC 6749 §5.2): err
// after MapError, as fosite's RFC6749Error with its code, description and
// status. Debug detail and hints of the cause chain stay out of
// Description beyond what fosite exposes to clients.
//
// An error that is no OAuth error at all (a bug: every operation returns
// OAuth errors) is server_error, not fosite's made-up "error" code.
func ErrorResponse(err error) *fosite.RFC6749Error {
	err = MapError(err)
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) {
		err = fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return fosite.ErrorToRFC6749Error(err)
}

// ErrUnavailable is storage.ErrUnavailable: the database could not be
// reached. The HTTP layers answer it with 503 without reaching into storage.
var ErrUnavailable = storage.ErrUnavailable

// MapError rewrites errors whose fosite default is wrong for us:
//   - a storage outage becomes 503 temporarily_unavailable (fosite would say
//     invalid_client, or active:false at introspection);
//   - a replayed client assertion becomes 401 invalid_client;
//   - a malformed client authentication request (two methods, credentials in
//     the URL) stays 400 invalid_request even where fosite wrapped it as
//     invalid_client (PAR).
func MapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrUnavailable):
		return fosite.ErrTemporarilyUnavailable.WithWrap(err).WithHint("The authorization server's database is unavailable; retry later.")
	case errors.Is(err, fosite.ErrJTIKnown):
		return fosite.ErrInvalidClient.WithWrap(err).WithHint("The client_assertion 'jti' was already used.")
	case errors.Is(err, ErrClientAuthRequest):
		var rfc *fosite.RFC6749Error
		if errors.As(err, &rfc) && rfc.ErrorField == fosite.ErrInvalidRequest.ErrorField {
			return err
		}
		return BadClientAuthRequest(innermostHint(err))
	}
	return err
}

// AuthorizeRequestError corrects fosite's answer to an authorization request
// (at the authorization or the PAR endpoint) whose response_type the server
// supports but the client did not register: that is unauthorized_client
// (RFC 6749 §4.1.2.1, "not authorized to request an authorization code using
// this method"); unsupported_response_type stays for response types the
// server does not serve at all.
func AuthorizeRequestError(ar fosite.AuthorizeRequester, err error) error {
	if ar == nil || ar.GetClient() == nil || !errors.Is(err, fosite.ErrUnsupportedResponseType) {
		return err
	}
	requested := strings.Fields(ar.GetRequestForm().Get("response_type"))
	slices.Sort(requested)
	if len(requested) == 0 {
		return err
	}
	for _, rt := range ResponseTypesSupported() {
		supported := strings.Fields(rt)
		slices.Sort(supported)
		if slices.Equal(requested, supported) {
			return fosite.ErrUnauthorizedClient.WithWrap(err).WithHintf("The client is not registered for the response type %q.", rt)
		}
	}
	return err
}

// Introspection is the answer to an introspection request (RFC 7662 §2.2).
// An inactive token is {"active":false} and nothing else. Fields are in
// alphabetical order, as the JSON of a map would be.
type Introspection struct {
	Active    bool     `json:"active"`
	Aud       []string `json:"aud,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Scope     *string  `json:"scope,omitempty"` // present (maybe empty) on every active token
	Sub       string   `json:"sub,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Username  string   `json:"username,omitempty"`
	// Cnf is the confirmation of a sender-constrained access token
	// (RFC 9449 §6.2 jkt, RFC 8705 §3.2 x5t#S256).
	Cnf map[string]any `json:"cnf,omitempty"`
}

// Unredirectable is the page answer to err, an authorization error that
// must not go to the client: its OAuth code, description and status.
func Unredirectable(err error) *UnredirectableError {
	rfc := fosite.ErrorToRFC6749Error(err)
	return &UnredirectableError{Status: rfc.CodeField, Code: rfc.ErrorField, Description: rfc.GetDescription(), cause: err}
}

// ErrClientAuthRequest marks a malformed client authentication request (two
// methods at once, credentials in the URL). It travels wrapped in an
// invalid_request error so that MapError can restore that answer where
// fosite rewrites client authentication errors as invalid_client (its PAR
// endpoint does).
var ErrClientAuthRequest = errors.New("malformed client authentication request")

// BadClientAuthRequest is the invalid_request answer to a malformed client
// authentication request.
func BadClientAuthRequest(hint string) error {
	return fosite.ErrInvalidRequest.WithWrap(ErrClientAuthRequest).WithHint(hint)
}

// BasicChallenge is the WWW-Authenticate challenge of a 401 invalid_client
// (RFC 6749 §5.2; RFC 7235 §3.1 requires one on every 401).
const BasicChallenge = `Basic realm="strongroom"`

// innermostHint is the hint of the innermost OAuth error in err's chain.
func innermostHint(err error) string {
	hint := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		if rfc, ok := e.(*fosite.RFC6749Error); ok && rfc.HintField != "" {
			hint = rfc.HintField
		}
	}
	return hint
}

// ResponseTypesSupported are the response types the authorization endpoint serves.
func ResponseTypesSupported() []string { return []string{"code", "code id_token"} }
