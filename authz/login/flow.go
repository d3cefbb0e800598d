package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// Steps of the authorization flow.
const (
	StepIssue   Step = iota // the user is logged in and has consented: issue the response
	StepLogin               // show the login page
	StepConsent             // show the consent page
)

// Step is what the authorization endpoint must do next with a valid request.
type Step int

// nextStep decides whether the user must log in or consent before ar can be
// answered, honouring prompt and max_age. bs is the browser session, or nil.
// With prompt=none an interaction that would be needed is an error the client
// receives (login_required, consent_required).
func (s *Service) nextStep(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession) (Step, error) {
	form := ar.GetRequestForm()
	prompts := strings.Fields(form.Get("prompt"))
	none := slices.Contains(prompts, "none")
	if none && len(prompts) > 1 {
		return 0, fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	needLogin := bs == nil || slices.Contains(prompts, "login")
	if bs != nil && form.Get("max_age") != "" {
		maxAge, err := strconv.ParseInt(form.Get("max_age"), 10, 64)
		if err != nil || maxAge < 0 {
			return 0, fosite.ErrInvalidRequest.WithHint("max_age must be a non-negative integer.")
		}
		if s.now().Sub(bs.AuthTime) > time.Duration(maxAge)*time.Second {
			needLogin = true
		}
	}
	if !needLogin {
		// step-up: the session lacks a second factor the request requires
		up, err := s.needsStepUp(ctx, ar, bs)
		if err != nil {
			return 0, err
		}
		needLogin = up
	}
	if needLogin {
		if none {
			return 0, fosite.ErrLoginRequired.WithHint("The user is not logged in and prompt=none was requested.")
		}
		return StepLogin, nil
	}
	consent, err := s.needsConsent(ctx, bs.UserID, ar.GetClient().GetID(), ar.GetRequestedScopes(), slices.Contains(prompts, "consent"))
	if err != nil {
		return 0, err
	}
	if consent {
		if none {
			return 0, fosite.ErrConsentRequired.WithHint("The user has not consented and prompt=none was requested.")
		}
		return StepConsent, nil
	}
	return StepIssue, nil
}

// needsConsent reports whether the user must be asked: no remembered consent,
// the scopes grew beyond it, or the client asked (prompt=consent).
func (s *Service) needsConsent(ctx context.Context, userID, clientID string, scopes []string, forced bool) (bool, error) {
	if forced {
		return true, nil
	}
	if firstParty, err := s.firstParty(ctx, clientID); err != nil || firstParty {
		return false, err
	}
	c, err := s.store.GetConsent(ctx, userID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("get consent: %w", err)
	}
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// startFlow saves the validated request server-side and returns the random,
// single-use challenge that stands for it in the browser. binding is the
// browser's flow-binding cookie (only its hash is stored): every later step
// of the flow must present it (OpenFlow, finishFlow, denyFlow).
func (s *Service) startFlow(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, binding string) (string, error) {
	if binding == "" {
		return "", errors.New("start flow: no flow-binding cookie")
	}
	challenge, err := authz.RandomToken(32)
	if err != nil {
		return "", err
	}
	// Only the parameters Strongroom understands, capped: an unauthenticated
	// caller must not park arbitrary data here. request_uri is not among
	// them: a pushed request is single-use, its parameters are merged in.
	form, err := flowForm(ar.GetRequestForm())
	if err != nil {
		return "", err
	}
	now := s.now()
	f := &storage.AuthFlow{
		ID:        authz.HashID(challenge),
		ClientID:  ar.GetClient().GetID(),
		Form:      form,
		Binding:   authz.HashID(binding),
		CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.LoginFlowLifespan),
	}
	if bs != nil {
		f.SessionID = bs.ID // replaced by the session of a new login (replaceSession)
	}
	if bs != nil && !s.mustLogin(ctx, ar, bs) {
		f.Subject, f.SessionID = bs.UserID, bs.ID
		t := bs.AuthTime
		f.AuthTime = &t
	}
	if err := s.store.CreateAuthFlow(ctx, f); err != nil {
		return "", fmt.Errorf("save authorization flow: %w", err)
	}
	return challenge, nil
}

// ErrFlowNotFound is returned for an unknown, used or expired challenge.
var ErrFlowNotFound = errors.New("the login request is unknown, expired or already used")

// ErrFlowOtherBrowser is returned for a live challenge presented without the
// flow-binding cookie of the browser that started the flow: a login or
// consent link that leaked to another browser. The flow is left untouched,
// so the browser it belongs to can still finish it.
var ErrFlowOtherBrowser = errors.New("the login request was started in another browser")

// loadFlow returns the pending flow of a challenge together with its client.
// binding is the flow-binding cookie of the browser presenting the challenge.
func (s *Service) loadFlow(ctx context.Context, challenge, binding string) (*storage.AuthFlow, *authz.Client, error) {
	if challenge == "" || len(challenge) > 128 {
		return nil, nil, ErrFlowNotFound
	}
	f, err := s.store.GetAuthFlow(ctx, authz.HashID(challenge))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, ErrFlowNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get flow: %w", err)
	}
	if !flowBound(f, binding) {
		s.auditOtherBrowser(ctx, f, binding)
		return nil, nil, ErrFlowOtherBrowser
	}
	c, err := s.clients.Get(ctx, f.ClientID)
	if err != nil {
		return nil, nil, fmt.Errorf("get flow client: %w", err)
	}
	return f, c, nil
}

// Flow is a pending authorization flow as the end-user pages see it: the
// client that asked and what the login, second-factor and consent steps
// need, with the stored request parameters parsed once. The pages hand it
// back to the step methods (LoginPassword, VerifySecondFactor, Enrol,
// Pending, SaveConsent, Finish, Deny, Advance); its storage record stays inside
// authz.
type Flow struct {
	// Client is the client the authorization request came from.
	Client *authz.Client
	rec    *storage.AuthFlow
	form   url.Values
}

// LoggedIn reports whether the login step of the flow is done: a user
// logged in (or the browser's session was recorded when the flow started).
func (f *Flow) LoggedIn() bool { return f.rec.Subject != "" }

// Scopes returns the scopes the flow requests.
func (f *Flow) Scopes() []string {
	return fosite.RemoveEmpty(strings.Split(f.form.Get("scope"), " "))
}

// PromptConsent reports whether the client asked for consent (prompt=consent).
func (f *Flow) PromptConsent() bool {
	return slices.Contains(strings.Fields(f.form.Get("prompt")), "consent")
}

// OpenFlow returns the pending flow of challenge for the browser whose
// flow-binding cookie is binding: ErrFlowNotFound for an unknown, used or
// expired challenge, ErrFlowOtherBrowser for another browser's.
func (s *Service) OpenFlow(ctx context.Context, challenge, binding string) (*Flow, error) {
	rec, c, err := s.loadFlow(ctx, challenge, binding)
	if err != nil {
		return nil, err
	}
	form, err := urlParse(rec.Form)
	if err != nil {
		return nil, err
	}
	return &Flow{Client: c, rec: rec, form: form}, nil
}

// needsFlowConsent reports whether the flow's user must be asked for
// consent before the flow finishes (needsConsent for its user, client,
// scopes and prompt).
func (s *Service) needsFlowConsent(ctx context.Context, f *Flow) (bool, error) {
	return s.needsConsent(ctx, f.rec.Subject, f.rec.ClientID, f.Scopes(), f.PromptConsent())
}

// flowBound reports, in constant time, whether binding is the flow-binding
// cookie the flow was started with. A flow without a binding (created before
// bindings existed) belongs to no browser.
func flowBound(f *storage.AuthFlow, binding string) bool {
	if binding == "" || len(binding) > 128 || f.Binding == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(authz.HashID(binding)), []byte(f.Binding)) == 1
}

// loginOnFlow starts a browser session for user and records the login on
// the flow. It returns the session and the cookie value that names it.
func (s *Service) loginOnFlow(ctx context.Context, f *storage.AuthFlow, user *storage.User, amr []string) (*storage.BrowserSession, string, error) {
	cookie, err := authz.RandomToken(32)
	if err != nil {
		return nil, "", err
	}
	now := s.now().Truncate(time.Second)
	bs := &storage.BrowserSession{
		ID: authz.HashID(cookie), UserID: user.ID, AuthTime: now, AMR: amr,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.BrowserSessionLifespan),
	}
	prev := f.SessionID
	err = storage.InTx(ctx, s.store, func(ctx context.Context) error {
		if err := s.store.CreateBrowserSession(ctx, bs); err != nil {
			return fmt.Errorf("create browser session: %w", err)
		}
		if err := s.replaceSession(ctx, prev, bs); err != nil {
			return err
		}
		f.Subject, f.SessionID, f.AuthTime = user.ID, bs.ID, &now
		if err := s.store.UpdateAuthFlow(ctx, f); err != nil {
			return fmt.Errorf("record login on flow: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return bs, cookie, nil
}

// BrowserSession returns the live session named by a cookie value, or nil.
func (s *Service) BrowserSession(ctx context.Context, cookie string) (*storage.BrowserSession, error) {
	if cookie == "" || len(cookie) > 128 {
		return nil, nil
	}
	bs, err := s.store.GetBrowserSession(ctx, authz.HashID(cookie))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get browser session: %w", err)
	}
	return s.liveSession(ctx, bs)
}

// SaveConsent remembers that the flow's user granted the flow's scopes.
func (s *Service) SaveConsent(ctx context.Context, fl *Flow) error {
	f := fl.rec
	scopes := fl.Scopes()
	old, err := s.store.GetConsent(ctx, f.Subject, f.ClientID)
	switch {
	case err == nil:
		for _, s := range old.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	case !errors.Is(err, storage.ErrNotFound):
		// Never overwrite a consent we could not read: scopes would be lost.
		return fmt.Errorf("read consent: %w", err)
	}
	return s.store.SaveConsent(ctx, &storage.Consent{UserID: f.Subject, ClientID: f.ClientID, Scopes: scopes, GrantedAt: s.now()})
}

// finishFlow consumes the flow (single use) and answers the original
// authorization request: fosite re-validates the stored parameters and issues
// the code (and ID token for hybrid requests) for the client's redirect URI.
// Only the browser that started the flow (binding) can finish it. r is the
// browser's request, the base of the re-validated one. An error is either
// about the flow (ErrFlowNotFound, ErrFlowOtherBrowser, storage) or an
// *UnredirectableError to show as a page.
func (s *Service) finishFlow(ctx context.Context, r *http.Request, challenge, binding string) (*authz.AuthorizeResponse, error) {
	f, err := s.OpenFlow(ctx, challenge, binding)
	if err != nil {
		return nil, err
	}
	return s.Finish(ctx, r, f)
}

// Finish is finishFlow for a flow this request opened (OpenFlow checked its
// browser binding, which never changes).
func (s *Service) Finish(ctx context.Context, r *http.Request, f *Flow) (*authz.AuthorizeResponse, error) {
	return s.finish(ctx, r, f, nil)
}

// finish consumes the open flow f and issues its response. login is the
// login this request completed on f, whose user and session need not be
// read again; nil otherwise.
func (s *Service) finish(ctx context.Context, r *http.Request, f *Flow, login *LoginResult) (*authz.AuthorizeResponse, error) {
	rec, err := s.consume(ctx, f)
	if err != nil {
		return nil, err
	}
	if rec.Subject == "" || rec.AuthTime == nil {
		return nil, ErrFlowNotFound
	}
	// the stored parameters never change: f.form is the consumed row's
	ar, err := s.authorizer.ResumeAuthorizeRequest(ctx, r, f.form)
	if err != nil {
		return s.authorizer.AuthorizeError(ctx, ar, err)
	}
	var user *storage.User
	bs := &storage.BrowserSession{ID: rec.SessionID, UserID: rec.Subject, AuthTime: *rec.AuthTime}
	switch {
	case login != nil && login.session != nil && login.session.ID == rec.SessionID:
		bs, user = login.session, login.user
	default:
		if live, err := s.store.GetBrowserSession(ctx, rec.SessionID); err == nil {
			bs = live
		}
	}
	return s.authorizer.Issue(ctx, ar, bs, user, rec.CreatedAt)
}

// consume consumes the open flow f (single use): ErrFlowNotFound if
// another request consumed it first.
func (s *Service) consume(ctx context.Context, f *Flow) (*storage.AuthFlow, error) {
	rec, err := s.store.ConsumeAuthFlow(ctx, f.rec.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrFlowNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("consume flow: %w", err)
	}
	return rec, nil
}

func urlParse(b []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, fmt.Errorf("stored flow form: %w", err)
	}
	return form, nil
}

// denyFlow consumes the flow and tells the client the user refused
// (access_denied). Only the browser that started the flow (binding) can.
func (s *Service) denyFlow(ctx context.Context, r *http.Request, challenge, binding string) (*authz.AuthorizeResponse, error) {
	f, err := s.OpenFlow(ctx, challenge, binding)
	if err != nil {
		return nil, err
	}
	return s.Deny(ctx, r, f)
}

// Deny is denyFlow for a flow this request opened (OpenFlow checked its
// browser binding).
func (s *Service) Deny(ctx context.Context, r *http.Request, f *Flow) (*authz.AuthorizeResponse, error) {
	if _, err := s.consume(ctx, f); err != nil {
		return nil, err
	}
	ar, err := s.authorizer.ResumeAuthorizeRequest(ctx, r, f.form)
	if err != nil {
		return s.authorizer.AuthorizeError(ctx, ar, err)
	}
	return s.authorizer.AuthorizeError(ctx, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
}

// ActionFlowOtherBrowser is the audit action of a live login, second-factor
// or consent challenge presented by a browser that did not start its flow
// (a leaked or stolen link).
const ActionFlowOtherBrowser = "flow.other_browser"

// auditOtherBrowser records a refused flow step of another browser: the
// flow's client and user (once logged in), the address and user agent of
// the request (WithRequestMeta), and whether the browser had no
// flow-binding cookie or another one. Never the challenge or the cookie.
// An audit failure is logged; the refusal stands either way.
func (s *Service) auditOtherBrowser(ctx context.Context, f *storage.AuthFlow, binding string) {
	m := requestMeta(ctx)
	reason := "other_binding"
	if binding == "" {
		reason = "no_binding"
	}
	e := &storage.AuditEvent{
		Time: s.now(), Actor: "anonymous", Action: ActionFlowOtherBrowser, Outcome: storage.OutcomeFailure,
		Target: f.Subject, SourceIP: m.IP, UserAgent: truncateString(m.UserAgent, 256),
		Details: map[string]string{"client_id": f.ClientID, "flow": f.ID, "reason": reason},
	}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit event lost", "action", e.Action, "err", err)
	}
}

type requestMetaKey struct{}

// WithRequestMeta returns ctx carrying the address and user agent of the
// browser's request, for the audit events of steps that take no LoginMeta
// (OpenFlow's refusal of another browser). The pages set it on every request.
func WithRequestMeta(ctx context.Context, m LoginMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// requestMeta is the LoginMeta of ctx (WithRequestMeta), zero when none.
func requestMeta(ctx context.Context) LoginMeta {
	m, _ := ctx.Value(requestMetaKey{}).(LoginMeta)
	return m
}
