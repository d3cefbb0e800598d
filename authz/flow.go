package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/storage"
)

// Step is what the authorization endpoint must do next with a valid request.
type Step int

// Steps of the authorization flow.
const (
	StepIssue   Step = iota // the user is logged in and has consented: issue the response
	StepLogin               // show the login page
	StepConsent             // show the consent page
)

const parPrefix = "urn:ietf:params:oauth:request_uri:"

// checkAuthorizePolicy applies Strongroom's rules on top of fosite's
// validation of an authorization request:
//   - a client registered with "PAR required" must use a pushed request
//     (pushed is true at the PAR endpoint itself);
//   - only public (native) clients get RFC 8252 loopback port flexibility:
//     everyone else's redirect_uri must match a registered one exactly.
func (p *Provider) checkAuthorizePolicy(_ context.Context, ar fosite.AuthorizeRequester, pushed bool) error {
	c, ok := ar.GetClient().(*Client)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	if c.Storage().RequirePAR && !pushed && !strings.HasPrefix(ar.GetRequestForm().Get("request_uri"), parPrefix) {
		return fosite.ErrInvalidRequest.WithHint("This client must use a pushed authorization request (RFC 9126).")
	}
	if raw := ar.GetRequestForm().Get("redirect_uri"); raw != "" && !c.IsPublic() && !slices.Contains(c.GetRedirectURIs(), raw) {
		return errRedirectNotRegistered()
	}
	// PKCE is checked here, before the user is asked to log in (fosite only
	// checks it when the response is issued).
	form := ar.GetRequestForm()
	if m := form.Get("code_challenge_method"); m != "" && m != "S256" {
		return fosite.ErrInvalidRequest.WithHint("Only the S256 code_challenge_method is supported.")
	}
	if ar.GetResponseTypes().Has("code") && c.IsPublic() && form.Get("code_challenge") == "" {
		return fosite.ErrInvalidRequest.WithHint("Public clients must use PKCE with code_challenge_method S256.")
	}
	if form.Get("code_challenge") != "" && form.Get("code_challenge_method") == "" {
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method S256 is required with code_challenge.")
	}
	// RFC 8707 resource and audience: refused before the login page too
	return p.authorizeAudience(ar)
}

// ErrRedirectNotRegistered marks a redirect URI that fosite's loopback rule
// accepted but Strongroom does not: errors carrying it are never redirected.
var ErrRedirectNotRegistered = errors.New("redirect_uri is not registered")

func errRedirectNotRegistered() error {
	return fosite.ErrInvalidRequest.WithWrap(ErrRedirectNotRegistered).WithHint("The redirect_uri does not exactly match a registered redirect URI.")
}

// nextStep decides whether the user must log in or consent before ar can be
// answered, honouring prompt and max_age. bs is the browser session, or nil.
// With prompt=none an interaction that would be needed is an error the client
// receives (login_required, consent_required).
func (p *Provider) nextStep(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession) (Step, error) {
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
		if p.now().Sub(bs.AuthTime) > time.Duration(maxAge)*time.Second {
			needLogin = true
		}
	}
	if !needLogin {
		// step-up: the session lacks a second factor the request requires
		up, err := p.needsStepUp(ctx, ar, bs)
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
	consent, err := p.needsConsent(ctx, bs.UserID, ar.GetClient().GetID(), ar.GetRequestedScopes(), slices.Contains(prompts, "consent"))
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
func (p *Provider) needsConsent(ctx context.Context, userID, clientID string, scopes []string, forced bool) (bool, error) {
	if forced {
		return true, nil
	}
	if firstParty, err := p.firstParty(ctx, clientID); err != nil || firstParty {
		return false, err
	}
	c, err := p.Store.GetConsent(ctx, userID, clientID)
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
func (p *Provider) startFlow(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, binding string) (string, error) {
	if binding == "" {
		return "", errors.New("start flow: no flow-binding cookie")
	}
	challenge, err := randomToken(32)
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
	now := p.now()
	f := &storage.AuthFlow{
		ID:        hashID(challenge),
		ClientID:  ar.GetClient().GetID(),
		Form:      form,
		Binding:   hashID(binding),
		CreatedAt: now,
		ExpiresAt: now.Add(p.Config.LoginFlowLifespan),
	}
	if bs != nil {
		f.SessionID = bs.ID // replaced by the session of a new login (replaceSession)
	}
	if bs != nil && !p.mustLogin(ctx, ar, bs) {
		f.Subject, f.SessionID = bs.UserID, bs.ID
		t := bs.AuthTime
		f.AuthTime = &t
	}
	if err := p.Store.CreateAuthFlow(ctx, f); err != nil {
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
func (p *Provider) loadFlow(ctx context.Context, challenge, binding string) (*storage.AuthFlow, *Client, error) {
	if challenge == "" || len(challenge) > 128 {
		return nil, nil, ErrFlowNotFound
	}
	f, err := p.Store.GetAuthFlow(ctx, hashID(challenge))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, ErrFlowNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get flow: %w", err)
	}
	if !flowBound(f, binding) {
		return nil, nil, ErrFlowOtherBrowser
	}
	c, err := p.Clients.Get(ctx, f.ClientID)
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
	Client *Client
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
func (p *Provider) OpenFlow(ctx context.Context, challenge, binding string) (*Flow, error) {
	rec, c, err := p.loadFlow(ctx, challenge, binding)
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
func (p *Provider) needsFlowConsent(ctx context.Context, f *Flow) (bool, error) {
	return p.needsConsent(ctx, f.rec.Subject, f.rec.ClientID, f.Scopes(), f.PromptConsent())
}

// flowBound reports, in constant time, whether binding is the flow-binding
// cookie the flow was started with. A flow without a binding (created before
// bindings existed) belongs to no browser.
func flowBound(f *storage.AuthFlow, binding string) bool {
	if binding == "" || len(binding) > 128 || f.Binding == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashID(binding)), []byte(f.Binding)) == 1
}

// loginOnFlow starts a browser session for user and records the login on
// the flow. It returns the session and the cookie value that names it.
func (p *Provider) loginOnFlow(ctx context.Context, f *storage.AuthFlow, user *storage.User, amr []string) (*storage.BrowserSession, string, error) {
	cookie, err := randomToken(32)
	if err != nil {
		return nil, "", err
	}
	now := p.now().Truncate(time.Second)
	bs := &storage.BrowserSession{
		ID: hashID(cookie), UserID: user.ID, AuthTime: now, AMR: amr,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(p.Config.BrowserSessionLifespan),
	}
	prev := f.SessionID
	err = storage.InTx(ctx, p.Store, func(ctx context.Context) error {
		if err := p.Store.CreateBrowserSession(ctx, bs); err != nil {
			return fmt.Errorf("create browser session: %w", err)
		}
		if err := p.replaceSession(ctx, prev, bs); err != nil {
			return err
		}
		f.Subject, f.SessionID, f.AuthTime = user.ID, bs.ID, &now
		if err := p.Store.UpdateAuthFlow(ctx, f); err != nil {
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
func (p *Provider) BrowserSession(ctx context.Context, cookie string) (*storage.BrowserSession, error) {
	if cookie == "" || len(cookie) > 128 {
		return nil, nil
	}
	bs, err := p.Store.GetBrowserSession(ctx, hashID(cookie))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get browser session: %w", err)
	}
	return p.liveSession(ctx, bs)
}

// SaveConsent remembers that the flow's user granted the flow's scopes.
func (p *Provider) SaveConsent(ctx context.Context, fl *Flow) error {
	f := fl.rec
	scopes := fl.Scopes()
	old, err := p.Store.GetConsent(ctx, f.Subject, f.ClientID)
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
	return p.Store.SaveConsent(ctx, &storage.Consent{UserID: f.Subject, ClientID: f.ClientID, Scopes: scopes, GrantedAt: p.now()})
}

// finishFlow consumes the flow (single use) and answers the original
// authorization request: fosite re-validates the stored parameters and issues
// the code (and ID token for hybrid requests) for the client's redirect URI.
// Only the browser that started the flow (binding) can finish it. r is the
// browser's request, the base of the re-validated one. An error is either
// about the flow (ErrFlowNotFound, ErrFlowOtherBrowser, storage) or an
// *UnredirectableError to show as a page.
func (p *Provider) finishFlow(ctx context.Context, r *http.Request, challenge, binding string) (*AuthorizeResponse, error) {
	f, err := p.OpenFlow(ctx, challenge, binding)
	if err != nil {
		return nil, err
	}
	return p.Finish(ctx, r, f)
}

// Finish is finishFlow for a flow this request opened (OpenFlow checked its
// browser binding, which never changes).
func (p *Provider) Finish(ctx context.Context, r *http.Request, f *Flow) (*AuthorizeResponse, error) {
	return p.finish(ctx, r, f, nil)
}

// finish consumes the open flow f and issues its response. login is the
// login this request completed on f, whose user and session need not be
// read again; nil otherwise.
func (p *Provider) finish(ctx context.Context, r *http.Request, f *Flow, login *LoginResult) (*AuthorizeResponse, error) {
	rec, err := p.consume(ctx, f)
	if err != nil {
		return nil, err
	}
	if rec.Subject == "" || rec.AuthTime == nil {
		return nil, ErrFlowNotFound
	}
	// the stored parameters never change: f.form is the consumed row's
	ar, err := p.OAuth2.NewAuthorizeRequest(ctx, syntheticAuthorizeRequest(r, f.form))
	if err != nil {
		return p.authorizeError(ctx, ar, err)
	}
	var user *storage.User
	bs := &storage.BrowserSession{ID: rec.SessionID, UserID: rec.Subject, AuthTime: *rec.AuthTime}
	switch {
	case login != nil && login.session != nil && login.session.ID == rec.SessionID:
		bs, user = login.session, login.user
	default:
		if live, err := p.Store.GetBrowserSession(ctx, rec.SessionID); err == nil {
			bs = live
		}
	}
	return p.issue(ctx, ar, bs, user, rec.CreatedAt)
}

// consume consumes the open flow f (single use): ErrFlowNotFound if
// another request consumed it first.
func (p *Provider) consume(ctx context.Context, f *Flow) (*storage.AuthFlow, error) {
	rec, err := p.Store.ConsumeAuthFlow(ctx, f.rec.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrFlowNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("consume flow: %w", err)
	}
	return rec, nil
}

// Issue answers a fully authorized request: it grants what the grant
// policy allows (grantAuthorized), builds the session (ID token claims from
// the user record) and returns the authorization response with iss
// (RFC 9207). Failures come back as the error's AuthorizeResponse or an
// *UnredirectableError (authorizeError).
func (p *Provider) Issue(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, requestedAt time.Time) (*AuthorizeResponse, error) {
	return p.issue(ctx, ar, bs, nil, requestedAt)
}

// issue is Issue with the session's user when the caller has it (nil: it
// is read).
func (p *Provider) issue(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, user *storage.User, requestedAt time.Time) (*AuthorizeResponse, error) {
	if !redirectAllowed(ar) {
		// e.g. the URI was unregistered while the user logged in
		return p.authorizeError(ctx, ar, errRedirectNotRegistered())
	}
	if user == nil {
		u, err := p.Store.GetUser(ctx, bs.UserID)
		if err != nil {
			return p.authorizeError(ctx, ar, MapError(fosite.ErrServerError.WithWrap(err).WithDebug("user lookup failed")))
		}
		user = u
	}
	if err := p.authorizeAudience(ar); err != nil {
		return p.authorizeError(ctx, ar, err)
	}
	grantRequested(ar, ar.GetRequestedAudience())
	client, _ := ar.GetClient().(*Client)
	if err := p.recordSessionClient(ctx, bs, client.GetID()); err != nil {
		return p.authorizeError(ctx, ar, MapError(fosite.ErrServerError.WithWrap(err).WithDebug("recording the session's client failed")))
	}
	sess := p.newUserSession(client, user, bs, requestedAt, ar.GetGrantedScopes())
	resp, err := p.OAuth2.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		return p.authorizeError(ctx, ar, err)
	}
	resp.AddParameter("iss", p.Config.Issuer)
	return authorizeSuccess(ar, resp)
}

// SessionSID derives the OIDC sid claim from a browser session id: stable per
// session, and not the cookie value nor the stored key.
func (p *Provider) SessionSID(sessionID string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte("sid:" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// newUserSession builds the session of a grant to user.
func (p *Provider) newUserSession(client *Client, user *storage.User, bs *storage.BrowserSession, requestedAt time.Time, scopes fosite.Arguments) *Session {
	claims := UserClaims(user, scopes)
	s := NewSession()
	s.Subject = user.ID
	s.Username = user.Username
	s.ClientID = client.GetID()
	s.UserClaims = claims
	extra := map[string]any{"sid": p.SessionSID(bs.ID)}
	for k, v := range claims {
		extra[k] = v
	}
	s.Claims = &jwt.IDTokenClaims{
		Issuer:   p.Config.Issuer,
		Subject:  user.ID,
		AuthTime: bs.AuthTime,
		// Whole seconds, like auth_time: fosite compares the two for
		// prompt=login/none, and a login in the same second as the request
		// would otherwise look older than it.
		RequestedAt:                         requestedAt.UTC().Truncate(time.Second),
		AuthenticationMethodsReferences:     bs.AMR,
		AuthenticationContextClassReference: ACRFor(bs.AMR),
		Extra:                               extra,
	}
	alg := client.IDTokenAlg()
	if alg == "" {
		alg = p.Config.IDTokenAlgs[0]
	}
	s.Headers = &jwt.Headers{Extra: map[string]any{"alg": alg}}
	return s
}

// UserClaims returns the standard claims the granted scopes release (OIDC
// Core §5.4).
func UserClaims(u *storage.User, scopes fosite.Arguments) map[string]any {
	c := map[string]any{}
	if scopes.Has("profile") {
		c["preferred_username"] = u.Username
		if u.Name != "" {
			c["name"] = u.Name
		}
		if u.GivenName != "" {
			c["given_name"] = u.GivenName
		}
		if u.FamilyName != "" {
			c["family_name"] = u.FamilyName
		}
		c["updated_at"] = u.UpdatedAt.Unix()
	}
	if scopes.Has("email") && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	return c
}

// CSRFToken binds a form to a browser (the CSRF cookie value) and to one flow.
func (p *Provider) CSRFToken(cookie, challenge string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte("csrf:" + cookie + ":" + challenge))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF verifies a submitted CSRF token in constant time.
func (p *Provider) CheckCSRF(cookie, challenge, token string) bool {
	if cookie == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(p.CSRFToken(cookie, challenge)), []byte(token))
}

func urlParse(b []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, fmt.Errorf("stored flow form: %w", err)
	}
	return form, nil
}
