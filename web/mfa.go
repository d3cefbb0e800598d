package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/authz/mfa"
	"github.com/strongroom/strongroom/authz/throttle"
)

// SecondFactor serves GET and POST /login/mfa.
func (pg *Pages) SecondFactor(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		pg.secondFactorPost(w, r)
		return
	}
	challenge, ok := pg.queryChallenge(w, r)
	if ok {
		pg.showSecondFactor(w, r, challenge, "", "", http.StatusOK)
	}
}

func (pg *Pages) showSecondFactor(w http.ResponseWriter, r *http.Request, challenge, errField, msg string, status int) {
	ctx := r.Context()
	client, pl, csrf, ok := pg.pendingPage(w, r, challenge)
	if !ok {
		return
	}
	if !pl.Factors.Any() {
		redirect(w, r, PathEnrol, "login_challenge", challenge)
		return
	}
	options, err := pg.flows.BeginPasskeyLogin(ctx, pl)
	if err != nil {
		pg.internal(w, err)
		return
	}
	pg.render(w, status, "mfa", map[string]any{
		"Title": "Verify it's you", "ClientName": client.DisplayName(), "Challenge": challenge, "CSRF": csrf,
		"TOTP": pl.Factors.TOTP, "Passkey": options != nil, "PasskeyOptions": string(options),
		"RecoveryCodes": pl.Factors.RecoveryCodes, "ErrorField": errField, "Error": msg,
		"Script": options != nil, "CSP": flowCSP(client.GetRedirectURIs(), options != nil),
	})
}

func (pg *Pages) secondFactorPost(w http.ResponseWriter, r *http.Request) {
	pg.factorPost(w, r, pg.flows.VerifySecondFactor, pg.showSecondFactor)
}

// factorPost handles a posted second factor (a code or a WebAuthn response):
// step verifies or enrols it; a factor error re-renders the page with show.
func (pg *Pages) factorPost(w http.ResponseWriter, r *http.Request,
	step func(context.Context, *login.Flow, string, string, login.LoginMeta) (*login.LoginResult, error),
	show func(w http.ResponseWriter, r *http.Request, challenge, field, msg string, status int)) {
	f, ok := pg.checkFlowForm(w, r, "login_challenge")
	if !ok {
		return
	}
	challenge := r.PostForm.Get("login_challenge")
	method := r.PostForm.Get("method")
	value := r.PostForm.Get("code")
	if method == login.MethodWebAuthn {
		value = r.PostForm.Get("response")
	}
	res, err := step(r.Context(), f, method, value, pg.loginMeta(r))
	if err != nil {
		if field, msg, status, ok := factorError(method, err); ok {
			setRetryAfter(w, err)
			show(w, r, challenge, field, msg, status)
			return
		}
		pg.stepError(w, err)
		return
	}
	pg.advance(w, r, f, challenge, res)
}

// Enrol serves GET and POST /login/enroll.
func (pg *Pages) Enrol(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		pg.enrolPost(w, r)
		return
	}
	challenge, ok := pg.queryChallenge(w, r)
	if ok {
		pg.showEnrol(w, r, challenge, "", "", http.StatusOK)
	}
}

func (pg *Pages) showEnrol(w http.ResponseWriter, r *http.Request, challenge, errField, msg string, status int) {
	ctx := r.Context()
	client, pl, csrf, ok := pg.pendingPage(w, r, challenge)
	if !ok {
		return
	}
	if pl.Factors.Any() {
		redirect(w, r, PathSecondFactor, "login_challenge", challenge)
		return
	}
	offer, err := pg.flows.BeginTOTPEnrolment(ctx, pl)
	if err != nil {
		pg.stepError(w, err)
		return
	}
	options, err := pg.flows.BeginPasskeyEnrolment(ctx, pl)
	if err != nil {
		pg.stepError(w, err)
		return
	}
	pg.render(w, status, "enroll", map[string]any{
		"Title": "Set up two-step verification", "ClientName": client.DisplayName(), "Challenge": challenge, "CSRF": csrf,
		"QR": template.URL(offer.QRDataURL), "Secret": groupSecret(offer.Secret), "PasskeyOptions": string(options), // #nosec G203 -- a data: URL of a PNG the server rendered itself
		"ErrorField": errField, "Error": msg, "CSP": flowCSP(client.GetRedirectURIs(), options != nil),
	})
}

func (pg *Pages) enrolPost(w http.ResponseWriter, r *http.Request) {
	pg.factorPost(w, r, pg.flows.Enrol, pg.showEnrol)
}

func (pg *Pages) showRecoveryCodes(w http.ResponseWriter, r *http.Request, f *login.Flow, challenge string, codes []string) {
	client := f.Client
	csrf, err := pg.csrfCookie(w, r)
	if err != nil {
		pg.internal(w, err)
		return
	}
	pg.render(w, http.StatusOK, "recovery", map[string]any{
		"Title": "Save your recovery codes", "ClientName": client.DisplayName(), "Codes": codes,
		"Challenge": challenge, "CSRF": pg.csrf.Token(csrf, challenge), "CSP": flowCSP(client.GetRedirectURIs(), false),
	})
}

// Continue serves POST /login/continue: after the recovery codes were shown.
func (pg *Pages) Continue(w http.ResponseWriter, r *http.Request) {
	f, ok := pg.checkFlowForm(w, r, "login_challenge")
	if !ok {
		return
	}
	if !f.LoggedIn() {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Sign in first.", "")
		return
	}
	pg.advance(w, r, f, r.PostForm.Get("login_challenge"), nil)
}

// queryChallenge reads the single login_challenge of a GET.
func (pg *Pages) queryChallenge(w http.ResponseWriter, r *http.Request) (string, bool) {
	if len(r.URL.Query()["login_challenge"]) > 1 {
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "The login_challenge parameter was sent more than once.", "")
		return "", false
	}
	return r.URL.Query().Get("login_challenge"), true
}

// pendingPage loads what a second-factor page needs; on failure it has answered.
func (pg *Pages) pendingPage(w http.ResponseWriter, r *http.Request, challenge string) (*authz.Client, *login.PendingLogin, string, bool) {
	ctx := r.Context()
	f, err := pg.flows.OpenFlow(ctx, challenge, pg.flowBinding(r))
	if err != nil {
		pg.flowError(w, err)
		return nil, nil, "", false
	}
	pl, err := pg.flows.Pending(ctx, f)
	if err != nil {
		pg.stepError(w, err)
		return nil, nil, "", false
	}
	cookie, err := pg.csrfCookie(w, r)
	if err != nil {
		pg.internal(w, err)
		return nil, nil, "", false
	}
	return f.Client, pl, pg.csrf.Token(cookie, challenge), true
}

// factorError turns a rejected second factor into a message beside its field.
func factorError(method string, err error) (field, msg string, status int, ok bool) {
	field = "code"
	switch method {
	case login.MethodRecovery:
		field = "recovery"
	case login.MethodWebAuthn:
		field = "passkey"
	}
	switch {
	case errors.Is(err, throttle.ErrThrottled):
		return field, throttleMessage(err), http.StatusTooManyRequests, true
	case errors.Is(err, mfa.ErrCodeReused):
		return field, "This code was already used. Wait for the next code in your app.", http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrInvalidCode) && method == login.MethodRecovery:
		return field, "This recovery code is not valid or was already used.", http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrInvalidCode):
		return field, "The code is not valid. Enter the 6-digit code your app shows now.", http.StatusUnauthorized, true
	case errors.Is(err, mfa.ErrWebAuthnFailed):
		return field, "The passkey could not be verified. Try again.", http.StatusUnauthorized, true
	}
	return "", "", 0, false
}

// stepError renders errors of the second-factor steps that are not about a field.
func (pg *Pages) stepError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, login.ErrNoPendingLogin):
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Sign in with your password first. Go back to the application and start again.", "")
	case errors.Is(err, login.ErrEnrolmentNotAllowed), errors.Is(err, mfa.ErrAlreadyEnrolled):
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Two-step verification is already set up for this account.", "")
	case errors.Is(err, login.ErrUnknownMethod):
		pg.renderError(w, http.StatusBadRequest, "invalid_request", "Choose a way to verify.", "")
	default:
		pg.flowError(w, err)
	}
}

// groupSecret writes a base32 TOTP secret in groups of four for typing.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
