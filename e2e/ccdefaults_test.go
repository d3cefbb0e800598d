package e2e

import (
	"net/url"
	"testing"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// TestClientCredentialsWithoutScopeGetsDefaultScopes: a client_credentials
// request without scope is granted the client's registered scopes except
// the user-only ones (openid, offline_access) and never the admin API's
// scope, and the answer names what was granted (RFC 6749 §3.3, §5.1).
func TestClientCredentialsWithoutScopeGetsDefaultScopes(t *testing.T) {
	e := start(t)
	partner := &storage.Client{Name: "Partner", GrantTypes: []string{"client_credentials"},
		Scopes: []string{"openid", "payments", "accounts", "offline_access"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
		Metadata: storage.ClientMetadata{Introspect: true}}
	secret := e.createClient(partner)
	code, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, partner.ID, secret)
	if code != 200 || m["scope"] != "payments accounts" {
		t.Fatalf("token without scope: %d %v, want scope \"payments accounts\"", code, m)
	}
	_, in := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {m["access_token"].(string)}}, partner.ID, secret)
	if in["active"] != true || in["scope"] != "payments accounts" {
		t.Fatalf("introspection: %v", in)
	}
	// Asking narrows as before.
	_, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}}, partner.ID, secret)
	if m["scope"] != "payments" {
		t.Fatalf("explicit scope: %v", m)
	}

	admin := &storage.Client{Name: "Ops", GrantTypes: []string{"client_credentials"},
		Scopes: []string{authz.AdminScope, "reports"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic}
	adminSecret := e.createClient(admin)
	_, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, admin.ID, adminSecret)
	if m["scope"] != "reports" {
		t.Fatalf("admin client without scope got %v; the admin scope must be asked for by name", m["scope"])
	}
}
