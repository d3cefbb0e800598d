package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

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

// AuthorizeError decides how a failed authorization request is answered.
// When its redirect URI may be used (redirectAllowed), the error goes back
// to the client with state and iss (RFC 9207) as an AuthorizeResponse;
// otherwise it is an *UnredirectableError for the caller to render as a
// page (fosite would write JSON). A server error's cause is logged.
func (p *Provider) AuthorizeError(ctx context.Context, ar fosite.AuthorizeRequester, err error) (*AuthorizeResponse, error) {
	err = MapError(AuthorizeRequestError(ar, err))
	p.logServerError(ctx, err)
	rfc := fosite.ErrorToRFC6749Error(err)
	if !redirectAllowed(ar) || errors.Is(err, ErrRedirectNotRegistered) {
		return nil, &UnredirectableError{Status: rfc.CodeField, Code: rfc.ErrorField, Description: rfc.GetDescription(), cause: err}
	}
	header := http.Header{}
	header.Set("Cache-Control", "no-store")
	header.Set("Pragma", "no-cache")
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	values := rfc.ToValues()
	if s := ar.GetState(); s != "" {
		values.Set("state", s)
	}
	values.Set("iss", p.Config.Issuer)
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		header.Set("Content-Type", "text/html;charset=UTF-8")
		return &AuthorizeResponse{Header: header, FormAction: redirect.String(), FormParams: values}, nil
	case fosite.ResponseModeFragment:
		return &AuthorizeResponse{Header: header, RedirectURL: redirect.String() + "#" + values.Encode()}, nil
	default:
		q := redirect.Query()
		for k, vs := range values {
			q[k] = vs
		}
		redirect.RawQuery = q.Encode()
		return &AuthorizeResponse{Header: header, RedirectURL: redirect.String()}, nil
	}
}

// authorizeSuccess is fosite's WriteAuthorizeResponse as a value: the
// response's own headers, no-store, then the parameters in the query, the
// fragment or a form post, by response mode.
func authorizeSuccess(ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) (*AuthorizeResponse, error) {
	header := http.Header{}
	rh := resp.GetHeader()
	for k := range rh {
		header.Set(k, rh.Get(k))
	}
	header.Set("Cache-Control", "no-store")
	header.Set("Pragma", "no-cache")
	redir := *ar.GetRedirectURI()
	switch rm := ar.GetResponseMode(); rm {
	case fosite.ResponseModeFormPost:
		header.Add("Content-Type", "text/html;charset=UTF-8")
		return &AuthorizeResponse{Header: header, FormAction: redir.String(), FormParams: resp.GetParameters()}, nil
	case fosite.ResponseModeQuery, fosite.ResponseModeDefault:
		q := redir.Query()
		rq := resp.GetParameters()
		for k := range rq {
			q.Set(k, rq.Get(k))
		}
		redir.RawQuery = q.Encode()
		return &AuthorizeResponse{Header: header, RedirectURL: redir.String()}, nil
	case fosite.ResponseModeFragment:
		redir.Fragment = ""
		u := redir.String()
		if fr := resp.GetParameters(); len(fr) > 0 {
			u += "#" + fr.Encode()
		}
		return &AuthorizeResponse{Header: header, RedirectURL: u}, nil
	default:
		return nil, fosite.ErrServerError.WithDebugf("unsupported response mode %q", rm)
	}
}

// interaction sends the browser to one of the server's own pages (login or
// consent) with the flow's challenge.
func interaction(path, param, challenge string) *AuthorizeResponse {
	header := http.Header{}
	header.Set("Cache-Control", "no-store")
	return &AuthorizeResponse{Header: header, RedirectURL: path + "?" + param + "=" + challenge}
}

// BearerError is a refused request at a resource endpoint of this server
// (userinfo) that authenticates with a bearer token: RFC 6750 §3.1. It is
// answered with a WWW-Authenticate: Bearer challenge naming the error;
// NoToken marks a request without any token, whose challenge names only
// the realm (§3.1: no error code then).
type BearerError struct {
	Status      int
	Code        string
	Description string
	NoToken     bool
}

// Error implements error.
func (e *BearerError) Error() string { return "bearer token refused: " + e.Code + ": " + e.Description }

// Challenge is the WWW-Authenticate header value of the error.
func (e *BearerError) Challenge() string {
	if e.NoToken {
		return `Bearer realm="strongroom"`
	}
	return `Bearer error="` + e.Code + `", error_description="` + e.Description + `"`
}

// BasicChallenge is the WWW-Authenticate challenge of a 401 invalid_client
// (RFC 6749 §5.2; RFC 7235 §3.1 requires one on every 401).
const BasicChallenge = basicChallenge

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
