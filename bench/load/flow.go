package load

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"

	"github.com/strongroom/strongroom/authz"
)

// FlowConfig describes the authorization-code flow against one server: a
// confidential client (client_secret_basic) with the authorization_code and
// refresh_token grants, and a pool of users who share one password.
type FlowConfig struct {
	// BaseURL is where the server listens, e.g. http://127.0.0.1:8080 (its
	// issuer when it serves on the issuer's address).
	BaseURL      string
	ClientID     string
	ClientSecret string
	RedirectURI  string
	// Scope is the space-separated scope requested, e.g. "openid offline_access".
	Scope     string
	Usernames []string
	Password  string
	// ForwardedFor, when set, makes each user's browser send X-Forwarded-For
	// with an address of its own (10.x.y.z), as browsers behind a reverse
	// proxy do: the server must list the driver as --trusted-proxy. Login
	// throttling per source address then sees many addresses, as in
	// production, instead of one address that makes every login.
	ForwardedFor bool
}

// Tokens is what one completed flow obtained.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	// Consented is set when the server asked for consent (the user's first
	// flow with the client); a remembered consent skips the page.
	Consented bool
}

// Flow runs the whole authorization-code flow through Strongroom's real
// pages, as a browser and a client application do: GET /oauth2/authorize (PKCE
// S256, state, nonce), the login page (its CSRF token and the flow-binding
// cookie, in a fresh cookie jar per flow), POST /login with the user's
// password (one argon2id verification), the consent page when the user has
// not consented to the client before (consent is remembered after that),
// the redirect to the client with the code, and POST /oauth2/token.
//
// Each flow takes a user from the pool and gives it back when done, so no
// two flows ever log in the same user at once (the login throttle answers
// parallel attempts on one account one at a time); the pool should hold at
// least as many users as connections.
type Flow struct {
	cfg   FlowConfig
	users chan int
}

// NewFlow checks cfg and returns a Flow.
func NewFlow(cfg FlowConfig) (*Flow, error) {
	switch {
	case cfg.BaseURL == "" || cfg.ClientID == "" || cfg.RedirectURI == "":
		return nil, errors.New("flow: base URL, client id and redirect URI are required")
	case len(cfg.Usernames) == 0:
		return nil, errors.New("flow: no users")
	}
	if _, err := url.Parse(cfg.RedirectURI); err != nil {
		return nil, fmt.Errorf("flow: redirect URI: %w", err)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	f := &Flow{cfg: cfg, users: make(chan int, len(cfg.Usernames))}
	for i := range cfg.Usernames {
		f.users <- i
	}
	return f, nil
}

// Op returns the flow as a load Op.
func (f *Flow) Op() Op {
	return func(ctx context.Context, hc *http.Client) error {
		_, err := f.Do(ctx, hc)
		return err
	}
}

// Do runs one flow with hc's transport (its connections are shared; the
// cookie jar is new) and returns the tokens obtained.
func (f *Flow) Do(ctx context.Context, hc *http.Client) (*Tokens, error) {
	var idx int
	select {
	case idx = <-f.users:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { f.users <- idx }()
	b, err := f.browser(hc, idx)
	if err != nil {
		return nil, err
	}
	verifier, challenge, err := pkce()
	if err != nil {
		return nil, err
	}
	state, nonce := randToken(), randToken()
	q := url.Values{
		"response_type": {"code"}, "client_id": {f.cfg.ClientID}, "redirect_uri": {f.cfg.RedirectURI},
		"scope": {f.cfg.Scope}, "state": {state}, "nonce": {nonce},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	if f.cfg.Scope == "" {
		q.Del("scope")
	}
	resp, body, err := b.do(ctx, http.MethodGet, f.cfg.BaseURL+authz.PathAuthorize+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		return nil, fmt.Errorf("authorize: expected the login page, got %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	form, err := formFields(body, "login_challenge")
	if err != nil {
		return nil, fmt.Errorf("login page: %w", err)
	}
	form.Set("username", f.cfg.Usernames[idx])
	form.Set("password", f.cfg.Password)
	resp, body, err = b.do(ctx, http.MethodPost, f.cfg.BaseURL+"/login", form)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	consented := false
	if resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/consent" {
		consented = true
		if form, err = formFields(body, "consent_challenge"); err != nil {
			return nil, fmt.Errorf("consent page: %w", err)
		}
		form.Set("decision", "allow")
		if resp, _, err = b.do(ctx, http.MethodPost, f.cfg.BaseURL+"/consent", form); err != nil {
			return nil, fmt.Errorf("consent: %w", err)
		}
	}
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("login: expected a redirect to the client, got %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	code, err := codeFrom(resp.Header.Get("Location"), f.cfg.RedirectURI, state)
	if err != nil {
		return nil, err
	}
	tok, err := postToken(ctx, hc, f.cfg.BaseURL, f.cfg.ClientID, f.cfg.ClientSecret, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.cfg.RedirectURI},
		"code_verifier": {verifier},
	})
	if err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("code exchange: no access token")
	}
	tok.Consented = consented
	return tok, nil
}

// codeFrom checks the redirect to the client (its address and state) and
// returns the code.
func codeFrom(location, redirectURI, state string) (string, error) {
	loc, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("callback: %w", err)
	}
	want, _ := url.Parse(redirectURI)
	q := loc.Query()
	switch {
	case loc.Scheme != want.Scheme || loc.Host != want.Host || loc.Path != want.Path:
		return "", errors.New("callback: redirected elsewhere than the client's redirect URI")
	case q.Get("error") != "":
		return "", fmt.Errorf("callback: error %q", q.Get("error"))
	case q.Get("state") != state:
		return "", errors.New("callback: state does not match")
	case q.Get("code") == "":
		return "", errors.New("callback: no code")
	}
	return q.Get("code"), nil
}

// browser is one flow's user agent: hc's transport, a fresh cookie jar, and
// redirects followed within the server only.
type browser struct {
	c         *http.Client
	forwarded string
}

func (f *Flow) browser(hc *http.Client, idx int) (*browser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("cookie jar: %w", err)
	}
	c := &http.Client{
		Transport: hc.Transport, Jar: jar, Timeout: hc.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != via[0].URL.Host || len(via) > 10 {
				return http.ErrUseLastResponse // the client's redirect URI: stop there
			}
			return nil
		},
	}
	b := &browser{c: c}
	if f.cfg.ForwardedFor {
		b.forwarded = fmt.Sprintf("10.%d.%d.%d", (idx/(250*256))%256, (idx/250)%256, idx%250+1)
	}
	return b, nil
}

// maxPage bounds what is read of one page.
const maxPage = 1 << 20

func (b *browser) do(ctx context.Context, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.forwarded != "" {
		req.Header.Set("X-Forwarded-For", b.forwarded)
		// http.Client copies it onto the redirects it follows
	}
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", resp.Request.URL.Path, err)
	}
	return resp, page, nil
}

// formFields returns the named input fields of the page's forms with their
// values, as a browser submits them; the field want must be present.
func formFields(page []byte, want string) (url.Values, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, fmt.Errorf("parse page: %w", err)
	}
	v := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name != "" && !v.Has(name) {
				v.Set(name, value)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if v.Get(want) == "" || v.Get("csrf_token") == "" {
		return nil, fmt.Errorf("no %s or csrf_token field", want)
	}
	return v, nil
}

// postToken calls the token endpoint with client_secret_basic.
func postToken(ctx context.Context, hc *http.Client, base, id, secret string, form url.Values) (*Tokens, error) {
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if err := postJSON(ctx, hc, base+authz.PathToken, id, secret, form, &out); err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: out.AccessToken, RefreshToken: out.RefreshToken, IDToken: out.IDToken}, nil
}

// postJSON posts form with basic authentication and decodes a 200 answer
// into out. An error names the status and the OAuth error code, never a
// token.
func postJSON(ctx context.Context, hc *http.Client, u, id, secret string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("status %d %s", resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func pkce() (verifier, challenge string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("pkce: %w", err)
	}
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

func randToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
