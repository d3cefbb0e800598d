package authz

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// WriteJSONError writes an OAuth error response (RFC 6749 §5.2) as JSON with
// the error's status; storage outages become 503 temporarily_unavailable.
// Descriptions never carry debug detail or a stack.
func WriteJSONError(w http.ResponseWriter, err error) {
	rfc := fosite.ErrorToRFC6749Error(MapError(err))
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if rfc.CodeField == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", basicChallenge)
	}
	w.WriteHeader(rfc.CodeField)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": rfc.ErrorField, "error_description": rfc.GetDescription()})
}

// errIntrospectNotAllowed refuses a client that was not registered with the
// right to introspect (ClientSpec.Introspect). The client authenticated, so
// this is not 401 invalid_client (RFC 7662 §2.3 keeps 401 for invalid
// credentials; its "insufficient privileges" case is about bearer tokens):
// it is RFC 6749 §5.2 unauthorized_client ("the authenticated client is
// not authorized") with 403, HTTP's answer to an authenticated caller
// without the permission (RFC 9110 §15.5.4). It is decided before the token
// is looked at, so it says nothing about the token.
func errIntrospectNotAllowed() *fosite.RFC6749Error {
	return &fosite.RFC6749Error{
		ErrorField:       fosite.ErrUnauthorizedClient.ErrorField,
		DescriptionField: "This client is not allowed to introspect tokens.",
		CodeField:        http.StatusForbidden,
	}
}

// mayIntrospect reports whether the client caller may learn about a token
// (RFC 7662 §2.2, §4: the server decides which tokens a caller may see):
// its own tokens, and access tokens whose granted audience names it (a
// resource server the token was issued for). Refresh tokens are seen only
// by the client they were issued to.
func mayIntrospect(caller string, tu fosite.TokenUse, ar fosite.Requester) bool {
	if ar.GetClient().GetID() == caller {
		return true
	}
	return tu == fosite.AccessToken && slices.Contains(ar.GetGrantedAudience(), caller)
}

// introspectAllowed reports whether the client was registered with the
// right to introspect.
func introspectAllowed(c fosite.Client) bool {
	sc, ok := c.(*Client)
	return ok && !sc.IsPublic() && sc.Storage().Metadata.Introspect
}

// Introspect answers RFC 7662. The caller must authenticate as a
// confidential client (any method the token endpoint accepts) registered
// with the right to introspect (403 unauthorized_client otherwise, before
// the token is read). It is answered only about the tokens it may see
// (mayIntrospect); every other token, like a token that is unknown,
// expired, revoked or belongs to a disabled client, is {"active":false},
// byte for byte (RFC 7662 §2.2: no hint whether the token exists). A
// database outage is 503, never active:false.
func (p *Provider) Introspect(ctx context.Context, w http.ResponseWriter, r *http.Request) (clientID string) {
	client, err := p.OAuth2.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		p.WriteJSONError(ctx, w, err)
		return ""
	}
	if client.IsPublic() {
		p.WriteJSONError(ctx, w, fosite.ErrInvalidClient.WithHint("Public clients cannot introspect tokens."))
		return client.GetID()
	}
	if !introspectAllowed(client) {
		WriteJSONError(w, errIntrospectNotAllowed())
		return client.GetID()
	}
	token := r.PostForm.Get("token")
	if token == "" {
		p.WriteJSONError(ctx, w, fosite.ErrInvalidRequest.WithHint("The token parameter is missing."))
		return client.GetID()
	}
	tu, ar, err := p.OAuth2.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), NewSession())
	if err != nil || !mayIntrospect(client.GetID(), tu, ar) {
		if errors.Is(err, storage.ErrUnavailable) {
			p.WriteJSONError(ctx, w, err)
			return client.GetID()
		}
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return client.GetID()
	}
	resp := map[string]any{
		"active":    true,
		"client_id": ar.GetClient().GetID(),
		"scope":     strings.Join(ar.GetGrantedScopes(), " "),
		"iss":       p.Config.Issuer,
		"iat":       ar.GetRequestedAt().Unix(),
	}
	sess := ar.GetSession()
	switch tu {
	case fosite.AccessToken:
		resp["token_type"] = "Bearer"
		resp["exp"] = sess.GetExpiresAt(fosite.AccessToken).Unix()
	case fosite.RefreshToken:
		resp["token_type"] = "refresh_token"
		if exp := sess.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() {
			resp["exp"] = exp.Unix()
		}
	}
	if sub := sess.GetSubject(); sub != "" {
		resp["sub"] = sub
	}
	if u := sess.GetUsername(); u != "" {
		resp["username"] = u
	}
	resp["aud"] = issuerAudience(ar.GetGrantedAudience(), p.Config.Issuer)
	writeJSON(w, http.StatusOK, resp)
	return client.GetID()
}

// Userinfo answers OIDC Core §5.3 for a bearer access token sent in the
// Authorization header (RFC 6750 §2.1 only: never the query string or body).
func (p *Provider) Userinfo(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	bearerErr := func(status int, code, desc string) {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+desc+`"`)
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.URL.Query().Has("access_token") || r.PostForm.Has("access_token") {
		bearerErr(http.StatusBadRequest, "invalid_request", "Send the access token in the Authorization header only.")
		return
	}
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if auth == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="strongroom"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Missing bearer token."})
		return
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		bearerErr(http.StatusBadRequest, "invalid_request", "The Authorization header must use the Bearer scheme.")
		return
	}
	tu, ar, err := p.OAuth2.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil || tu != fosite.AccessToken {
		if errors.Is(err, storage.ErrUnavailable) {
			p.WriteJSONError(ctx, w, err)
			return
		}
		bearerErr(http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
		return
	}
	if !ar.GetGrantedScopes().Has("openid") || ar.GetSession().GetSubject() == "" {
		bearerErr(http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	user, err := p.Store.GetUser(ctx, ar.GetSession().GetSubject())
	if errors.Is(err, storage.ErrNotFound) {
		bearerErr(http.StatusUnauthorized, "invalid_token", "The user no longer exists.")
		return
	}
	if err != nil {
		p.WriteJSONError(ctx, w, fosite.ErrServerError.WithWrap(err))
		return
	}
	claims := UserClaims(user, ar.GetGrantedScopes())
	claims["sub"] = user.ID
	writeJSON(w, http.StatusOK, claims)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DenyFlow consumes the flow and tells the client the user refused
// (access_denied). Only the browser that started the flow (binding) can.
func (p *Provider) DenyFlow(ctx context.Context, w http.ResponseWriter, r *http.Request, challenge, binding string) error {
	f, err := p.consumeFlow(ctx, challenge, binding)
	if err != nil {
		return err
	}
	form, err := urlParse(f.Form)
	if err != nil {
		return err
	}
	ar, err := p.OAuth2.NewAuthorizeRequest(ctx, syntheticAuthorizeRequest(r, form))
	if err != nil {
		p.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	p.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
	return nil
}
