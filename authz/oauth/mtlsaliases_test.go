package oauth

import (
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
)

// TestDiscoveryListsMTLSEndpointAliasesOnlyWhenConfigured: with a separate
// mTLS host, discovery lists the token, PAR, introspection, revocation and
// userinfo endpoints under it (RFC 8705 §5); without one the member is
// absent, and the ordinary endpoints stay under the issuer either way.
func TestDiscoveryListsMTLSEndpointAliasesOnlyWhenConfigured(t *testing.T) {
	store := newMemoryStore(t)
	plain := newTestTokens(t, store).discovery()
	if _, ok := plain["mtls_endpoint_aliases"]; ok {
		t.Fatalf("mtls_endpoint_aliases without --mtls-base-url: %v", plain["mtls_endpoint_aliases"])
	}

	d := newTestTokens(t, store, WithMTLSEndpointAliases("https://mtls.auth.example.test/")).discovery()
	got, ok := d["mtls_endpoint_aliases"].(map[string]string)
	want := map[string]string{
		"token_endpoint":                        "https://mtls.auth.example.test/oauth2/token",
		"pushed_authorization_request_endpoint": "https://mtls.auth.example.test/oauth2/par",
		"introspection_endpoint":                "https://mtls.auth.example.test/oauth2/introspect",
		"revocation_endpoint":                   "https://mtls.auth.example.test/oauth2/revoke",
		"userinfo_endpoint":                     "https://mtls.auth.example.test/userinfo",
	}
	if !ok || !maps.Equal(got, want) {
		t.Fatalf("mtls_endpoint_aliases = %v, want %v", d["mtls_endpoint_aliases"], want)
	}
	if d["token_endpoint"] != plain["token_endpoint"] || d["userinfo_endpoint"] != plain["userinfo_endpoint"] {
		t.Fatalf("the aliases moved the ordinary endpoints: %v %v", d["token_endpoint"], d["userinfo_endpoint"])
	}
}

// TestMTLSBaseURLMustBeAbsoluteHTTPS: New and ParseMTLSBaseURL refuse
// anything but an absolute https URL without user info, query or fragment.
func TestMTLSBaseURLMustBeAbsoluteHTTPS(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"https://mtls.example.test", "https://mtls.example.test", ""},
		{"https://mtls.example.test:8443/", "https://mtls.example.test:8443", ""},
		{"https://mtls.example.test/auth/", "https://mtls.example.test/auth", ""},
		{"http://mtls.example.test", "", "absolute https URL"},
		{"mtls.example.test", "", "absolute https URL"},
		{"/oauth2", "", "absolute https URL"},
		{"https://", "", "absolute https URL"},
		{"https://u:p@mtls.example.test", "", "no user info, query or fragment"},
		{"https://mtls.example.test/?a=b", "", "no user info, query or fragment"},
		{"https://mtls.example.test/#x", "", "no user info, query or fragment"},
		{"https://mtls example", "", "not a URL"},
	} {
		got, err := ParseMTLSBaseURL(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseMTLSBaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseMTLSBaseURL(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
	cfg := testConfig()
	must(t, cfg.Validate())
	if _, err := New(cfg, newMemoryStore(t), newFakeKeys(t), nil, WithMTLSEndpointAliases("http://mtls.example.test")); err == nil {
		t.Fatal("New accepted an http mTLS base URL")
	}
}

// TestMTLSAliasHostIsADPoPOriginAndAnAssertionAudience: a request that
// arrives on the alias host is checked against DPoP proofs naming that host
// (any other Host means the issuer's origin), and client assertions may name
// the alias token or PAR endpoint.
func TestMTLSAliasHostIsADPoPOriginAndAnAssertionAudience(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestTokens(t, store, WithMTLSEndpointAliases("https://mtls.auth.example.test:8443"))
	issuerOrigin := p.origin
	for host, want := range map[string]string{
		"mtls.auth.example.test:8443": "https://mtls.auth.example.test:8443",
		"MTLS.auth.example.test:8443": "https://mtls.auth.example.test:8443",
		"mtls.auth.example.test":      issuerOrigin, // another port: not the alias host
		"evil.example":                issuerOrigin,
		"":                            issuerOrigin,
	} {
		if got := p.requestOrigin(host); got != want {
			t.Errorf("requestOrigin(%q) = %q, want %q", host, got, want)
		}
	}
	if got := newTestTokens(t, store).requestOrigin("mtls.auth.example.test:8443"); got != issuerOrigin {
		t.Errorf("without aliases: requestOrigin = %q", got)
	}

	token := p.clientAuth.AssertionAudiences(httptest.NewRequest("POST", authz.PathToken, nil))
	par := p.clientAuth.AssertionAudiences(httptest.NewRequest("POST", authz.PathPAR, nil))
	if !slices.Contains(token, "https://mtls.auth.example.test:8443/oauth2/token") || slices.Contains(token, "https://mtls.auth.example.test:8443/oauth2/par") {
		t.Errorf("token endpoint audiences %q", token)
	}
	if !slices.Contains(par, "https://mtls.auth.example.test:8443/oauth2/par") || !slices.Contains(par, p.cfg.Issuer) {
		t.Errorf("PAR endpoint audiences %q", par)
	}
}
