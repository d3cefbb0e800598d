package logout

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/storage"
)

// Sessions is what logout needs of the browser flow (login.Service
// implements it): the session a cookie names.
type Sessions interface {
	BrowserSession(ctx context.Context, cookie string) (*storage.BrowserSession, error)
}

// Service answers RP-initiated logout (OIDC RP-Initiated Logout 1.0):
// Plan and Confirm validate a request, End ends the session.
type Service struct {
	Sessions Sessions
	// CSRF binds the confirmation form to the browser and the session.
	CSRF *login.CSRF
	// Manager ends the session.
	Manager *authz.SessionManager
	// SID derives a session's sid claim (oauth.Authorizer.SessionSID).
	SID     func(sessionID string) string
	Clients *authz.ClientCache
	// Keys verifies id_token_hint signatures with the server's keys.
	Keys authz.KeySource
	// Issuer must be an id_token_hint's iss; IDTokenAlg picks the verifier.
	Issuer, IDTokenAlg string
}

// Caps on logout parameters: anything longer is refused before any work.
const (
	maxIDTokenHintLen = 8 << 10
	maxLogoutParamLen = 2 << 10
)

// Request holds the parameters of an RP-Initiated Logout request
// (OIDC RP-Initiated Logout 1.0 §2). logout_hint and ui_locales are optional
// hints the server does not use.
type Request struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// Error is a logout request the end-session endpoint refuses. It is
// shown to the user on an error page and never redirected: the redirect
// target cannot be trusted (§3), and nothing is changed.
type Error struct{ Description string }

// Error implements error.
func (e *Error) Error() string { return "invalid logout request: " + e.Description }

func logoutErr(desc string) error { return &Error{Description: desc} }

// Plan is what the end-session endpoint does with a valid request.
type Plan struct {
	// Client is the relying party named by client_id or by the hint's aud;
	// nil when none is named (or it no longer exists).
	Client *authz.Client
	// RedirectURI is the post_logout_redirect_uri, exactly one the client
	// registered; empty means "show the logged-out page".
	RedirectURI string
	// State is echoed to RedirectURI (§3).
	State string
	// session is the browser session to end; nil when the browser has none.
	session *storage.BrowserSession
	// Confirm is set when the request cannot be tied to the session's user:
	// no id_token_hint, or one issued for another user or another session.
	// The user must then confirm, with a CSRF-protected POST (§2: "the OP MUST
	// ask the End-User" in that case), so that a third-party page cannot log
	// the user out.
	Confirm bool
}

// ClientName is the relying party's display name, or "" when none is known.
func (lp *Plan) ClientName() string {
	if lp.Client == nil {
		return ""
	}
	if n := lp.Client.Registration().Name; n != "" {
		return n
	}
	return lp.Client.GetID()
}

// RedirectURL is where the browser goes once the request is answered: the
// registered post_logout_redirect_uri with state added, or "" for the
// logged-out page.
func (lp *Plan) RedirectURL() string {
	if lp.RedirectURI == "" {
		return ""
	}
	u, err := url.Parse(lp.RedirectURI)
	if err != nil {
		return "" // registered URIs parse (clients create checks them)
	}
	if lp.State != "" {
		q := u.Query()
		q.Set("state", lp.State)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ErrForm is a logout confirmation whose CSRF token does not match the
// browser and the session it would end (Confirm).
var ErrForm = errors.New("the logout form expired or was tampered with")

// Plan validates an RP-Initiated Logout request against the browser
// session its cookie names ("" or an unknown one: none). It changes
// nothing; call End to act.
func (s *Service) Plan(ctx context.Context, req Request, sessionCookie string) (*Plan, error) {
	bs, err := s.Sessions.BrowserSession(ctx, sessionCookie)
	if err != nil {
		return nil, err
	}
	return s.plan(ctx, req, bs)
}

// Confirm validates the answer to the logout confirmation page: the
// form's CSRF token must be bound to this browser (csrfCookie) and to the
// session it ends (ErrForm otherwise), then its parameters are
// validated again, as if the client had sent them (Plan).
func (s *Service) Confirm(ctx context.Context, req Request, sessionCookie, csrfCookie, token string) (*Plan, error) {
	bs, err := s.Sessions.BrowserSession(ctx, sessionCookie)
	if err != nil {
		return nil, err
	}
	if bs != nil && !s.checkCSRF(csrfCookie, bs, token) {
		return nil, ErrForm
	}
	return s.plan(ctx, req, bs)
}

// plan validates an RP-Initiated Logout request against the browser's
// session bs (nil when it has none).
//
//   - id_token_hint must be an ID token this server signed (checked with its
//     published keys); an expired one is accepted (§2: the RP may well send
//     one), one with a bad signature, a foreign issuer or another token type
//     is refused.
//   - client_id, when given with a hint, must be one of the hint's audiences.
//   - post_logout_redirect_uri must exactly match one the client registered,
//     and needs the client to be known (client_id or the hint's aud); if not,
//     the request is refused with a page, never redirected.
func (s *Service) plan(ctx context.Context, req Request, bs *storage.BrowserSession) (*Plan, error) {
	switch {
	case len(req.IDTokenHint) > maxIDTokenHintLen:
		return nil, logoutErr("The id_token_hint is too long.")
	case len(req.ClientID) > maxLogoutParamLen, len(req.PostLogoutRedirectURI) > maxLogoutParamLen, len(req.State) > maxLogoutParamLen:
		return nil, logoutErr("A logout parameter is too long.")
	}
	plan := &Plan{State: req.State, session: bs}
	var hint *idTokenHint
	if req.IDTokenHint != "" {
		h, err := s.parseIDTokenHint(ctx, req.IDTokenHint)
		if err != nil {
			return nil, err
		}
		hint = h
	}
	clientID, fromHint := req.ClientID, false
	if hint != nil {
		switch {
		case clientID != "" && !slices.Contains(hint.aud, clientID):
			return nil, logoutErr("The id_token_hint was not issued to this client_id.")
		case clientID == "" && len(hint.aud) == 1:
			clientID, fromHint = hint.aud[0], true
		case clientID == "" && hint.azp != "":
			clientID, fromHint = hint.azp, true
		}
	}
	if clientID != "" {
		c, err := s.Clients.Get(ctx, clientID)
		switch {
		case errors.Is(err, storage.ErrNotFound) && fromHint:
			// the client that received the ID token is gone: log out without redirect
		case errors.Is(err, storage.ErrNotFound):
			return nil, logoutErr("The client_id is unknown.")
		case err != nil:
			return nil, fmt.Errorf("get logout client: %w", err)
		default:
			plan.Client = c
		}
	}
	if req.PostLogoutRedirectURI != "" {
		if plan.Client == nil {
			return nil, logoutErr("A post_logout_redirect_uri needs a client_id or an id_token_hint that names the client.")
		}
		if !slices.Contains(plan.Client.Registration().PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
			return nil, logoutErr("The post_logout_redirect_uri is not registered for this client.")
		}
		plan.RedirectURI = req.PostLogoutRedirectURI
	}
	if bs != nil {
		plan.Confirm = hint == nil || hint.sub != bs.UserID || hint.sid != "" && hint.sid != s.SID(bs.ID)
	}
	return plan, nil
}

// Logout ends the plan's browser session, if any: it is deleted and its
// clients' back-channel logout tokens are queued. A session that already
// ended is not an error.
func (s *Service) End(ctx context.Context, plan *Plan) error {
	if plan.session == nil {
		return nil
	}
	bs := plan.session
	err := s.Manager.EndSession(ctx, bs.UserID, bs.ID, authz.UserActor(bs.UserID), "logout")
	if err != nil && !errors.Is(err, authz.ErrSessionNotFound) {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// CSRFToken binds the logout confirmation form of plan to the
// browser (its CSRF cookie) and to the session it ends.
func (s *Service) CSRFToken(csrfCookie string, plan *Plan) string {
	return s.CSRF.Token(csrfCookie, "logout:"+plan.session.ID)
}

// checkCSRF verifies a logout confirmation's CSRF token in constant time.
func (s *Service) checkCSRF(csrfCookie string, bs *storage.BrowserSession, token string) bool {
	return s.CSRF.Check(csrfCookie, "logout:"+bs.ID, token)
}

// idTokenHint is what Plan reads from a verified id_token_hint.
type idTokenHint struct {
	sub, sid, azp string
	aud           []string
}

// parseIDTokenHint verifies the hint's signature with the server's
// published keys and its issuer; expiry is ignored. Errors never quote the token.
func (s *Service) parseIDTokenHint(ctx context.Context, raw string) (*idTokenHint, error) {
	invalid := logoutErr("The id_token_hint is not a valid ID token issued by this server.")
	tok, err := s.Keys.Signer(s.IDTokenAlg).Decode(ctx, raw)
	if err != nil {
		var ve *jwt.ValidationError
		if !errors.As(err, &ve) || ve.Errors&^jwt.ValidationErrorExpired != 0 || tok == nil {
			return nil, invalid
		}
	}
	if typ, ok := tok.Header["typ"]; ok && typ != "JWT" {
		return nil, invalid // an access token (at+jwt) or a logout token is not an ID token
	}
	claims := tok.Claims
	if iss, _ := claims["iss"].(string); iss != s.Issuer {
		return nil, invalid
	}
	h := &idTokenHint{}
	h.sub, _ = claims["sub"].(string)
	h.sid, _ = claims["sid"].(string)
	h.azp, _ = claims["azp"].(string)
	switch aud := claims["aud"].(type) {
	case string:
		h.aud = []string{aud}
	case []any:
		for _, a := range aud {
			if s, ok := a.(string); ok {
				h.aud = append(h.aud, s)
			}
		}
	}
	if h.sub == "" || len(h.aud) == 0 {
		return nil, invalid
	}
	return h, nil
}

var _ Sessions = (*login.Service)(nil)
