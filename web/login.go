package web

import (
	"errors"
	"net/http"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// Login serves GET and POST /login.
func (pg *Pages) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		pg.loginPost(w, r)
		return
	}
	challenge := r.URL.Query().Get("login_challenge")
	if len(r.URL.Query()["login_challenge"]) > 1 {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "The login_challenge parameter was sent more than once.", "")
		return
	}
	pg.showLogin(w, r, challenge, "", "", http.StatusOK)
}

func (pg *Pages) showLogin(w http.ResponseWriter, r *http.Request, challenge, username, msg string, status int) {
	f, client, err := pg.p.Flow(r.Context(), challenge)
	if err != nil {
		pg.flowError(w, err)
		return
	}
	if f.Subject != "" {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "This sign-in was already completed.", "")
		return
	}
	csrf, err := pg.csrfCookie(w, r)
	if err != nil {
		pg.renderError(w, http.StatusInternalServerError, "server_error", "Please try again.", "")
		return
	}
	name := client.Storage().Name
	if name == "" {
		name = client.GetID()
	}
	pg.render(w, status, "login", map[string]any{
		"Title": "Sign in", "ClientName": name, "Challenge": challenge,
		"CSRF": pg.p.CSRFToken(csrf, challenge), "Username": username, "Error": msg,
	})
}

func (pg *Pages) loginPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := pg.parseForm(w, r); err != nil {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", err.Error(), "")
		return
	}
	challenge := r.PostForm.Get("login_challenge")
	if !pg.p.CheckCSRF(pg.cookie(r, "strongroom-csrf"), challenge, r.PostForm.Get("csrf_token")) {
		pg.renderError(w, http.StatusForbidden, "invalid_request", "The form expired or was tampered with. Go back to the application and start again.", "")
		return
	}
	f, _, err := pg.p.Flow(ctx, challenge)
	if err != nil {
		pg.flowError(w, err)
		return
	}
	if f.Subject != "" {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "This sign-in was already completed.", "")
		return
	}
	username := r.PostForm.Get("username")
	user, err := pg.p.Authenticate(ctx, username, r.PostForm.Get("password"))
	if errors.Is(err, authz.ErrInvalidCredentials) {
		if len(username) > 256 {
			username = ""
		}
		pg.showLogin(w, r, challenge, username, "The username or password is incorrect.", http.StatusUnauthorized)
		return
	}
	if err != nil {
		pg.internal(w, err)
		return
	}
	_, cookie, err := pg.p.CompleteLogin(ctx, f, user, []string{"pwd"})
	if err != nil {
		pg.internal(w, err)
		return
	}
	pg.setCookie(w, "strongroom-session", cookie, pg.p.Config.BrowserSessionLifespan)
	need, err := pg.p.NeedsConsent(ctx, user.ID, f.ClientID, authz.FlowScopes(f), promptConsent(f))
	if err != nil {
		pg.internal(w, err)
		return
	}
	if need {
		redirect(w, r, authz.PathConsent, "consent_challenge", challenge)
		return
	}
	if err := pg.p.FinishFlow(ctx, w, r, challenge); err != nil {
		pg.flowError(w, err)
	}
}

func (pg *Pages) flowError(w http.ResponseWriter, err error) {
	if errors.Is(err, authz.ErrFlowNotFound) {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "This sign-in link is unknown, expired or already used. Go back to the application and start again.", "")
		return
	}
	pg.internal(w, err)
}

func (pg *Pages) internal(w http.ResponseWriter, err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		pg.renderError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable. Please try again shortly.", "")
		return
	}
	pg.log.Error("page error", "err", err)
	pg.renderError(w, http.StatusInternalServerError, "server_error", "Something went wrong on our side. Please try again.", "")
}
