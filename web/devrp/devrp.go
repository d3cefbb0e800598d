// Package devrp is the dev server's built-in demo relying party: a small
// confidential client, mounted under /demo on the dev server only, that
// runs the authorization code flow with PKCE against the server it lives in
// and shows what a real app gets back: the decoded ID token, the access
// token and what introspection says of it, userinfo, and a refresh button.
// It exists so that `make run` ends in a page that explains itself instead
// of a code in the address bar of a callback where nothing listens.
//
// It is a client like any other: it talks to the server over HTTP through
// the issuer URL, with golang.org/x/oauth2 and github.com/coreos/go-oidc/v3.
package devrp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz"
)

// Paths of the demo relying party.
const (
	PathHome     = "/demo"
	PathLogin    = "/demo/login"
	PathCallback = "/demo/callback"
	PathRefresh  = "/demo/refresh"
)

// csp allows the server's stylesheet and same-origin forms only.
const csp = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed page.html
var files embed.FS

var page = template.Must(template.ParseFS(files, "page.html"))

// RP is the demo relying party. Its client is set by Configure once the
// dev server has seeded it; until then its pages say so.
type RP struct {
	issuer string
	client *http.Client
	log    *slog.Logger

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	sessions map[string]*session // by cookie value; dev only, never persisted
}

// session is one browser's state: the sign-in in progress and its tokens.
type session struct {
	csrf, state, nonce, codeVerifier string
	token                            *oauth2.Token
	created                          time.Time
}

// New returns a demo relying party of the server at issuer.
func New(issuer string, log *slog.Logger) *RP {
	return &RP{issuer: strings.TrimSuffix(issuer, "/"), client: &http.Client{Timeout: 10 * time.Second}, log: log,
		sessions: map[string]*session{}}
}

// CallbackURL is the redirect URI the demo client must register.
func (rp *RP) CallbackURL() string { return rp.issuer + PathCallback }

// HomeURL is the page the dev banner links to.
func (rp *RP) HomeURL() string { return rp.issuer + PathHome }

// Configure sets the demo client's credentials.
func (rp *RP) Configure(clientID, clientSecret string, scopes []string) {
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), rp.client), rp.issuer+authz.PathJWKS)
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.oauth = &oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: rp.CallbackURL(), Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: rp.issuer + authz.PathAuthorize, TokenURL: rp.issuer + authz.PathToken,
			AuthStyle: oauth2.AuthStyleInHeader},
	}
	rp.verifier = oidc.NewVerifier(rp.issuer, keys, &oidc.Config{ClientID: clientID})
}

// Mount registers the demo pages on e (api.Frontend).
func (rp *RP) Mount(e *echo.Echo) {
	e.GET(PathHome, echo.WrapHandler(http.HandlerFunc(rp.home)))
	e.GET(PathLogin, echo.WrapHandler(http.HandlerFunc(rp.login)))
	e.GET(PathCallback, echo.WrapHandler(http.HandlerFunc(rp.callback)))
	e.POST(PathRefresh, echo.WrapHandler(http.HandlerFunc(rp.refresh)))
}

// view is what page.html shows.
type view struct {
	Configured                              bool
	Error                                   string
	CSRF                                    string
	IDTokenHeader, IDTokenClaims, Userinfo  string
	AccessToken, Introspection, TokenExpiry string
	RefreshToken                            string
	Subject, Name                           string
	Refreshed                               bool
}

func (rp *RP) config() (*oauth2.Config, *oidc.IDTokenVerifier) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.oauth, rp.verifier
}

func (rp *RP) render(w http.ResponseWriter, status int, v view) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		rp.log.Error("demo page", "err", err)
	}
}

func (rp *RP) home(w http.ResponseWriter, r *http.Request) {
	cfg, _ := rp.config()
	rp.render(w, http.StatusOK, view{Configured: cfg != nil})
}

// login starts a sign-in: fresh state, nonce and PKCE verifier, kept in a
// session named by an HttpOnly cookie.
func (rp *RP) login(w http.ResponseWriter, r *http.Request) {
	cfg, _ := rp.config()
	if cfg == nil {
		rp.render(w, http.StatusServiceUnavailable, view{Error: "the demo client is not set up yet"})
		return
	}
	s := &session{csrf: random(), state: random(), nonce: random(), codeVerifier: oauth2.GenerateVerifier(), created: time.Now()}
	id := random()
	rp.mu.Lock()
	rp.sweep()
	rp.sessions[id] = s
	rp.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "demo_rp", Value: id, Path: PathHome, HttpOnly: true, SameSite: http.SameSiteLaxMode}) // #nosec G124 -- the demo app exists only on the plain-HTTP loopback dev server
	http.Redirect(w, r, cfg.AuthCodeURL(s.state, oauth2.S256ChallengeOption(s.codeVerifier), oidc.Nonce(s.nonce)), http.StatusFound)
}

// maxSessions bounds the demo app's sessions: every GET /demo/login makes
// one, so a loop of them must not grow the dev server's memory without end.
const maxSessions = 1000

// sweep drops sessions older than a day and, when maxSessions are held,
// the oldest, so that a new one fits (caller holds mu).
func (rp *RP) sweep() {
	var oldestID string
	var oldest time.Time
	for id, s := range rp.sessions {
		if time.Since(s.created) > 24*time.Hour {
			delete(rp.sessions, id)
			continue
		}
		if oldestID == "" || s.created.Before(oldest) {
			oldestID, oldest = id, s.created
		}
	}
	if len(rp.sessions) >= maxSessions {
		delete(rp.sessions, oldestID)
	}
}

func (rp *RP) session(r *http.Request) *session {
	c, err := r.Cookie("demo_rp")
	if err != nil {
		return nil
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.sessions[c.Value]
}

// takeState returns the browser's session and whether state is the one its
// sign-in started with; a state is used once.
func (rp *RP) takeState(r *http.Request, state string) (*session, bool) {
	c, err := r.Cookie("demo_rp")
	if err != nil {
		return nil, false
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	s := rp.sessions[c.Value]
	if s == nil || s.state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(s.state)) != 1 {
		return s, false
	}
	s.state = ""
	return s, true
}

// callback checks state and iss, redeems the code with the verifier and
// shows the result.
func (rp *RP) callback(w http.ResponseWriter, r *http.Request) {
	cfg, verifier := rp.config()
	q := r.URL.Query()
	s, stateOK := rp.takeState(r, q.Get("state"))
	switch {
	case cfg == nil:
		rp.render(w, http.StatusServiceUnavailable, view{Error: "the demo client is not set up yet"})
		return
	case !stateOK:
		rp.render(w, http.StatusBadRequest, view{Configured: true, Error: "this sign-in did not start in this browser: start again"})
		return
	case q.Get("iss") != rp.issuer:
		rp.render(w, http.StatusBadRequest, view{Configured: true, Error: "the response names another issuer (RFC 9207): " + q.Get("iss")})
		return
	case q.Get("error") != "":
		rp.render(w, http.StatusOK, view{Configured: true, Error: "the server answered " + q.Get("error") + ": " + q.Get("error_description")})
		return
	}
	ctx := oidc.ClientContext(r.Context(), rp.client)
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(s.codeVerifier))
	if err != nil {
		rp.render(w, http.StatusBadGateway, view{Configured: true, Error: "the token endpoint refused the code: " + err.Error()})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := verifier.Verify(ctx, raw)
	if err != nil || id.Nonce != s.nonce {
		rp.render(w, http.StatusBadGateway, view{Configured: true, Error: "the ID token did not verify"})
		return
	}
	rp.mu.Lock()
	s.token = tok
	rp.mu.Unlock()
	rp.show(w, r, s, tok, false)
}

// refresh redeems the session's refresh token (rotation: the old one dies).
func (rp *RP) refresh(w http.ResponseWriter, r *http.Request) {
	cfg, _ := rp.config()
	s := rp.session(r)
	var old oauth2.Token
	rp.mu.Lock()
	ok := s != nil && s.token != nil && s.token.RefreshToken != "" &&
		subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) == 1
	if ok {
		old = *s.token
	}
	rp.mu.Unlock()
	if cfg == nil || !ok {
		rp.render(w, http.StatusBadRequest, view{Configured: cfg != nil, Error: "nothing to refresh in this browser: sign in first"})
		return
	}
	old.Expiry = time.Unix(1, 0) // force the refresh
	ctx := oidc.ClientContext(r.Context(), rp.client)
	tok, err := cfg.TokenSource(ctx, &old).Token()
	if err != nil {
		rp.render(w, http.StatusBadGateway, view{Configured: true, Error: "the refresh was refused: " + err.Error()})
		return
	}
	rp.mu.Lock()
	s.token = tok
	rp.mu.Unlock()
	rp.show(w, r, s, tok, true)
}

// show renders the tokens: the ID token decoded, the access token with the
// server's introspection answer, and userinfo.
func (rp *RP) show(w http.ResponseWriter, r *http.Request, s *session, tok *oauth2.Token, refreshed bool) {
	cfg, _ := rp.config()
	v := view{Configured: true, CSRF: s.csrf, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		TokenExpiry: tok.Expiry.UTC().Format(time.RFC3339), Refreshed: refreshed}
	if raw, ok := tok.Extra("id_token").(string); ok {
		parts := strings.Split(raw, ".")
		if len(parts) == 3 {
			v.IDTokenHeader, v.IDTokenClaims = decodeSegment(parts[0]), decodeSegment(parts[1])
			var c struct{ Sub, Name string }
			_ = json.Unmarshal([]byte(v.IDTokenClaims), &c)
			v.Subject, v.Name = c.Sub, c.Name
		}
	}
	v.Userinfo = rp.call(r.Context(), http.MethodGet, rp.issuer+authz.PathUserinfo, nil, "Bearer "+tok.AccessToken)
	form := url.Values{"token": {tok.AccessToken}}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(cfg.ClientID)+":"+url.QueryEscape(cfg.ClientSecret)))
	v.Introspection = rp.call(r.Context(), http.MethodPost, rp.issuer+authz.PathIntrospect, form, basic)
	rp.render(w, http.StatusOK, v)
}

// call makes one request to the server and returns its JSON answer indented.
func (rp *RP) call(ctx context.Context, method, u string, form url.Values, auth string) string {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err.Error()
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", auth)
	resp, err := rp.client.Do(req)
	if err != nil {
		return "request failed: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return indent(b)
}

func decodeSegment(seg string) string {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return "(not base64url)"
	}
	return indent(b)
}

func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
