package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"
	"github.com/strongroom/strongroom/authz"
)

// AuthorizeError decides how a failed authorization request is answered.
// When its redirect URI may be used (redirectAllowed), the error goes back
// to the client with state and iss (RFC 9207) as an AuthorizeResponse;
// otherwise it is an *UnredirectableError for the caller to render as a
// page (fosite would write JSON). A server error's cause is logged.
func (p *Authorizer) AuthorizeError(ctx context.Context, ar fosite.AuthorizeRequester, err error) (*authz.AuthorizeResponse, error) {
	err = authz.MapError(authz.AuthorizeRequestError(ar, err))
	p.logServerError(ctx, err)
	rfc := fosite.ErrorToRFC6749Error(err)
	if !redirectAllowed(ar) || errors.Is(err, ErrRedirectNotRegistered) {
		return nil, authz.Unredirectable(err)
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
	values.Set("iss", p.cfg.Issuer)
	if isJARM(ar.GetResponseMode()) {
		return p.jarmAnswer(ctx, ar, values, header) // JARM §4.1: errors are signed too
	}
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		header.Set("Content-Type", "text/html;charset=UTF-8")
		return &authz.AuthorizeResponse{Header: header, FormAction: redirect.String(), FormParams: values}, nil
	case fosite.ResponseModeFragment:
		return &authz.AuthorizeResponse{Header: header, RedirectURL: redirect.String() + "#" + values.Encode()}, nil
	default:
		q := redirect.Query()
		for k, vs := range values {
			q[k] = vs
		}
		redirect.RawQuery = q.Encode()
		return &authz.AuthorizeResponse{Header: header, RedirectURL: redirect.String()}, nil
	}
}

// authorizeSuccess is fosite's WriteAuthorizeResponse as a value: the
// response's own headers, no-store, then the parameters in the query, the
// fragment or a form post, by response mode.
func authorizeSuccess(ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) (*authz.AuthorizeResponse, error) {
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
		return &authz.AuthorizeResponse{Header: header, FormAction: redir.String(), FormParams: resp.GetParameters()}, nil
	case fosite.ResponseModeQuery, fosite.ResponseModeDefault:
		q := redir.Query()
		rq := resp.GetParameters()
		for k := range rq {
			q.Set(k, rq.Get(k))
		}
		redir.RawQuery = q.Encode()
		return &authz.AuthorizeResponse{Header: header, RedirectURL: redir.String()}, nil
	case fosite.ResponseModeFragment:
		redir.Fragment = ""
		u := redir.String()
		if fr := resp.GetParameters(); len(fr) > 0 {
			u += "#" + fr.Encode()
		}
		return &authz.AuthorizeResponse{Header: header, RedirectURL: u}, nil
	default:
		return nil, fosite.ErrServerError.WithDebugf("unsupported response mode %q", rm)
	}
}
