package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mfa"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/storage"
)

// Second-factor methods a form names.
const (
	MethodTOTP     = "totp"
	MethodRecovery = "recovery"
	MethodWebAuthn = "webauthn"
)

// Login errors besides password.ErrInvalidCredentials, *throttle.Error and the
// second-factor errors.
var (
	// ErrNoPendingLogin: a second-factor page without a password step before
	// it (or after it expired or completed).
	ErrNoPendingLogin = errors.New("sign in with your password first")
	// ErrEnrolmentNotAllowed: enrolment is only for users without any second
	// factor; otherwise the password alone could add a factor and bypass the
	// existing one.
	ErrEnrolmentNotAllowed = errors.New("a second factor is already set up for this account")
	// ErrUnknownMethod: the form named no known second-factor method.
	ErrUnknownMethod = errors.New("unknown sign-in method")
)

// LoginMeta describes where an attempt comes from, for throttling and the
// audit trail.
type LoginMeta struct {
	IP        string
	UserAgent string
}

// LoginOutcome is what a login step leads to.
type LoginOutcome int

// Login outcomes.
const (
	LoginComplete     LoginOutcome = iota // logged in: set Cookie, then consent or the response
	LoginSecondFactor                     // ask for a second factor
	LoginEnrol                            // MFA is required and the user has none: enrol one
)

// LoginResult is the result of a successful login step.
type LoginResult struct {
	Outcome LoginOutcome
	// Cookie names the new browser session (LoginComplete).
	Cookie string
	// RecoveryCodes are shown once, after an enrolment.
	RecoveryCodes []string

	// user and session are the login's user and new browser session
	// (LoginComplete): finishing the flow in the same request needs not
	// read them again.
	user    *storage.User
	session *storage.BrowserSession
}

// Factors summarises a user's second factors.
type Factors struct {
	TOTP          bool
	Passkeys      int
	RecoveryCodes int
}

// Any reports whether the user has a second factor.
func (f Factors) Any() bool { return f.TOTP || f.Passkeys > 0 }

// userFactors returns the user's confirmed second factors.
func (s *Service) userFactors(ctx context.Context, userID string) (Factors, error) {
	var f Factors
	e, err := s.store.GetTOTP(ctx, userID)
	switch {
	case err == nil:
		f.TOTP = e.Confirmed
	case !errors.Is(err, storage.ErrNotFound):
		return f, fmt.Errorf("get TOTP enrolment: %w", err)
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, userID)
	if err != nil {
		return f, fmt.Errorf("list WebAuthn credentials: %w", err)
	}
	f.Passkeys = len(creds)
	if f.RecoveryCodes, err = s.store.CountRecoveryCodes(ctx, userID); err != nil {
		return f, fmt.Errorf("count recovery codes: %w", err)
	}
	return f, nil
}

// mfaRequired reports whether a login of userID for clientID with the
// authorization request form needs a second factor: the user's policy, the
// client's (RequireMFA) or the request's acr_values ask for it.
func (s *Service) mfaRequired(ctx context.Context, userID, clientID string, form url.Values) (bool, error) {
	if slices.Contains(strings.Fields(form.Get("acr_values")), authz.ACRMFA) {
		return true, nil
	}
	c, err := s.clients.Get(ctx, clientID)
	if err != nil {
		return false, fmt.Errorf("get client: %w", err)
	}
	if c.Registration().Metadata.RequireMFA {
		return true, nil
	}
	required, err := s.store.RequireMFA(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("get MFA policy: %w", err)
	}
	return required, nil
}

// needsStepUp reports whether a live session that authenticated with fewer
// factors than the request requires must log in again.
func (s *Service) needsStepUp(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession) (bool, error) {
	if slices.Contains(bs.AMR, authz.AMRMFA) {
		return false, nil
	}
	return s.mfaRequired(ctx, bs.UserID, ar.GetClient().GetID(), ar.GetRequestForm())
}

// mustLogin reports whether ar cannot reuse the session bs (startFlow then
// leaves the flow without a subject, so the login page asks again).
func (s *Service) mustLogin(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession) bool {
	step, err := s.nextStep(ctx, ar, bs)
	return err != nil || step == StepLogin
}

// LoginPassword is the password step of a login on flow f. A wrong password
// and an unknown user give password.ErrInvalidCredentials alike (same work, same
// answer); a throttled or locked account or address gives *throttle.Error
// without checking the password. Every attempt is audited.
func (s *Service) LoginPassword(ctx context.Context, fl *Flow, username, pw string, m LoginMeta) (_ *LoginResult, err error) {
	ctx, span := s.span(ctx, "login.Password")
	defer func() { endSpan(span, err) }()
	f := fl.rec
	const action = "login.password"
	att, err := s.throttle.Admit(ctx, username, m.IP)
	if err != nil {
		if errors.Is(err, throttle.ErrThrottled) {
			s.auditAttempt(ctx, action, s.knownUser(ctx, username), username, storage.OutcomeFailure, throttleReason(err), m)
		}
		return nil, err
	}
	user, err := s.auth.Authenticate(ctx, username, pw)
	if errors.Is(err, password.ErrInvalidCredentials) {
		// Looked up on both paths (unknown user, wrong password): same work.
		return nil, s.attemptFailed(ctx, att, action, s.knownUser(ctx, username), username, "invalid_credentials", m, err)
	}
	if err != nil { // not checked (busy) or not answered: counts as nothing
		return nil, releaseOnError(ctx, att, err)
	}
	s.auditAttempt(ctx, action, user, username, storage.OutcomeSuccess, "", m)
	complete, factors, err := s.passwordCompletes(ctx, fl, user)
	if err != nil {
		return nil, releaseOnError(ctx, att, err)
	}
	if complete {
		if err := att.Succeed(ctx); err != nil {
			return nil, err
		}
		return s.completeLogin(ctx, f, user, []string{authz.AMRPassword}, nil)
	}
	// A second factor follows: the password clears no count (a known
	// password must not wipe the failed codes before it).
	if err := att.Release(ctx); err != nil {
		return nil, err
	}
	now := s.now()
	pl := &storage.PendingLogin{FlowID: f.ID, UserID: user.ID, AMR: []string{authz.AMRPassword}, CreatedAt: now, ExpiresAt: f.ExpiresAt}
	if err := s.store.SavePendingLogin(ctx, pl); err != nil {
		return nil, fmt.Errorf("save pending login: %w", err)
	}
	if factors.Any() {
		return &LoginResult{Outcome: LoginSecondFactor}, nil
	}
	return &LoginResult{Outcome: LoginEnrol}, nil
}

// passwordCompletes reports whether the password alone completes a login
// of user on flow f (no second factor is required and the user has none),
// with the user's factors.
func (s *Service) passwordCompletes(ctx context.Context, fl *Flow, user *storage.User) (bool, Factors, error) {
	required, err := s.mfaRequired(ctx, user.ID, fl.rec.ClientID, fl.form)
	if err != nil {
		return false, Factors{}, err
	}
	factors, err := s.userFactors(ctx, user.ID)
	if err != nil {
		return false, Factors{}, err
	}
	return !required && !factors.Any(), factors, nil
}

// releaseOnError ends att, which neither failed nor succeeded, and returns cause.
func releaseOnError(ctx context.Context, att *throttle.Attempt, cause error) error {
	if err := att.Release(context.WithoutCancel(ctx)); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// knownUser returns the user named username for the audit trail, or nil.
func (s *Service) knownUser(ctx context.Context, username string) *storage.User {
	if len(username) > 256 {
		return nil
	}
	u, err := s.store.GetUserByUsername(ctx, username)
	if err != nil {
		return nil
	}
	return u
}

// PendingLogin is a login of a flow waiting for its second factor.
type PendingLogin struct {
	Login   *storage.PendingLogin
	User    *storage.User
	Factors Factors
}

// Pending returns the flow's pending login; ErrNoPendingLogin if there is none.
func (s *Service) Pending(ctx context.Context, fl *Flow) (*PendingLogin, error) {
	f := fl.rec
	if f.Subject != "" {
		return nil, ErrNoPendingLogin
	}
	pl, err := s.store.GetPendingLogin(ctx, f.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoPendingLogin
	}
	if err != nil {
		return nil, fmt.Errorf("get pending login: %w", err)
	}
	u, err := s.store.GetUser(ctx, pl.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoPendingLogin
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	factors, err := s.userFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &PendingLogin{Login: pl, User: u, Factors: factors}, nil
}

// BeginPasskeyLogin starts a WebAuthn assertion for the pending login and
// returns the options for navigator.credentials.get (nil when the user has
// no passkey).
func (s *Service) BeginPasskeyLogin(ctx context.Context, pl *PendingLogin) ([]byte, error) {
	if pl.Factors.Passkeys == 0 {
		return nil, nil
	}
	return s.factors.BeginPasskeyLogin(ctx, pl.Login, pl.User)
}

// VerifySecondFactor checks the second factor of a pending login (method
// MethodTOTP, MethodRecovery or MethodWebAuthn, value the code or the
// WebAuthn response JSON) and completes the login. Failures count against
// the account and address like wrong passwords; every attempt is audited.
func (s *Service) VerifySecondFactor(ctx context.Context, fl *Flow, method, value string, m LoginMeta) (_ *LoginResult, err error) {
	ctx, span := s.span(ctx, "login.SecondFactor")
	defer func() { endSpan(span, err) }()
	f := fl.rec
	pl, err := s.Pending(ctx, fl)
	if err != nil {
		return nil, err
	}
	if !pl.Factors.Any() {
		return nil, ErrNoPendingLogin // enrolment, not verification, is what is pending
	}
	var action, amr string
	var check func() error
	switch method {
	case MethodTOTP:
		action, amr = "login.totp", authz.AMROTP
		check = func() error { return s.factors.CheckTOTP(ctx, pl.User.ID, value, false) }
	case MethodRecovery:
		action, amr = "login.recovery_code", authz.AMROTP
		check = func() error { return s.factors.UseRecoveryCode(ctx, pl.User.ID, value) }
	case MethodWebAuthn:
		action, amr = "login.webauthn", authz.AMRHardware
		check = func() error { return s.factors.FinishPasskeyLogin(ctx, f.ID, pl.User, []byte(value)) }
	default:
		return nil, ErrUnknownMethod
	}
	if err := s.factorAttempt(ctx, action, pl.User, m, check); err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, f, pl.User, addAMR(pl.Login.AMR, amr), nil)
}

// BeginTOTPEnrolment shows the pending login's user a TOTP secret to enrol.
func (s *Service) BeginTOTPEnrolment(ctx context.Context, pl *PendingLogin) (*mfa.TOTPOffer, error) {
	if pl.Factors.Any() {
		return nil, ErrEnrolmentNotAllowed
	}
	return s.factors.BeginTOTP(ctx, pl.User)
}

// BeginPasskeyEnrolment starts registering a passkey for the pending
// login's user and returns the options for navigator.credentials.create
// (nil when passkeys are off: an issuer named by an IP address).
func (s *Service) BeginPasskeyEnrolment(ctx context.Context, pl *PendingLogin) ([]byte, error) {
	if pl.Factors.Any() {
		return nil, ErrEnrolmentNotAllowed
	}
	return s.factors.BeginPasskeyRegistration(ctx, pl.Login, pl.User)
}

// Enrol confirms a new second factor of a pending login whose user has none
// (MethodTOTP with a code from the app, MethodWebAuthn with the
// registration response), issues recovery codes and completes the login.
func (s *Service) Enrol(ctx context.Context, fl *Flow, method, value string, m LoginMeta) (*LoginResult, error) {
	f := fl.rec
	pl, err := s.Pending(ctx, fl)
	if err != nil {
		return nil, err
	}
	if pl.Factors.Any() {
		return nil, ErrEnrolmentNotAllowed
	}
	var action, amr string
	var check func() error
	switch method {
	case MethodTOTP:
		action, amr = "mfa.enrol.totp", authz.AMROTP
		check = func() error { return s.factors.CheckTOTP(ctx, pl.User.ID, value, true) }
	case MethodWebAuthn:
		action, amr = "mfa.enrol.webauthn", authz.AMRHardware
		check = func() error { return s.factors.FinishPasskeyRegistration(ctx, f.ID, pl.User, []byte(value)) }
	default:
		return nil, ErrUnknownMethod
	}
	if err := s.factorAttempt(ctx, action, pl.User, m, check); err != nil {
		return nil, err
	}
	codes, err := s.factors.NewRecoveryCodes(ctx, pl.User.ID)
	if err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, f, pl.User, addAMR(pl.Login.AMR, amr), codes)
}

// factorAttempt runs one second-factor check under the brute-force throttle:
// admitted or refused (audited), then counted as a failure or cleared as a
// success, and audited either way.
func (s *Service) factorAttempt(ctx context.Context, action string, user *storage.User, m LoginMeta, check func() error) error {
	att, err := s.throttle.AdmitSecondFactor(ctx, user.Username, user.ID, m.IP)
	if err != nil {
		if errors.Is(err, throttle.ErrThrottled) {
			s.auditAttempt(ctx, action, user, user.Username, storage.OutcomeFailure, throttleReason(err), m)
		}
		return err
	}
	if err := check(); err != nil {
		if isFactorFailure(err) {
			return s.attemptFailed(ctx, att, action, user, user.Username, reasonOf(err), m, err)
		}
		return releaseOnError(ctx, att, err)
	}
	if err := att.Succeed(ctx); err != nil {
		return err
	}
	s.auditAttempt(ctx, action, user, user.Username, storage.OutcomeSuccess, "", m)
	return nil
}

// completeLogin starts the browser session with the methods used and ends
// the pending login.
func (s *Service) completeLogin(ctx context.Context, f *storage.AuthFlow, user *storage.User, amr, codes []string) (*LoginResult, error) {
	bs, cookie, err := s.loginOnFlow(ctx, f, user, amr)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeletePendingLogin(ctx, f.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("end pending login: %w", err)
	}
	return &LoginResult{Outcome: LoginComplete, Cookie: cookie, RecoveryCodes: codes, user: user, session: bs}, nil
}

func addAMR(amr []string, method string) []string {
	out := slices.Clone(amr)
	for _, m := range []string{method, authz.AMRMFA} {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// attemptFailed counts the failure of att, audits it (and the lock it may
// cause) and returns cause, or the lock when this failure caused one.
func (s *Service) attemptFailed(ctx context.Context, att *throttle.Attempt, action string, user *storage.User, username, reason string, m LoginMeta, cause error) error {
	// A client that hangs up once its guess was checked must not skip the
	// count (nor the audit): both outlive the request.
	ctx = context.WithoutCancel(ctx)
	lock, err := att.Fail(ctx)
	if err != nil {
		return err
	}
	s.auditAttempt(ctx, action, user, username, storage.OutcomeFailure, reason, m)
	if lock != nil {
		s.auditAttempt(ctx, "account.locked", user, username, storage.OutcomeSuccess, "too_many_failures", m)
		return lock
	}
	return cause
}

// auditAttempt records a login or second-factor attempt, and counts it in
// the metrics. It never records the password or code. An audit failure is
// logged, not shown to the user.
func (s *Service) auditAttempt(ctx context.Context, action string, user *storage.User, username, outcome, reason string, m LoginMeta) {
	s.metrics.LoginAttempt(action, outcome, reason)
	e := &storage.AuditEvent{
		Time: s.now(), Actor: "anonymous", Action: action, Outcome: outcome,
		SourceIP: m.IP, UserAgent: truncateString(m.UserAgent, 256), Details: map[string]string{},
	}
	if user != nil {
		e.Target = user.ID
		if outcome == storage.OutcomeSuccess {
			e.Actor = "user:" + user.ID
		}
	} else {
		e.Details["username"] = truncateString(username, 64)
	}
	if reason != "" {
		e.Details["reason"] = reason
	}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit event lost", "action", action, "err", err)
	}
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func throttleReason(err error) string {
	var te *throttle.Error
	if errors.As(err, &te) && te.Locked {
		return "locked"
	}
	return "throttled"
}

func isFactorFailure(err error) bool {
	return errors.Is(err, mfa.ErrInvalidCode) || errors.Is(err, mfa.ErrCodeReused) || errors.Is(err, mfa.ErrWebAuthnFailed)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, mfa.ErrCodeReused):
		return "code_reused"
	case errors.Is(err, mfa.ErrWebAuthnFailed):
		return "webauthn_failed"
	default:
		return "invalid_code"
	}
}
