// Package webapp is the integrator guide's web application: a confidential
// client that signs its users in with the authorization code flow, PKCE and
// a pushed authorization request (RFC 9126), using golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3. x/oauth2 has no PAR support, so Push does
// that one request by hand.
package webapp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is what the app needs to know about itself and its server.
type Config struct {
	Issuer       string // e.g. https://login.example.com
	ClientID     string
	ClientSecret string
	RedirectURL  string // e.g. https://app.example.com/callback
	// HTTPClient, when set, is used for every call to the server.
	HTTPClient *http.Client
}

// App is the web application: GET /login starts a sign-in, GET /callback
// finishes it and shows who signed in.
type App struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	parURL   string
	issuer   string
	client   *http.Client

	mu      sync.Mutex
	pending map[string]pendingLogin // by state; a real app keeps this in its session store
}

// pendingLogin is what the app remembers between /login and /callback.
type pendingLogin struct {
	codeVerifier string
	nonce        string
	expires      time.Time
}

// New discovers the server's endpoints (OpenID Connect Discovery) and
// returns the app.
func New(ctx context.Context, cfg Config) (*App, error) {
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	ctx = oidc.ClientContext(ctx, client)
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		PAR string `json:"pushed_authorization_request_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil || meta.PAR == "" {
		return nil, fmt.Errorf("discover %s: no pushed_authorization_request_endpoint", cfg.Issuer)
	}
	return &App{
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		parURL:   meta.PAR,
		issuer:   cfg.Issuer,
		client:   client,
		pending:  map[string]pendingLogin{},
	}, nil
}

// Handler serves /login and /callback.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	return mux
}

// login pushes the authorization request and sends the browser to the
// server with only client_id and the request_uri it got back.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, codeVerifier := random(), random(), oauth2.GenerateVerifier()
	// AuthCodeURL builds the parameters; Push sends them in the back channel.
	authURL, _ := url.Parse(a.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(codeVerifier), oidc.Nonce(nonce)))
	requestURI, err := Push(r.Context(), a.client, a.parURL, a.oauth.ClientID, a.oauth.ClientSecret, authURL.Query())
	if err != nil {
		http.Error(w, "sign-in is unavailable, try again", http.StatusBadGateway)
		return
	}
	a.mu.Lock()
	a.pending[state] = pendingLogin{codeVerifier: codeVerifier, nonce: nonce, expires: time.Now().Add(10 * time.Minute)}
	a.mu.Unlock()
	// The state also goes into a cookie so the callback is bound to this browser.
	http.SetCookie(w, &http.Cookie{Name: "login_state", Value: state, Path: "/callback", HttpOnly: true, // #nosec G124 -- Secure whenever the app is served over TLS; HttpOnly and SameSite=Lax always
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	q := url.Values{"client_id": {a.oauth.ClientID}, "request_uri": {requestURI}}
	http.Redirect(w, r, a.oauth.Endpoint.AuthURL+"?"+q.Encode(), http.StatusFound)
}

// callback checks state and iss (RFC 9207), redeems the code with the PKCE
// verifier and verifies the ID token and its nonce.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cookie, err := r.Cookie("login_state")
	if err != nil || q.Get("state") == "" || cookie.Value != q.Get("state") {
		http.Error(w, "this sign-in did not start in this browser", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	p, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	if !ok || time.Now().After(p.expires) {
		http.Error(w, "sign-in expired, start again", http.StatusBadRequest)
		return
	}
	if q.Get("iss") != a.issuer {
		http.Error(w, "response from an unexpected issuer", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		http.Error(w, "sign-in refused: "+e, http.StatusForbidden)
		return
	}
	ctx := oidc.ClientContext(r.Context(), a.client)
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.codeVerifier))
	if err != nil {
		http.Error(w, "could not redeem the code", http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idToken, err := a.verifier.Verify(ctx, raw)
	if err != nil || idToken.Nonce != p.nonce {
		http.Error(w, "invalid ID token", http.StatusBadGateway)
		return
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	_ = idToken.Claims(&claims)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, map[string]string{"Subject": idToken.Subject, "Name": claims.Name, "Email": claims.Email})
}

var page = template.Must(template.New("signed-in").Parse(
	`<!doctype html><title>Signed in</title><p>Signed in as <b id="name">{{.Name}}</b> ` +
		`(<span id="email">{{.Email}}</span>, subject <code id="sub">{{.Subject}}</code>)</p>`))

// Push sends an authorization request's parameters to the pushed
// authorization request endpoint (RFC 9126), authenticating with
// client_secret_basic, and returns the request_uri to send the browser with.
func Push(ctx context.Context, client *http.Client, parURL, clientID, clientSecret string, params url.Values) (string, error) {
	form := url.Values{}
	for k, v := range params {
		if k != "client_id" { // sent in the Authorization header
			form[k] = v
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, parURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("push authorization request: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		RequestURI  string `json:"request_uri"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("push authorization request: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusCreated || body.RequestURI == "" {
		return "", errors.New("push authorization request: " + resp.Status + " " + body.Error + ": " + body.Description)
	}
	return body.RequestURI, nil
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
