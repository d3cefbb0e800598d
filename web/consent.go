package web

import (
	"net/http"
	"strings"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/rar"
)

// Consent serves GET and POST /consent.
func (pg *Pages) Consent(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		pg.consentPost(w, r)
		return
	}
	if len(r.URL.Query()["consent_challenge"]) > 1 {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "The consent_challenge parameter was sent more than once.", "")
		return
	}
	challenge := r.URL.Query().Get("consent_challenge")
	f, err := pg.flows.OpenFlow(r.Context(), challenge, pg.flowBinding(r))
	if err != nil {
		pg.flowError(w, err)
		return
	}
	if !f.LoggedIn() {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Sign in first.", "")
		return
	}
	csrf, err := pg.csrfCookie(w, r)
	if err != nil {
		pg.internal(w, err)
		return
	}
	var scopes []string
	for _, s := range f.Scopes() {
		scopes = append(scopes, scopeText(s))
	}
	// RFC 9396: each authorization detail in plain words, money in the
	// user's locale; nothing is shortened (the page wraps).
	details, err := f.AuthorizationDetails()
	if err != nil {
		pg.internal(w, err)
		return
	}
	described := rar.Describe(details, rar.Locale(r.Header.Get("Accept-Language")))
	client := f.Client
	// The client's logo, when registered on https, is shown (and allowed by
	// the CSP); the answer redirects to the client, so its redirect origins
	// are allowed form targets.
	logo := ""
	if l := client.LogoURI(); strings.HasPrefix(l, "https://") && len(origins(l)) == 1 {
		logo = l
	}
	pg.render(w, http.StatusOK, "consent", map[string]any{
		"Title": "Allow access", "ClientName": client.DisplayName(), "Scopes": scopes, "LogoURI": logo, "Details": described,
		"Challenge": challenge, "CSRF": pg.csrf.Token(csrf, challenge),
		"CSP": pageCSP(origins(logo), origins(client.GetRedirectURIs()...)),
	})
}

func (pg *Pages) consentPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := pg.checkFlowForm(w, r, "consent_challenge")
	if !ok {
		return
	}
	if !f.LoggedIn() {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Sign in first.", "")
		return
	}
	var resp *authz.AuthorizeResponse
	var err error
	switch r.PostForm.Get("decision") {
	case "allow":
		if err := pg.flows.SaveConsent(ctx, f); err != nil {
			pg.internal(w, err)
			return
		}
		resp, err = pg.flows.Finish(ctx, r, f)
	case "deny":
		resp, err = pg.flows.Deny(ctx, r, f)
	default:
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Choose Allow or Deny.", "")
		return
	}
	pg.answer(w, resp, err)
}
