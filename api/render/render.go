// Package render is the one place where the domain's answers become HTTP
// responses: OAuth errors as JSON (RFC 6749 §5.2) with their status and
// challenge, JSON results, and authorization responses as redirects or
// auto-submitting forms. authz returns values and never writes HTTP; api
// and web write them through here. Nothing here decides policy: a status,
// a code or a redirect target always comes from authz.
package render

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/api/httpmw"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
)

// Error writes err as an OAuth error response (RFC 6749 §5.2): JSON with
// the error code and its description, the error's status, no-store. Storage
// outages become 503 temporarily_unavailable (authz.MapError); a 401 carries
// the Basic challenge (RFC 7235 §3.1), a refused bearer token its Bearer
// challenge (RFC 6750 §3). Descriptions never carry debug detail or a stack;
// a 5xx is logged with its cause (never sent) and the request id
// (authz.LogServerError). A use_dpop_nonce error carries its nonce in a
// DPoP-Nonce header.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var be *authz.BearerError
	if errors.As(err, &be) {
		if be.Nonce != "" {
			w.Header().Set(dpop.NonceHeaderName, be.Nonce)
		}
		w.Header().Set("WWW-Authenticate", be.Challenge())
		httpmw.AddLogAttrs(r.Context(), slog.String("oauth_error", be.Code))
		JSON(w, be.Status, oauthError{Error: be.Code, Description: be.Description})
		return
	}
	var de *dpop.Error
	if errors.As(err, &de) && de.Nonce != "" {
		w.Header().Set(dpop.NonceHeaderName, de.Nonce) // use_dpop_nonce (RFC 9449 §8)
	}
	rfc := authz.ErrorResponse(err)
	authz.LogServerError(r.Context(), log, rfc)
	if rfc.CodeField == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", authz.BasicChallenge)
	}
	httpmw.AddLogAttrs(r.Context(), slog.String("oauth_error", rfc.ErrorField))
	JSON(w, rfc.CodeField, oauthError{Error: rfc.ErrorField, Description: rfc.GetDescription()})
}

// oauthError is the body of an OAuth error response.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// JSON writes v as a JSON response that no cache may keep (RFC 6749 §5.1:
// Cache-Control no-store, Pragma no-cache).
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// JWT writes a signed JWT as the whole response body with its media type
// (e.g. application/token-introspection+jwt, RFC 9701 §4), uncached.
func JWT(w http.ResponseWriter, status int, contentType, token string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(token))
}

// AuthorizeResponse writes an authorization response as authz built it: its
// headers, then a 303 See Other to its redirect URL or, for
// response_mode=form_post (and form_post.jwt, whose one parameter is the
// JARM "response"), fosite's auto-submitting form.
func AuthorizeResponse(w http.ResponseWriter, resp *authz.AuthorizeResponse) {
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	if resp.FormPost() {
		fosite.WriteAuthorizeFormPostResponse(resp.FormAction, resp.FormParams, fosite.DefaultFormPostTemplate, w)
		return
	}
	w.Header().Set("Location", resp.RedirectURL)
	w.WriteHeader(http.StatusSeeOther)
}
