package publicclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/strongroom/strongroom/examples/internal/exampletest"
	"github.com/strongroom/strongroom/examples/publicclient"
	"github.com/strongroom/strongroom/storage"
)

// TestPublicClientSignsInWithPKCEAndRefreshes runs the guide's public
// client: the system browser signs in, the loopback redirect brings the code
// back, the app redeems it with its PKCE verifier, verifies the ID token and
// refreshes once; the rotated-out refresh token no longer works.
func TestPublicClientSignsInWithPKCEAndRefreshes(t *testing.T) {
	env := exampletest.Start(t)
	redirects := make(chan *url.URL, 1)
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := *r.URL
		redirects <- &u
		_, _ = w.Write([]byte("You can close this window."))
	}))
	t.Cleanup(loopback.Close)
	env.CreateClient(t, &storage.Client{ID: "mobile", Name: "Example Mobile App", Public: true,
		TokenEndpointAuthMethod: storage.AuthMethodNone, RedirectURIs: []string{loopback.URL + "/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "offline_access"}})

	ctx := context.Background()
	app, err := publicclient.New(ctx, env.Issuer, "mobile", loopback.URL+"/cb")
	if err != nil {
		t.Fatal(err)
	}
	authURL, pending := app.Start()
	exampletest.SignIn(t, exampletest.Browser(), env, authURL)
	redirect := <-redirects

	tok, id, err := app.Finish(ctx, pending, redirect)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject == "" || tok.RefreshToken == "" {
		t.Fatalf("want a subject and a refresh token, got %q / %q", id.Subject, tok.RefreshToken)
	}
	next, err := app.Refresh(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh returned the same tokens")
	}
	if _, err := app.Refresh(ctx, tok); err == nil {
		t.Fatal("a rotated-out refresh token was accepted again")
	}
}

// TestPublicClientRefusesForgedState: a redirect carrying another state is
// refused before any code is redeemed.
func TestPublicClientRefusesForgedState(t *testing.T) {
	env := exampletest.Start(t)
	app, err := publicclient.New(context.Background(), env.Issuer, "mobile", "http://127.0.0.1:1/cb")
	if err != nil {
		t.Fatal(err)
	}
	_, pending := app.Start()
	forged, _ := url.Parse("http://127.0.0.1:1/cb?code=x&state=attacker&iss=" + url.QueryEscape(env.Issuer))
	if _, _, err := app.Finish(context.Background(), pending, forged); err == nil {
		t.Fatal("a redirect with a foreign state was accepted")
	}
}
