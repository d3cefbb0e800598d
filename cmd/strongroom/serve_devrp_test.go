package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/server/servertest"
)

var (
	reTryIt    = regexp.MustCompile(`(?m)Try it: open (\S+) and sign in as (\S+) / (\S+)$`)
	reAdminTok = regexp.MustCompile(`(?m)TOKEN=\$\(curl -s -u ([^:\s]+):(\S+) -d grant_type=client_credentials -d scope=(\S+) (\S+) \| jq -r \.access_token\)$`)
	reAdminGet = regexp.MustCompile(`(?m)curl -s -H "Authorization: Bearer \$TOKEN" (\S+)$`)
)

// browse reads a page with a cookie-keeping client that follows redirects.
func browse(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeDevDemoAppSignsInAndRefreshes: the banner links the built-in
// demo relying party; following it, signing in with the printed user and
// consenting lands on its callback, which shows the decoded ID token,
// introspection and userinfo; its refresh button rotates the tokens.
func TestServeDevDemoAppSignsInAndRefreshes(t *testing.T) {
	s, d := startDev(t, "--admin-listen", "off")
	m := reTryIt.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("the banner does not link the demo app:\n%s", s.out)
	}
	home, user, pw := m[1], m[2], m[3]
	if home != d.issuer+"/demo" || user != d.username || pw != d.password {
		t.Fatalf("demo line: %s as %s/%s; issuer %s user %s", home, user, pw, d.issuer, d.username)
	}
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 15 * time.Second}
	_, page := browse(t, b, http.MethodGet, home, nil)
	if !strings.Contains(page, `href="/demo/login"`) {
		t.Fatalf("demo home has no sign-in link:\n%s", page)
	}
	resp, page := browse(t, b, http.MethodGet, d.issuer+"/demo/login", nil)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("sign-in did not reach the login page: %s", resp.Request.URL)
	}
	f := servertest.FormFields(t, page)
	f.Set("username", user)
	f.Set("password", pw)
	resp, page = browse(t, b, http.MethodPost, d.issuer+"/login", f)
	if resp.Request.URL.Path == "/consent" {
		f = servertest.FormFields(t, page)
		f.Set("decision", "allow")
		resp, page = browse(t, b, http.MethodPost, d.issuer+"/consent", f)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/demo/callback" {
		t.Fatalf("ended at %d %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	for _, want := range []string{`id="id-token-claims"`, "demo@example.com", `id="userinfo"`, "&#34;active&#34;: true", `id="refresh"`} {
		if !strings.Contains(page, want) {
			t.Errorf("callback page lacks %q:\n%s", want, page)
		}
	}
	before := regexp.MustCompile(`id="access-token" class="token">([^<]+)<`).FindStringSubmatch(page)
	f = servertest.FormFields(t, page)
	resp, page = browse(t, b, http.MethodPost, d.issuer+"/demo/refresh", f)
	after := regexp.MustCompile(`id="access-token" class="token">([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "tokens refreshed") || before == nil || after == nil || before[1] == after[1] {
		t.Fatalf("refresh: %d, new token %v:\n%s", resp.StatusCode, after, page)
	}

	// Another browser cannot replay the refresh (no session there).
	jar2, _ := cookiejar.New(nil)
	resp, _ = browse(t, &http.Client{Jar: jar2, Timeout: 10 * time.Second}, http.MethodPost, d.issuer+"/demo/refresh", f)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("refresh from another browser: %d, want 400", resp.StatusCode)
	}
}

// TestServeDevPrintsUsableAdminAPICall: the banner's admin API lines work
// as printed: the seeded admin client gets a strongroom:admin token and
// lists the clients.
func TestServeDevPrintsUsableAdminAPICall(t *testing.T) {
	s, _ := startDev(t, "--admin-listen", "127.0.0.1:0")
	out := s.out.String()
	tm, gm := reAdminTok.FindStringSubmatch(out), reAdminGet.FindStringSubmatch(out)
	if tm == nil || gm == nil {
		t.Fatalf("the banner lacks the admin API lines:\n%s", out)
	}
	cc := clientcredentials.Config{ClientID: tm[1], ClientSecret: tm[2], TokenURL: tm[4], Scopes: []string{tm[3]},
		AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(t.Context())
	if err != nil {
		t.Fatalf("admin token with the printed client: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, gm[1], nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "demo-confidential") {
		t.Fatalf("GET %s: %d %s", gm[1], resp.StatusCode, body)
	}
}

// TestServeDevSeedFileSurvivesRestart: with --dev-seed the demo password and
// client secret are the file's, so they are the same after a restart, and
// the file's users and clients exist.
func TestServeDevSeedFileSurvivesRestart(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "dev-seed.yaml")
	err := os.WriteFile(seed, []byte(`demo_password: fixed-demo-password
demo_client_secret: fixed-demo-client-secret-0123456789
users:
  - username: bob
    password: bobs-password-123
clients:
  - client_id: my-backend
    client_secret: my-backend-secret-0123456789
    grant_types: [client_credentials]
    scopes: [payments]
  - client_id: my-spa
    redirect_uris: [http://localhost:5173/callback]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		s, d := startDev(t, "--admin-listen", "off", "--dev-seed", seed)
		if d.password != "fixed-demo-password" || d.confSecret != "fixed-demo-client-secret-0123456789" {
			t.Fatalf("run %d: demo credentials %q / %q are not the seed file's", run, d.password, d.confSecret)
		}
		if !strings.Contains(s.out.String(), "users bob; clients my-backend, my-spa") {
			t.Errorf("run %d: banner does not list the seeded users and clients:\n%s", run, s.out)
		}
		cc := clientcredentials.Config{ClientID: "my-backend", ClientSecret: "my-backend-secret-0123456789",
			TokenURL: d.issuer + "/oauth2/token", Scopes: []string{"payments"}}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("run %d: seeded client: %v", run, err)
		}
		if scope := tok.Extra("scope"); scope != "payments" {
			t.Errorf("run %d: scope %v", run, scope)
		}
		if code := s.stop(); code != exitOK {
			t.Fatalf("run %d: exit %d", run, code)
		}
	}
}

// TestServeDevSeedRefusesBadFiles: a misspelt key, a client reusing a dev
// client's id, a missing file, or --dev-seed without --dev are usage errors
// that name the problem; nothing starts.
func TestServeDevSeedRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"misspelt-key", []string{"--dev", "--dev-seed", write("typo.yaml", "demo_pasword: x\n")}, "demo_pasword"},
		{"own-client-id", []string{"--dev", "--dev-seed", write("own.yaml", "clients:\n  - client_id: demo-admin\n")}, "dev server's own"},
		{"missing-file", []string{"--dev", "--dev-seed", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"without-dev", []string{"--dev-seed", write("ok.yaml", "demo_password: abcdefghijkl\n"), "--issuer", "https://as.example"}, "needs --dev"},
	}
	for _, c := range cases {
		t.Run("fail/"+c.name, func(t *testing.T) {
			r, _ := runServeOnce(t, env{}, append([]string{"serve", "--listen", "127.0.0.1:0", "--admin-listen", "off"}, c.args...)...)
			if r.code != exitUsage || !strings.Contains(r.errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want usage error naming %q", r.code, r.errOut, c.want)
			}
		})
	}
}

// TestServeListenAddressInUseNamesTheFlag: when the address is taken the
// error says so and names --listen (and make run's ARGS).
func TestServeListenAddressInUseNamesTheFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r, _ := runServeOnce(t, env{}, "serve", "--dev", "--listen", ln.Addr().String(), "--admin-listen", "off")
	if r.code == exitOK || !strings.Contains(r.errOut, "address already in use") || !strings.Contains(r.errOut, "--listen") ||
		!strings.Contains(r.errOut, `make run ARGS=`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
}
