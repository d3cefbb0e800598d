package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/strongroom/strongroom/api/render"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
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
	f, err := pg.flows.OpenFlow(r.Context(), challenge, pg.flowBinding(r))
	if err != nil {
		pg.flowError(w, err)
		return
	}
	if f.LoggedIn() {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "This sign-in was already completed.", "")
		return
	}
	client := f.Client
	csrf, err := pg.csrfCookie(w, r)
	if err != nil {
		pg.renderError(w, http.StatusInternalServerError, "server_error", "Please try again.", "")
		return
	}
	pg.render(w, status, "login", map[string]any{
		"Title": "Sign in", "ClientName": client.DisplayName(), "Challenge": challenge,
		"CSRF": pg.csrf.Token(csrf, challenge), "Username": username, "Error": msg,
		"CSP": flowCSP(client.GetRedirectURIs(), false),
	})
}

func (pg *Pages) loginPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, ok := pg.checkFlowForm(w, r, "login_challenge")
	if !ok {
		return
	}
	if f.LoggedIn() {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "This sign-in was already completed.", "")
		return
	}
	challenge := r.PostForm.Get("login_challenge")
	username := r.PostForm.Get("username")
	res, err := pg.flows.LoginPassword(ctx, f, username, r.PostForm.Get("password"), pg.loginMeta(r))
	if len(username) > 256 {
		username = ""
	}
	switch {
	case errors.Is(err, password.ErrInvalidCredentials):
		pg.showLogin(w, r, challenge, username, "The username or password is incorrect.", http.StatusUnauthorized)
		return
	case errors.Is(err, throttle.ErrThrottled):
		setRetryAfter(w, err)
		pg.showLogin(w, r, challenge, username, throttleMessage(err), http.StatusTooManyRequests)
		return
	case errors.Is(err, password.ErrBusy):
		// The server, not this client, is short of capacity: 503, not 429.
		setRetryAfter(w, err)
		pg.showLogin(w, r, challenge, username, "The service is busy. Wait a moment, then try again.", http.StatusServiceUnavailable)
		return
	case err != nil:
		pg.internal(w, err)
		return
	}
	pg.advance(w, r, f, challenge, res)
}

// advance is the browser flow's one dispatcher: after a step (res is a
// login step's outcome, nil when the login is done) the domain decides
// the next step (login.Service.Advance) and the page renders it: the
// second-factor or enrolment page, the recovery codes, consent, or the
// answer to the client. A completed login's session cookie is set first,
// whatever comes next.
func (pg *Pages) advance(w http.ResponseWriter, r *http.Request, f *login.Flow, challenge string, res *login.LoginResult) {
	next, err := pg.flows.Advance(r.Context(), r, f, res)
	if next != nil && next.SessionCookie != "" {
		pg.setCookie(w, "strongroom-session", next.SessionCookie, pg.opts.SessionLifespan)
	}
	if err != nil {
		pg.flowError(w, err)
		return
	}
	switch next.Step {
	case login.StepSecondFactor:
		redirect(w, r, PathSecondFactor, "login_challenge", challenge)
	case login.StepEnrol:
		redirect(w, r, PathEnrol, "login_challenge", challenge)
	case login.StepRecoveryCodes:
		pg.showRecoveryCodes(w, r, f, challenge, next.RecoveryCodes)
	case login.StepAskConsent:
		redirect(w, r, PathConsent, "consent_challenge", challenge)
	case login.StepAnswer:
		render.AuthorizeResponse(w, next.Response)
	default:
		pg.internal(w, fmt.Errorf("unknown flow step %d", next.Step))
	}
}

// answer writes a flow's final answer: the authorization response for the
// client, or the error page.
func (pg *Pages) answer(w http.ResponseWriter, resp *authz.AuthorizeResponse, err error) {
	if err != nil {
		pg.flowError(w, err)
		return
	}
	render.AuthorizeResponse(w, resp)
}

// checkFlowForm parses a flow's form post (once: every step reads
// r.PostForm afterwards), checks its CSRF token against the challenge in
// field and opens the flow (one read). On failure it has answered.
func (pg *Pages) checkFlowForm(w http.ResponseWriter, r *http.Request, field string) (*login.Flow, bool) {
	if err := pg.parseForm(w, r); err != nil {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", err.Error(), "")
		return nil, false
	}
	challenge := r.PostForm.Get(field)
	if !pg.csrf.Check(pg.cookie(r, "strongroom-csrf"), challenge, r.PostForm.Get("csrf_token")) {
		pg.renderError(w, http.StatusForbidden, "invalid_request", "The form expired or was tampered with. Go back to the application and start again.", "")
		return nil, false
	}
	f, err := pg.flows.OpenFlow(r.Context(), challenge, pg.flowBinding(r))
	if err != nil {
		pg.flowError(w, err)
		return nil, false
	}
	return f, true
}

// loginMeta is the attempt's source for throttling and audit: the peer
// address, or the client's address from X-Forwarded-For when the peer is a
// trusted proxy (Options.TrustedProxies, see clientAddr).
func (pg *Pages) loginMeta(r *http.Request) login.LoginMeta {
	return login.LoginMeta{IP: clientAddr(r, pg.opts.TrustedProxies), UserAgent: r.UserAgent()}
}

func throttleMessage(err error) string {
	var te *throttle.Error
	if errors.As(err, &te) && te.Locked {
		return fmt.Sprintf("Too many failed attempts: sign-in is locked for %s. Try again later or contact support.", humanDuration(te.RetryAfter))
	}
	wait := time.Second
	if te != nil {
		wait = max(te.RetryAfter, time.Second)
	}
	return fmt.Sprintf("Too many failed attempts. Wait %s, then try again.", humanDuration(wait))
}

// setRetryAfter sets Retry-After (whole seconds, at least 1) from a
// *ThrottleError or *BusyError in err.
func setRetryAfter(w http.ResponseWriter, err error) {
	var wait time.Duration
	var te *throttle.Error
	var be *password.BusyError
	switch {
	case errors.As(err, &te):
		wait = te.RetryAfter
	case errors.As(err, &be):
		wait = be.RetryAfter
	default:
		return
	}
	w.Header().Set("Retry-After", strconv.FormatInt(max(int64((wait+time.Second-1)/time.Second), 1), 10))
}

func humanDuration(d time.Duration) string {
	if d >= time.Minute {
		m := int((d + time.Minute - 1) / time.Minute)
		if m == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", m)
	}
	s := int((d + time.Second - 1) / time.Second)
	if s == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", s)
}

func (pg *Pages) flowError(w http.ResponseWriter, err error) {
	if errors.Is(err, login.ErrFlowNotFound) {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "This sign-in link is unknown, expired or already used. Go back to the application and start again.", "")
		return
	}
	if errors.Is(err, login.ErrFlowOtherBrowser) {
		pg.renderError(w, http.StatusForbidden, "invalid_request", "This sign-in was started in another browser. Sign-in links only work in the browser that opened them: go back to the application and start again here.", "")
		return
	}
	var page *authz.UnredirectableError
	if errors.As(err, &page) {
		// the client's redirect URI cannot be trusted with the answer
		pg.renderError(w, page.Status, page.Code, page.Description, "")
		return
	}
	pg.internal(w, err)
}

func (pg *Pages) internal(w http.ResponseWriter, err error) {
	if errors.Is(err, authz.ErrUnavailable) {
		pg.renderError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable. Please try again shortly.", "")
		return
	}
	pg.log.Error("page error", "err", err)
	pg.renderError(w, http.StatusInternalServerError, "server_error", "Something went wrong on our side. Please try again.", "")
}
