package authz

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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

// Introspect answers RFC 7662. The caller must authenticate as a confidential
// client (any method the token endpoint accepts). A token that is unknown,
// expired, revoked or belongs to a disabled client is active:false; a database
// outage is 503, never active:false.
func (p *Provider) Introspect(ctx context.Context, w http.ResponseWriter, r *http.Request) (clientID string) {
	client, err := p.OAuth2.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		WriteJSONError(w, err)
		return ""
	}
	if client.IsPublic() {
		WriteJSONError(w, fosite.ErrInvalidClient.WithHint("Public clients cannot introspect tokens."))
		return client.GetID()
	}
	token := r.PostForm.Get("token")
	if token == "" {
		WriteJSONError(w, fosite.ErrInvalidRequest.WithHint("The token parameter is missing."))
		return client.GetID()
	}
	tu, ar, err := p.OAuth2.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), NewSession())
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			WriteJSONError(w, err)
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
	if aud := ar.GetGrantedAudience(); len(aud) > 0 {
		resp["aud"] = aud
	}
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
			WriteJSONError(w, err)
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
		WriteJSONError(w, fosite.ErrServerError.WithWrap(err))
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

// DenyFlow consumes the flow and tells the client the user refused (access_denied).
func (p *Provider) DenyFlow(ctx context.Context, w http.ResponseWriter, r *http.Request, challenge string) error {
	f, err := p.Store.ConsumeAuthFlow(ctx, hashID(challenge))
	if errors.Is(err, storage.ErrNotFound) {
		return ErrFlowNotFound
	}
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
