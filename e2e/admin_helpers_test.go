package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// adminAPI is the admin API of a running server, on its own listener,
// reached through a transport that validates every exchange against
// api/openapi.yaml.
type adminAPI struct {
	t     *testing.T
	url   string
	tr    *admintest.Transport
	token string
}

// startAdmin runs the server's admin API on a loopback listener of its own
// and returns it with a strongroom:admin token of a fresh operator client.
func (e *env) startAdmin() *adminAPI {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeAdmin(ctx, ln, server.AdminOptions{}) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("admin API: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	a := &adminAPI{t: e.t, url: base, tr: admintest.NewTransport(e.t, base, nil)}
	a.token = e.adminToken(authz.AdminScope)
	return a
}

// adminToken registers an operator client allowed scope and returns an
// access token for it from the client credentials grant.
func (e *env) adminToken(scope string) string {
	e.t.Helper()
	c := &storage.Client{Name: "ops", GrantTypes: []string{"client_credentials"}, Scopes: []string{scope},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque}
	secret := e.createClient(c)
	return e.token(c.ID, secret, scope)
}

// token runs the client credentials grant and fails the test unless it succeeds.
func (e *env) token(clientID, secret, scope string) string {
	e.t.Helper()
	status, body := postForm(e.t, e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, clientID, secret)
	if status != http.StatusOK {
		e.t.Fatalf("token for %s: %d %v", clientID, status, body)
	}
	return body["access_token"].(string)
}

// tokenStatus runs the client credentials grant and returns the status.
func (e *env) tokenStatus(clientID, secret, scope string) int {
	e.t.Helper()
	status, _ := postForm(e.t, e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, clientID, secret)
	return status
}

// do sends one admin API request with the operator token (or token) and
// decodes the JSON answer into out.
func (a *adminAPI) do(method, path, body string, want int, out any, token ...string) *http.Response {
	a.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := a.token
	if len(token) > 0 {
		tok = token[0]
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := a.tr.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp
}

// createdClient is the admin API's answer to a create.
type createdClient struct {
	Client registration.ClientInfo  `json:"client"`
	Secret *authzadmin.IssuedSecret `json:"secret"`
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
