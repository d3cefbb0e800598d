package browser

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// cliPath is the strongroom binary built once for the tests (users are
// created and unlocked with the real CLI).
var cliPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strongroom-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cliPath = filepath.Join(dir, "strongroom")
	build := exec.Command("go", "build", "-o", cliPath, "github.com/strongroom/strongroom/cmd/strongroom")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build strongroom CLI:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// env is a running server whose issuer is http://localhost:PORT (WebAuthn
// relying party ids must be domains).
type env struct {
	*servertest.Env
	t *testing.T
}

func startEnv(t *testing.T, mutate func(*server.Config)) *env {
	t.Helper()
	se := servertest.Start(t, func(c *server.Config) {
		c.Authz.Issuer = servertest.Localhost
		c.Product = "Northwind Bank"
		c.Logo = testLogo()
		if mutate != nil {
			mutate(c)
		}
	})
	return &env{Env: se, t: t}
}

func (e *env) store() storage.Store { return e.Server.Store }

// cli runs the strongroom binary against the test database and returns its
// standard output.
func (e *env) cli(stdin string, args ...string) string {
	e.t.Helper()
	cmd := exec.Command(cliPath, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.DBURL)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		e.t.Fatalf("strongroom %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out))
}

// createUser creates an end user with the CLI and returns their id.
func (e *env) createUser(username, password string) string {
	e.t.Helper()
	return e.cli(password+"\n", "users", "create", "--username", username, "--email", username+"@example.test",
		"--name", "Carol Example", "--password-stdin")
}

// rp is a relying party: a client registered at the server with a callback
// on an httptest server.
type rp struct {
	t        *testing.T
	env      *env
	srv      *httptest.Server
	client   *storage.Client
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	codes    chan string
}

// newRP registers a confidential client (modified by mutate) whose redirect
// URI is the test server's /callback.
func newRP(t *testing.T, e *env, mutate func(*storage.Client)) *rp {
	t.Helper()
	r := &rp{t: t, env: e, codes: make(chan string, 4)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/callback" {
			http.NotFound(w, req)
			return
		}
		if code := req.URL.Query().Get("code"); code != "" {
			r.codes <- code
		} else if e := req.URL.Query().Get("error"); e != "" {
			r.codes <- "error:" + e + ": " + req.URL.Query().Get("error_description")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Test RP</title><h1 id="rp-done">Signed in at the relying party</h1>`)
	}))
	t.Cleanup(r.srv.Close)
	c := &storage.Client{
		Name: "Northwind Mobile Banking", RedirectURIs: []string{r.srv.URL + "/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "email"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
	}
	if mutate != nil {
		mutate(c)
	}
	secret := e.CreateClient(t, c)
	r.client = c
	ctx := oidc.InsecureIssuerURLContext(context.Background(), e.Issuer)
	provider, err := oidc.NewProvider(ctx, e.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	r.verifier = provider.Verifier(&oidc.Config{ClientID: c.ID})
	r.oauth = oauth2.Config{
		ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: c.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	return r
}

// authRequest is one authorization request with its PKCE verifier and nonce.
type authRequest struct {
	URL, verifier, nonce string
}

func (r *rp) authURL(extra ...oauth2.AuthCodeOption) authRequest {
	verifier := oauth2.GenerateVerifier()
	nonce := randString()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, extra...)
	return authRequest{URL: r.oauth.AuthCodeURL(randString(), opts...), verifier: verifier, nonce: nonce}
}

// idToken waits for the callback's code, exchanges it (x/oauth2) and
// verifies the ID token (go-oidc).
func (r *rp) idToken(ar authRequest) *oidc.IDToken {
	r.t.Helper()
	var code string
	select {
	case code = <-r.codes:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the relying party received no authorization code")
	}
	if strings.HasPrefix(code, "error:") {
		r.t.Fatalf("the relying party received an error instead of a code: %s", code)
	}
	tok, err := r.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(ar.verifier))
	if err != nil {
		r.t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		r.t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != ar.nonce {
		r.t.Fatalf("nonce %q, want %q", idt.Nonce, ar.nonce)
	}
	return idt
}

// claims are the ID token claims the tests look at.
type claims struct {
	AMR []string `json:"amr"`
	ACR string   `json:"acr"`
}

func tokenClaims(t *testing.T, idt *oidc.IDToken) claims {
	t.Helper()
	var c claims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func wantAMR(t *testing.T, c claims, methods ...string) {
	t.Helper()
	for _, m := range methods {
		if !slices.Contains(c.AMR, m) {
			t.Fatalf("amr = %v, want it to contain %v", c.AMR, methods)
		}
	}
}

// chrome is one headless Chromium with a fresh profile.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

// newChrome starts headless Chromium (Debian's chromium package; .ci/run
// installs it) with a fresh user-data-dir and no background traffic.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (apt-get install -y chromium; .ci/run does this)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // start the browser (no timeout on this first call)
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return &chrome{t: t, ctx: ctx}
}

// run runs actions, failing the test on error.
func (c *chrome) run(actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("browser: %v", err)
	}
}

// get runs an action that returns a value, failing the test on error.
func get[T any](c *chrome, a chromedp.Action[T]) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, a)
	if err != nil {
		c.t.Fatalf("browser: %v", err)
	}
	return v
}

// virtualAuthenticator adds a CTAP2 platform authenticator with resident
// keys and user verification that always succeeds (DevTools WebAuthn domain).
func (c *chrome) virtualAuthenticator() {
	c.t.Helper()
	c.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// screenshot saves the page as testdata/out/NAME.png.
func (c *chrome) screenshot(name string) {
	c.t.Helper()
	buf := get(c, chromedp.FullScreenshot(100))
	dir := filepath.Join("testdata", "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// text returns the text of the first element matching sel.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	return get(c, chromedp.Text(chromedp.CSS(sel)))
}

// signIn submits the login page (which must be showing). The page is
// marked first, so that waits after it see the next page, not this one.
func (c *chrome) signIn(username, password string) {
	c.t.Helper()
	c.run(
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetAttributeValue(chromedp.CSS("body"), "data-submitted", "1"),
		chromedp.SetValue(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
	)
}

// location returns the current URL.
func (c *chrome) location() string {
	return get(c, chromedp.Location())
}

// audit lists the audit events of action for target, newest first.
func (e *env) audit(action, target string) []storage.AuditEvent {
	e.t.Helper()
	ev, err := e.store().ListAudit(context.Background(), storage.AuditFilter{Action: action, Target: target, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// testLogo draws the operator logo the pages show: a blue tile with a
// white chevron, as a PNG.
func testLogo() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 80, 80))
	blue := color.RGBA{11, 92, 173, 255}
	for y := range 80 {
		for x := range 80 {
			c := blue
			d := y - 40
			if d < 0 {
				d = -d
			}
			if x-20 >= d && x-20 <= d+14 && y > 12 && y < 68 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func randString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fastThrottle keeps the account policy's shape (5 failures lock for 15
// minutes) with short waits, so the brute-force test runs in seconds.
func fastThrottle(c *server.Config) {
	c.Authz.LoginThrottle = throttle.Config{
		Account: throttle.Policy{FreeFailures: 1, BaseDelay: 400 * time.Millisecond, MaxDelay: 5 * time.Second,
			MaxFailures: 5, LockDuration: 15 * time.Minute, Window: 15 * time.Minute},
		IP: throttle.Default.IP,
	}
}
