package e2e

import (
	"net/url"
	"strings"
	"testing"
)

// TestIssuedTokensCarrySrPrefixAndLegacyOryPrefixStillWorks: an access token
// from the token endpoint starts with sr_at_ (a secret scanner can tell what
// leaked), and the same token under the legacy ory_at_ prefix, as servers
// before the change issued it, still introspects as active; a made-up
// sr_at_ token does not.
func TestIssuedTokensCarrySrPrefixAndLegacyOryPrefixStillWorks(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials")
	secret := e.createClient(c)
	code, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
	if code != 200 {
		t.Fatalf("token: %d %v", code, m)
	}
	at, _ := m["access_token"].(string)
	if !strings.HasPrefix(at, "sr_at_") {
		t.Fatalf("access token %.12s… lacks the sr_at_ prefix", at)
	}
	legacy := "ory_at_" + strings.TrimPrefix(at, "sr_at_")
	for _, tok := range []string{at, legacy} {
		_, m = postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok}}, c.ID, secret)
		if m["active"] != true {
			t.Fatalf("introspection of %.7s… token: %v, want active", tok, m)
		}
	}
	_, m = postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {"sr_at_made.up"}}, c.ID, secret)
	if m["active"] != false {
		t.Fatalf("a made-up token introspected as %v", m)
	}
}
