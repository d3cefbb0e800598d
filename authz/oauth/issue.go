package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/grant"
	"github.com/strongroom/strongroom/storage"
)

const parPrefix = "urn:ietf:params:oauth:request_uri:"

// checkAuthorizePolicy applies Strongroom's rules on top of fosite's
// validation of an authorization request:
//   - a FAPI 2.0 client follows the profile (checkFAPI2Authorize);
//   - a client registered with "PAR required" must use a pushed request
//     (pushed is true at the PAR endpoint itself);
//   - only public (native) clients get RFC 8252 loopback port flexibility:
//     everyone else's redirect_uri must match a registered one exactly.
func (p *core) checkAuthorizePolicy(ctx context.Context, ar fosite.AuthorizeRequester, pushed bool) error {
	c, ok := ar.GetClient().(*authz.Client)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	if c.Registration().Metadata.IsFAPI2() {
		if err := checkFAPI2Authorize(ar, pushed); err != nil {
			return err
		}
	}
	if c.Registration().RequirePAR && !pushed && !strings.HasPrefix(ar.GetRequestForm().Get("request_uri"), parPrefix) {
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
	// FAPI 2.0 Message Signing: signed responses (JARM)
	if err := checkJARMRequired(ar); err != nil {
		return err
	}
	// RFC 9449 §10 dpop_jkt: its form is checked before the login page
	if err := checkDPoPJKT(form); err != nil {
		return err
	}
	// RFC 9396 authorization_details: validated (and made canonical) before the login page
	if _, err := p.checkAuthorizationDetails(ctx, ar); err != nil {
		return err
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

// Issue answers a fully authorized request: it grants what the grant
// policy allows (grant.Requested), records the client on the browser session
// bs (back-channel logout), builds the session (ID token claims from the
// user record) and returns the authorization response with iss (RFC 9207).
// user is the session's user when the caller has it (nil: it is read).
// Failures come back as the error's AuthorizeResponse or an
// *UnredirectableError (AuthorizeError).
func (p *Authorizer) Issue(ctx context.Context, ar fosite.AuthorizeRequester, bs *storage.BrowserSession, user *storage.User, requestedAt time.Time) (*authz.AuthorizeResponse, error) {
	if !redirectAllowed(ar) {
		// e.g. the URI was unregistered while the user logged in
		return p.AuthorizeError(ctx, ar, errRedirectNotRegistered())
	}
	if user == nil {
		u, err := p.store.GetUser(ctx, bs.UserID)
		if err != nil {
			return p.AuthorizeError(ctx, ar, authz.MapError(fosite.ErrServerError.WithWrap(err).WithDebug("user lookup failed")))
		}
		user = u
	}
	if err := p.authorizeAudience(ar); err != nil {
		return p.AuthorizeError(ctx, ar, err)
	}
	// the client's types or the registry may have changed while the user logged in
	details, err := p.checkAuthorizationDetails(ctx, ar)
	if err != nil {
		return p.AuthorizeError(ctx, ar, err)
	}
	grant.Requested(ar, ar.GetRequestedAudience())
	client, _ := ar.GetClient().(*authz.Client)
	if err := p.sessions.RecordClient(ctx, bs, client.GetID()); err != nil {
		return p.AuthorizeError(ctx, ar, authz.MapError(fosite.ErrServerError.WithWrap(err).WithDebug("recording the session's client failed")))
	}
	sess := p.newUserSession(client, user, bs, requestedAt, ar.GetGrantedScopes())
	sess.CodeJKT = ar.GetRequestForm().Get("dpop_jkt") // RFC 9449 §10: the code is bound to it
	sess.AuthorizationDetails = details.JSON()         // RFC 9396: the grant's details
	resp, err := p.provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		return p.AuthorizeError(ctx, ar, err)
	}
	resp.AddParameter("iss", p.cfg.Issuer)
	if isJARM(ar.GetResponseMode()) {
		header := http.Header{}
		for k := range resp.GetHeader() {
			header.Set(k, resp.GetHeader().Get(k))
		}
		header.Set("Cache-Control", "no-store")
		header.Set("Pragma", "no-cache")
		return p.jarmAnswer(ctx, ar, resp.GetParameters(), header)
	}
	return authorizeSuccess(ar, resp)
}

// SessionSID derives the OIDC sid claim from a browser session id: stable per
// session, and not the cookie value nor the stored key.
func (p *Authorizer) SessionSID(sessionID string) string { return p.sessionSID(sessionID) }

func (p *core) sessionSID(sessionID string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte("sid:" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// newUserSession builds the session of a grant to user.
func (p *core) newUserSession(client *authz.Client, user *storage.User, bs *storage.BrowserSession, requestedAt time.Time, scopes fosite.Arguments) *authz.Session {
	claims := UserClaims(user, scopes)
	s := authz.NewSession()
	s.Subject = user.ID
	s.Username = user.Username
	s.ClientID = client.GetID()
	s.UserClaims = claims
	extra := map[string]any{"sid": p.sessionSID(bs.ID)}
	for k, v := range claims {
		extra[k] = v
	}
	s.Claims = &jwt.IDTokenClaims{
		Issuer:   p.cfg.Issuer,
		Subject:  user.ID,
		AuthTime: bs.AuthTime,
		// Whole seconds, like auth_time: fosite compares the two for
		// prompt=login/none, and a login in the same second as the request
		// would otherwise look older than it.
		RequestedAt:                         requestedAt.UTC().Truncate(time.Second),
		AuthenticationMethodsReferences:     bs.AMR,
		AuthenticationContextClassReference: authz.ACRFor(bs.AMR),
		Extra:                               extra,
	}
	alg := client.IDTokenAlg()
	if alg == "" {
		alg = p.cfg.IDTokenAlgs[0]
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
	if scopes.Has("phone") && u.PhoneNumber != "" {
		c["phone_number"] = u.PhoneNumber
		c["phone_number_verified"] = u.PhoneNumberVerified
	}
	return c
}

// CheckAuthorizePolicy applies Strongroom's rules on top of fosite's
// validation of an authorization request (checkAuthorizePolicy); pushed is
// true at the PAR endpoint.
func (p *Authorizer) CheckAuthorizePolicy(ctx context.Context, ar fosite.AuthorizeRequester, pushed bool) error {
	return p.checkAuthorizePolicy(ctx, ar, pushed)
}

// authorizeAudience decides the audience of an authorization request: the
// requested targets, which the client must be registered for, or its
// default audience. The result becomes the request's requested audience,
// which Issue grants and the code carries.
func (p *core) authorizeAudience(ar fosite.AuthorizeRequester) error {
	targets, err := grant.RequestedTargets(ar.GetRequestForm())
	if err != nil {
		return err
	}
	if err := grant.ExactAudience(p.cfg.Issuer)(ar.GetClient().GetAudience(), targets); err != nil {
		return err
	}
	if len(targets) == 0 {
		targets = grant.DefaultAudience(ar.GetClient())
	}
	ar.SetRequestedAudience(targets)
	return nil
}
