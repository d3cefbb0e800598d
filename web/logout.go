package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/strongroom/strongroom/authz/logout"
)

// Logout serves the end_session_endpoint, GET and POST (OIDC RP-Initiated
// Logout 1.0): it validates the request (logout.Service.Plan), then either asks
// the user to confirm or ends the session and returns to the client's
// registered post_logout_redirect_uri (or shows the logged-out page).
func (pg *Pages) Logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := pg.parseForm(w, r); err != nil {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", err.Error(), "")
		return
	}
	req := logout.Request{
		IDTokenHint:           r.Form.Get("id_token_hint"),
		ClientID:              r.Form.Get("client_id"),
		PostLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		State:                 r.Form.Get("state"),
	}
	plan, err := pg.logout.Plan(ctx, req, pg.SessionCookie(r))
	if err != nil {
		pg.logoutError(w, err)
		return
	}
	if plan.Confirm {
		pg.showLogoutConfirm(w, r, plan)
		return
	}
	pg.finishLogout(w, r, plan)
}

// LogoutConfirm serves POST /logout, the answer to the confirmation page.
// The form is bound to the browser and the session it ends (CSRF); its
// parameters are validated again, as if the client had sent them.
func (pg *Pages) LogoutConfirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := pg.parseForm(w, r); err != nil {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", err.Error(), "")
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "logout" && decision != "stay" {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Choose Sign out or Stay signed in.", "")
		return
	}
	plan, err := pg.logout.Confirm(ctx, logout.Request{
		ClientID:              r.PostForm.Get("client_id"),
		PostLogoutRedirectURI: r.PostForm.Get("post_logout_redirect_uri"),
		State:                 r.PostForm.Get("state"),
	}, pg.SessionCookie(r), pg.cookie(r, "strongroom-csrf"), r.PostForm.Get("csrf_token"))
	if errors.Is(err, logout.ErrForm) {
		pg.renderError(w, http.StatusForbidden, "invalid_request", "The form expired or was tampered with. Go back to the application and sign out again.", "")
		return
	}
	if err != nil {
		pg.logoutError(w, err)
		return
	}
	if decision == "stay" {
		if u := plan.RedirectURL(); u != "" {
			headers(w)
			http.Redirect(w, r, u, http.StatusSeeOther) // #nosec G710 -- a post_logout_redirect_uri exactly as the client registered it (logout.Plan)
			return
		}
		pg.render(w, http.StatusOK, "logged_out", map[string]any{
			"Title": "Still signed in", "Heading": "You are still signed in", "Message": "You can close this window.",
		})
		return
	}
	pg.finishLogout(w, r, plan)
}

func (pg *Pages) showLogoutConfirm(w http.ResponseWriter, r *http.Request, plan *logout.Plan) {
	csrf, err := pg.csrfCookie(w, r)
	if err != nil {
		pg.internal(w, err)
		return
	}
	data := map[string]any{
		"Title": "Sign out", "ClientName": plan.ClientName(), "CSRF": pg.logout.CSRFToken(csrf, plan),
		"RedirectURI": plan.RedirectURI, "State": plan.State,
	}
	if plan.Client != nil {
		data["ClientID"] = plan.Client.GetID()
	}
	if plan.RedirectURI != "" {
		// the answer redirects there; browsers apply form-action to that redirect
		data["CSP"] = pageCSP(nil, origins(plan.RedirectURI))
	}
	pg.render(w, http.StatusOK, "logout", data)
}

// finishLogout ends the session, clears the cookie and returns the browser
// to the client or shows the logged-out page.
func (pg *Pages) finishLogout(w http.ResponseWriter, r *http.Request, plan *logout.Plan) {
	if err := pg.logout.End(r.Context(), plan); err != nil {
		pg.internal(w, err)
		return
	}
	pg.setCookie(w, "strongroom-session", "", -time.Second) // Max-Age=0: the browser drops it
	if u := plan.RedirectURL(); u != "" {
		headers(w)
		http.Redirect(w, r, u, http.StatusSeeOther) // #nosec G710 -- a post_logout_redirect_uri exactly as the client registered it (logout.Plan)
		return
	}
	pg.render(w, http.StatusOK, "logged_out", map[string]any{
		"Title": "Signed out", "Heading": "You have signed out", "Message": "You can close this window.",
	})
}

func (pg *Pages) logoutError(w http.ResponseWriter, err error) {
	var le *logout.Error
	if errors.As(err, &le) {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", le.Description, "")
		return
	}
	pg.internal(w, err)
}
