package webapp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strongroom/strongroom/examples/internal/exampletest"
	"github.com/strongroom/strongroom/examples/webapp"
	"github.com/strongroom/strongroom/storage"
)

// TestWebAppSignsInWithPARAndPKCE runs the guide's web app against a real
// server: /login pushes the request, the browser signs in and consents, the
// callback redeems the code and shows the verified ID token's subject.
func TestWebAppSignsInWithPARAndPKCE(t *testing.T) {
	env := exampletest.Start(t)
	var handler atomic.Pointer[http.Handler] // set once the app exists
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(appSrv.Close)

	client := &storage.Client{ID: "webapp", Name: "Example Web App", RedirectURIs: []string{appSrv.URL + "/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "email"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, RequirePAR: true}
	secret := env.CreateClient(t, client)

	app, err := webapp.New(context.Background(), webapp.Config{Issuer: env.Issuer, ClientID: "webapp", ClientSecret: secret,
		RedirectURL: appSrv.URL + "/callback"})
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(ptr(app.Handler()))

	resp, body := exampletest.SignIn(t, exampletest.Browser(), env, appSrv.URL+"/login")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/callback" {
		t.Fatalf("callback answered %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	if !strings.Contains(body, "alice@example.test") || !strings.Contains(body, `id="sub"`) {
		t.Fatalf("signed-in page lacks the user's claims: %s", body)
	}
}

// TestWebAppCallbackFromAnotherBrowserRefused: a callback URL replayed in a
// browser that did not start the sign-in is refused by the app.
func TestWebAppCallbackFromAnotherBrowserRefused(t *testing.T) {
	env := exampletest.Start(t)
	var handler atomic.Pointer[http.Handler] // set once the app exists
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(appSrv.Close)
	secret := env.CreateClient(t, &storage.Client{ID: "webapp", RedirectURIs: []string{appSrv.URL + "/callback"},
		GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile", "email"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic})
	app, err := webapp.New(context.Background(), webapp.Config{Issuer: env.Issuer, ClientID: "webapp", ClientSecret: secret,
		RedirectURL: appSrv.URL + "/callback"})
	if err != nil {
		t.Fatal(err)
	}
	// The first browser's callback is captured, not delivered.
	captured := make(chan string, 1)
	handler.Store(ptr(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			captured <- appSrv.URL + r.URL.String()
			return
		}
		app.Handler().ServeHTTP(w, r)
	})))
	exampletest.SignIn(t, exampletest.Browser(), env, appSrv.URL+"/login")
	var callbackURL string
	select {
	case callbackURL = <-captured:
	default:
		t.Fatal("the browser never reached the callback")
	}
	handler.Store(ptr(app.Handler()))
	resp, err := exampletest.Browser().Get(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback in another browser answered %d, want 400", resp.StatusCode)
	}
}

func ptr(h http.Handler) *http.Handler { return &h }
