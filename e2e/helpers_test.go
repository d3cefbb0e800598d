package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

const (
	testPassword = "correct horse battery staple"
	redirectURI  = "https://app.example.test/callback"
)

// env is one running server on a fresh PostgreSQL database.
type env struct {
	*servertest.Env
	t      *testing.T
	srv    *server.Server
	issuer string
	userID string
}

// start runs the real server (PostgreSQL store, real HTTP listener) until the test ends.
func start(t *testing.T) *env { t.Helper(); return startWith(t, nil) }

// startWith is start with a configuration change.
func startWith(t *testing.T, mutate func(*server.Config)) *env {
	t.Helper()
	se := servertest.Start(t, mutate)
	e := &env{Env: se, t: t, srv: se.Server, issuer: se.Issuer}
	e.userID = e.createUser("alice", testPassword)
	return e
}

// createUser stores a user with password pw and returns its id.
func (e *env) createUser(username, pw string) string {
	e.t.Helper()
	return e.CreateUser(e.t, username, pw)
}

// createClient registers c; for confidential secret-based clients it returns the secret.
func (e *env) createClient(c *storage.Client) string {
	e.t.Helper()
	return e.CreateClient(e.t, c)
}

// webClient is a confidential client with the given grants; it may
// introspect its own tokens.
func webClient(grants ...string) *storage.Client {
	return &storage.Client{
		Name: "Test App", RedirectURIs: []string{redirectURI}, GrantTypes: grants,
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile", "email", "offline_access", "payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Metadata: storage.ClientMetadata{Introspect: true},
	}
}

// browser is a cookie-keeping HTTP client that stops at the client's redirect URI.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// follow redirects within the server; stop at the client's redirect URI
			if req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// formFields returns the named input fields (with values) of page.
var formFields = servertest.FormFields

// login follows an authorization URL through the login (and consent) pages
// and returns the final redirect to the client.
func (e *env) login(b *browser, authURL, username, password string, consent bool) *url.URL {
	e.t.Helper()
	resp, body := b.get(authURL)
	if resp.Request.URL.Path != "/login" || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("expected the login page, got %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	f := formFields(e.t, body)
	f.Set("username", username)
	f.Set("password", password)
	resp, body = b.post(e.issuer+"/login", f)
	if consent {
		if resp.Request.URL.Path != "/consent" || resp.StatusCode != http.StatusOK {
			e.t.Fatalf("expected the consent page, got %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
		}
		f = formFields(e.t, body)
		f.Set("decision", "allow")
		resp, body = b.post(e.issuer+"/consent", f)
	}
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("expected a redirect to the client, got %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// postForm sends a form with optional basic auth and decodes the JSON answer.
func postForm(t *testing.T, u string, form url.Values, user, pass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("POST %s: %d non-JSON body %q", u, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m
}

// oauthS256 is a PKCE S256 option with a throwaway verifier.
func oauthS256(t *testing.T) oauth2.AuthCodeOption {
	t.Helper()
	return oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
}
