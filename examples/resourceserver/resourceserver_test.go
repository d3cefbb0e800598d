package resourceserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/examples/internal/exampletest"
	"github.com/strongroom/strongroom/examples/resourceserver"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// api is the guide's protected API: GET /payments needs scope "payments".
func api(c resourceserver.Checker) *httptest.Server {
	return httptest.NewServer(resourceserver.Require(c, "payments", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "payments of "+resourceserver.FromContext(r.Context()).ClientID)
	})))
}

// partnerToken registers a client_secret_basic partner whose tokens are
// meant for payments-api and returns one of its tokens for scope.
func partnerToken(t *testing.T, env *servertest.Env, format, scope string) (*oauth2.Token, clientcredentials.Config) {
	t.Helper()
	id := "partner-" + format
	secret := env.CreateClient(t, &storage.Client{ID: id, GrantTypes: []string{"client_credentials"},
		Scopes: []string{"payments", "accounts"}, Audience: []string{"payments-api"}, AccessTokenFormat: format,
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic})
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: env.Issuer + "/oauth2/token", Scopes: []string{scope}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok, cc
}

func call(t *testing.T, u, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u+"/payments", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestResourceServerVerifiesJWTAccessTokens: JWT access tokens are checked
// locally with the JWKS; a token for another audience or without the scope
// is refused.
func TestResourceServerVerifiesJWTAccessTokens(t *testing.T) {
	env := exampletest.Start(t)
	checker, err := resourceserver.NewJWTChecker(context.Background(), env.Issuer, "payments-api")
	if err != nil {
		t.Fatal(err)
	}
	srv := api(checker)
	t.Cleanup(srv.Close)
	tok, _ := partnerToken(t, env, storage.TokenFormatJWT, "payments")
	if got := call(t, srv.URL, tok.AccessToken); got != http.StatusOK {
		t.Fatalf("valid JWT access token: %d, want 200", got)
	}
	other, err := resourceserver.NewJWTChecker(context.Background(), env.Issuer, "another-api")
	if err != nil {
		t.Fatal(err)
	}
	otherSrv := api(other)
	t.Cleanup(otherSrv.Close)
	if got := call(t, otherSrv.URL, tok.AccessToken); got != http.StatusUnauthorized {
		t.Fatalf("token for another audience: %d, want 401", got)
	}
	if got := call(t, srv.URL, ""); got != http.StatusUnauthorized {
		t.Fatalf("no token: %d, want 401", got)
	}
}

// TestResourceServerIntrospectsOpaqueTokens: the API asks the server about
// opaque tokens; a revoked token is refused at once, and a token without the
// scope gets 403.
func TestResourceServerIntrospectsOpaqueTokens(t *testing.T) {
	env := exampletest.Start(t)
	apiSecret := env.CreateClient(t, &storage.Client{ID: "payments-api", GrantTypes: []string{"client_credentials"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Metadata: storage.ClientMetadata{Introspect: true}})
	srv := api(&resourceserver.IntrospectionChecker{URL: env.Issuer + "/oauth2/introspect", ClientID: "payments-api", ClientSecret: apiSecret})
	t.Cleanup(srv.Close)

	tok, cc := partnerToken(t, env, storage.TokenFormatOpaque, "payments")
	if got := call(t, srv.URL, tok.AccessToken); got != http.StatusOK {
		t.Fatalf("valid opaque token: %d, want 200", got)
	}
	wrongScope, err := (&clientcredentials.Config{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, TokenURL: cc.TokenURL,
		Scopes: []string{"accounts"}}).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, srv.URL, wrongScope.AccessToken); got != http.StatusForbidden {
		t.Fatalf("token without the scope: %d, want 403", got)
	}
	// The partner revokes its token (RFC 7009); the API refuses it on the next call.
	req, _ := http.NewRequest(http.MethodPost, env.Issuer+"/oauth2/revoke",
		strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cc.ClientID, cc.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation answered %d", resp.StatusCode)
	}
	if got := call(t, srv.URL, tok.AccessToken); got != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", got)
	}
}
