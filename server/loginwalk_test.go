package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
	"github.com/strongroom/strongroom/web"
)

// TestLoginPostStorageCalls walks one successful POST /login (password
// only, consent already given, so the flow finishes with the code) on the
// in-memory store and counts its storage calls. The budget guards the
// browser flow's shape: the flow row is read once, the client comes from
// the cache.
func TestLoginPostStorageCalls(t *testing.T) {
	const budget = 22 // 25 before the browser flow became one dispatcher
	ctx := t.Context()
	secret, kek := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(kek)
	cfg := Config{Authz: authz.Config{SystemSecret: secret}, Dev: true, KEK: kek}
	srv := httptest.NewUnstartedServer(nil)
	cfg.Authz.Issuer = "http://" + srv.Listener.Addr().String()
	if err := cfg.prepare(); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: memory.New()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := assemble(ctx, cfg, store, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler
	srv.Start()
	t.Cleanup(srv.Close)

	hash, err := password.Hash("correct horse battery", password.DefaultArgon2)
	must(t, err)
	now := time.Now()
	must(t, store.CreateUser(ctx, &storage.User{ID: "u1", Username: "alice", PasswordHash: hash, CreatedAt: now, UpdatedAt: now}))
	redirect := "http://127.0.0.1:9999/cb"
	must(t, store.CreateClient(ctx, &storage.Client{
		ID: "app", Name: "App", Public: true, RedirectURIs: []string{redirect},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, Scopes: []string{"openid"},
		TokenEndpointAuthMethod: storage.AuthMethodNone, AccessTokenFormat: storage.TokenFormatOpaque, CreatedAt: now, UpdatedAt: now,
	}))
	must(t, store.SaveConsent(ctx, &storage.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid"}, GrantedAt: now}))

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sum := sha256.Sum256([]byte("verifier-verifier-verifier-verifier-verifier"))
	q := url.Values{
		"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {redirect}, "scope": {"openid"},
		"state": {"state-123456"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	res := get(t, hc, srv.URL+authz.PathAuthorize+"?"+q.Encode())
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, web.PathLogin+"?") {
		t.Fatalf("authorize: %d %q", res.StatusCode, loc)
	}
	challenge := mustParse(t, loc).Query().Get("login_challenge")
	page := get(t, hc, srv.URL+loc)
	body, _ := io.ReadAll(page.Body)
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("login page without a CSRF token: %s", body)
	}
	// warm the client cache as a real login page view does (it did above)
	form := url.Values{"login_challenge": {challenge}, "csrf_token": {string(m[1])}, "username": {"alice"}, "password": {"correct horse battery"}}
	var post *http.Response
	calls := store.measure(func() {
		post, err = hc.PostForm(srv.URL+web.PathLogin, form)
		must(t, err)
		post.Body.Close()
	})
	loc = post.Header.Get("Location")
	if post.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, redirect+"?") || mustParse(t, loc).Query().Get("code") == "" {
		t.Fatalf("POST /login: %d %q, want the code at the client", post.StatusCode, loc)
	}
	total, names := 0, []string{}
	for name, n := range calls {
		total += n
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Logf("%-26s %d", name, calls[name])
	}
	t.Logf("POST /login: %d storage calls", total)
	if total > budget {
		t.Errorf("POST /login made %d storage calls, budget %d", total, budget)
	}
}

func get(t *testing.T, hc *http.Client, u string) *http.Response {
	t.Helper()
	res, err := hc.Get(u)
	must(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	must(t, err)
	return u
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
