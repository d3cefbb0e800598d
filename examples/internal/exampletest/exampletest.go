// Package exampletest runs the integrator guide's examples against a real
// Strongroom server (PostgreSQL store, real HTTP listener) and signs a user
// in through the server's login and consent pages as a browser would.
package exampletest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server/servertest"
)

// Username and Password are the user every example signs in as.
const (
	Username = "alice"
	Password = "correct horse battery staple"
)

// Start runs a server with one user and returns it.
func Start(tb testing.TB) *servertest.Env {
	tb.Helper()
	env := servertest.Start(tb, nil)
	env.CreateUser(tb, Username, Password)
	return env
}

// Browser returns a cookie-keeping HTTP client that follows redirects.
func Browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 15 * time.Second}
}

// SignIn opens startURL in browser, expects the server's login page, signs
// in as Username, approves the consent page when one is shown, and returns
// the last page the browser lands on (the app's callback) with its body.
func SignIn(tb testing.TB, browser *http.Client, env *servertest.Env, startURL string) (*http.Response, string) {
	tb.Helper()
	resp, body := get(tb, browser, startURL)
	if resp.Request.URL.Path != "/login" {
		tb.Fatalf("expected the login page, got %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	form := servertest.FormFields(tb, body)
	form.Set("username", Username)
	form.Set("password", Password)
	resp, body = post(tb, browser, env.Issuer+"/login", form)
	if resp.Request.URL.Path == "/consent" {
		form = servertest.FormFields(tb, body)
		form.Set("decision", "allow")
		resp, body = post(tb, browser, env.Issuer+"/consent", form)
	}
	return resp, body
}

func get(tb testing.TB, c *http.Client, u string) (*http.Response, string) {
	tb.Helper()
	resp, err := c.Get(u)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(tb testing.TB, c *http.Client, u string, form map[string][]string) (*http.Response, string) {
	tb.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
