package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// TestFAPI2AndMTLSClientsThroughTheAdminAPI registers, reads, patches,
// exports and re-imports clients with issue 9's fields through the
// validating transport (every exchange matches api/openapi.yaml).
func TestFAPI2AndMTLSClientsThroughTheAdminAPI(t *testing.T) {
	f := newFixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	fapiApp := `{"client_name":"Bank app","grant_types":["authorization_code"],"redirect_uris":["https://app.bank.example/cb"],
		"scope":"openid accounts","token_endpoint_auth_method":"private_key_jwt","jwks":` + string(jwks) + `,
		"token_endpoint_auth_signing_alg":"ES256","id_token_signed_response_alg":"ES256",
		"require_pushed_authorization_requests":true,"dpop_bound_access_tokens":true,"profile":"fapi2"}`
	var created struct {
		Client registration.ClientInfo `json:"client"`
	}
	f.do(t, "POST", "/admin/v1/clients", fapiApp, 201, &created)
	got := created.Client
	if got.Profile != storage.ProfileFAPI2 || !got.DPoPBoundAccessTokens || got.TokenEndpointAuthSigningAlg != "ES256" || !got.RequirePAR {
		t.Fatalf("created %+v", got)
	}

	partner := `{"client_name":"Partner","grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth",
		"tls_client_auth_subject_dn":"CN=partner.example,O=Partner Ltd,C=GB","tls_client_certificate_bound_access_tokens":true}`
	var mtlsCreated struct {
		Client registration.ClientInfo `json:"client"`
		Secret *struct{}               `json:"secret"`
	}
	f.do(t, "POST", "/admin/v1/clients", partner, 201, &mtlsCreated)
	id := mtlsCreated.Client.ClientID
	if mtlsCreated.Client.SubjectDN != "CN=partner.example,O=Partner Ltd,C=GB" || !mtlsCreated.Client.TLSClientCertificateBoundAccessTokens || len(mtlsCreated.Client.Secrets) != 0 {
		t.Fatalf("created %+v", mtlsCreated.Client)
	}

	// Moving to a SAN replaces the subject DN: the patch clears it.
	var patched registration.ClientInfo
	f.do(t, "PATCH", "/admin/v1/clients/"+id, `{"tls_client_auth_subject_dn":"","tls_client_auth_san_dns":"partner.example"}`, 200, &patched)
	if patched.SANDNS != "partner.example" || patched.SubjectDN != "" {
		t.Fatalf("patched %+v", patched.Identity)
	}

	var exported []registration.ClientSpec
	f.do(t, "GET", "/admin/v1/client-export?id="+id+"&id="+got.ClientID, "", 200, &exported)
	if len(exported) != 2 {
		t.Fatalf("exported %d", len(exported))
	}
	for i := range exported {
		exported[i].ClientID = "copy-" + exported[i].ClientID
	}
	body, _ := json.Marshal(exported)
	f.do(t, "POST", "/admin/v1/client-import", string(body), 201, nil)
	var copied registration.ClientInfo
	f.do(t, "GET", "/admin/v1/clients/copy-"+got.ClientID, "", 200, &copied)
	if copied.Profile != storage.ProfileFAPI2 || !copied.DPoPBoundAccessTokens || copied.TokenEndpointAuthSigningAlg != "ES256" {
		t.Fatalf("imported %+v", copied)
	}
	f.do(t, "GET", "/admin/v1/clients/copy-"+id, "", 200, &copied)
	if copied.SANDNS != "partner.example" || !copied.TLSClientCertificateBoundAccessTokens {
		t.Fatalf("imported %+v", copied)
	}
}

// TestFAPI2ProfileProblemsListEveryRule: a FAPI 2.0 registration that
// breaks several rules is refused with one entry per rule in the problem.
func TestFAPI2ProfileProblemsListEveryRule(t *testing.T) {
	f := newFixture(t)
	before := f.snapshot(t)
	var p admin.Problem
	f.do(t, "POST", "/admin/v1/clients", `{"client_name":"Not FAPI","grant_types":["authorization_code"],
		"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_basic","profile":"fapi2"}`, 400, &p)
	want := []string{"require_pushed_authorization_requests", "sender-constrained", `token_endpoint_auth_method "client_secret_basic" is not allowed`}
	if len(p.Errors) != len(want) {
		t.Fatalf("errors %q, want %d", p.Errors, len(want))
	}
	for i, w := range want {
		if !strings.Contains(p.Errors[i], w) {
			t.Errorf("errors[%d] = %q, want %q", i, p.Errors[i], w)
		}
	}
	f.do(t, "POST", "/admin/v1/clients", `{"client_name":"Two ids","grant_types":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth",
		"tls_client_auth_subject_dn":"CN=a","tls_client_auth_san_dns":"a.example"}`, 400, &p)
	if !strings.Contains(strings.Join(p.Errors, "\n"), "exactly one of") {
		t.Fatalf("problem %+v", p)
	}
	if f.snapshot(t) != before {
		t.Error("a refused registration changed something")
	}
}

// TestClientSecretJWTClientsThroughTheAdminAPI: create registers a
// client_secret_jwt client with its algorithm and answers its derived
// secret and secret_id once; a FAPI 2.0 client_secret_jwt client or an
// asymmetric algorithm is refused with 400 and stores nothing.
func TestClientSecretJWTClientsThroughTheAdminAPI(t *testing.T) {
	f := newFixture(t)
	var created struct {
		Client registration.ClientInfo `json:"client"`
		Secret struct {
			ClientID     string `json:"client_id"`
			SecretID     string `json:"secret_id"`
			ClientSecret string `json:"client_secret"`
		} `json:"secret"`
	}
	f.do(t, "POST", "/admin/v1/clients", `{"client_name":"HMAC","grant_types":["client_credentials"],
		"token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"HS384"}`, 201, &created)
	if c, s := created.Client, created.Secret; c.TokenEndpointAuthMethod != storage.AuthMethodSecretJWT || c.TokenEndpointAuthSigningAlg != "HS384" ||
		len(c.Secrets) != 1 || s.SecretID != c.Secrets[0].ID || len(s.ClientSecret) != 86 || s.ClientID != c.ClientID {
		t.Fatalf("created %+v", created)
	}

	before := f.snapshot(t)
	var p admin.Problem
	f.do(t, "POST", "/admin/v1/clients", `{"client_name":"HMAC","grant_types":["client_credentials"],"profile":"fapi2",
		"require_pushed_authorization_requests":true,"dpop_bound_access_tokens":true,
		"token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"HS256"}`, 400, &p)
	if len(p.Errors) != 2 || !strings.Contains(p.Errors[0], `token_endpoint_auth_method "client_secret_jwt" is not allowed`) ||
		!strings.Contains(p.Errors[1], `token_endpoint_auth_signing_alg "HS256" is not allowed`) {
		t.Fatalf("problem %+v", p)
	}
	f.do(t, "POST", "/admin/v1/clients", `{"client_name":"HMAC","grant_types":["client_credentials"],
		"token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"ES256"}`, 400, &p)
	if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], "client_secret_jwt signs with an HMAC algorithm") {
		t.Fatalf("problem %+v", p)
	}
	if f.snapshot(t) != before {
		t.Error("a refused registration changed something")
	}
}
