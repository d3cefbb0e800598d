package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// bankApp are the flags of a valid FAPI 2.0 client: PAR, private_key_jwt
// with ES256, DPoP-bound tokens.
func bankApp(jwksFile string) []string {
	return []string{
		"clients", "create", "--name", "Bank app", "--profile", "fapi2", "--require-par", "--dpop-bound",
		"--grant-type", "authorization_code", "--redirect-uri", "https://app.bank.example/callback",
		"--scope", "openid accounts", "--id-token-alg", "ES256",
		"--auth-method", "private_key_jwt", "--jwks-file", jwksFile, "--token-endpoint-auth-signing-alg", "ES256",
	}
}

// mtlsPartner are the flags of a valid tls_client_auth client with
// certificate-bound tokens.
var mtlsPartner = []string{
	"clients", "create", "--name", "Partner", "--grant-type", "client_credentials",
	"--auth-method", "tls_client_auth", "--tls-subject-dn", "CN=partner.example,O=Partner Ltd,C=GB",
	"--tls-client-certificate-bound-access-tokens",
}

func getClientJSON(t *testing.T, e env, id string) registration.ClientInfo {
	t.Helper()
	var info registration.ClientInfo
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "clients", "get", id, "-o", "json").out), &info); err != nil {
		t.Fatal(err)
	}
	return info
}

func createdID(t *testing.T, r result) string {
	t.Helper()
	m := decodeObject(t, r.out)
	id, _ := m["client_id"].(string)
	if id == "" {
		t.Fatalf("no client id in %s", r.out)
	}
	return id
}

func TestClientsCreateFAPI2AndMTLSClients(t *testing.T) {
	e := newEnv(t)
	jwks := writeJWKS(t, false)

	bank := createdID(t, mustRun(t, e, "", append(bankApp(jwks), "-o", "json")...))
	info := getClientJSON(t, e, bank)
	if info.Profile != storage.ProfileFAPI2 || !info.DPoPBoundAccessTokens || !info.RequirePAR ||
		info.TokenEndpointAuthSigningAlg != "ES256" || len(info.Secrets) != 0 {
		t.Fatalf("bank app %+v", info)
	}
	text := mustRun(t, e, "", "clients", "get", bank).out
	for _, want := range []string{"Profile:", "fapi2", "DPoP-bound tokens:", "Auth signing algorithm:"} {
		if !strings.Contains(text, want) {
			t.Errorf("clients get lacks %q:\n%s", want, text)
		}
	}

	r := mustRun(t, e, "", append(mtlsPartner, "-o", "json")...)
	if strings.Contains(r.out, "client_secret") {
		t.Fatalf("a tls_client_auth client got a secret: %s", r.out)
	}
	partner := createdID(t, r)
	info = getClientJSON(t, e, partner)
	if info.SubjectDN != "CN=partner.example,O=Partner Ltd,C=GB" || !info.TLSClientCertificateBoundAccessTokens {
		t.Fatalf("partner %+v", info)
	}

	selfSigned := createdID(t, mustRun(t, e, "", "clients", "create", "--name", "Self-signed", "--grant-type", "client_credentials",
		"--auth-method", "self_signed_tls_client_auth", "--jwks-file", jwks, "--dpop-bound", "-o", "json"))
	if info := getClientJSON(t, e, selfSigned); info.TokenEndpointAuthMethod != storage.AuthMethodSelfSignedTLSClientAuth || len(info.JWKS) == 0 || !info.DPoPBoundAccessTokens {
		t.Fatalf("self-signed %+v", info)
	}

	// client_secret_jwt: a secret the server derives from its secret_id
	// (shown once, with the id an assertion names as its kid); the store
	// keeps the id and the keyed hash only.
	r = mustRun(t, e, "", "clients", "create", "--name", "HMAC", "--grant-type", "client_credentials",
		"--auth-method", "client_secret_jwt", "--token-endpoint-auth-signing-alg", "HS512", "-o", "json")
	m := decodeObject(t, r.out)
	hmacID, secret, secretID := m["client_id"].(string), m["client_secret"].(string), m["secret_id"].(string)
	if len(secret) != 86 || secretID == "" || hasherFor(t, e).DeriveSecret(hmacID, secretID) != secret {
		t.Fatalf("client_secret_jwt client: %s", r.out)
	}
	if info := getClientJSON(t, e, hmacID); info.TokenEndpointAuthMethod != storage.AuthMethodSecretJWT || info.TokenEndpointAuthSigningAlg != "HS512" ||
		len(info.Secrets) != 1 || info.Secrets[0].ID != secretID {
		t.Fatalf("client_secret_jwt client %+v", info)
	}
	// ... but not for a FAPI 2.0 client (SP §5.3.2.1), nor with an asymmetric algorithm.
	r = run(t, e, "", "clients", "create", "--name", "HMAC", "--grant-type", "client_credentials", "--profile", "fapi2", "--dpop-bound",
		"--require-par", "--auth-method", "client_secret_jwt", "-o", "json")
	wantFail(t, r, exitUsage, `--profile fapi2: --auth-method (token_endpoint_auth_method) "client_secret_jwt" is not allowed`)
	r = run(t, e, "", "clients", "create", "--name", "HMAC", "--grant-type", "client_credentials",
		"--auth-method", "client_secret_jwt", "--token-endpoint-auth-signing-alg", "ES256", "-o", "json")
	wantFail(t, r, exitUsage, "client_secret_jwt signs with an HMAC algorithm")
	if strings.Contains(r.out, "client_secret") {
		t.Fatalf("a refused client got a secret: %s", r.out)
	}

	// Update: a SAN replaces the subject DN; the profile comes and goes.
	mustRun(t, e, "", "clients", "update", partner, "--tls-san-dns", "partner.example")
	info = getClientJSON(t, e, partner)
	if info.SANDNS != "partner.example" || info.SubjectDN != "" {
		t.Fatalf("updated identity %+v", info.Identity)
	}
	// Moving to another method drops the subject; moving back needs one.
	mustRun(t, e, "", "clients", "update", partner, "--auth-method", "client_secret_basic")
	if info := getClientJSON(t, e, partner); info.Identity != (mtls.Identity{}) {
		t.Fatalf("subject kept after leaving tls_client_auth: %+v", info.Identity)
	}
	wantFail(t, run(t, e, "", "clients", "update", partner, "--auth-method", "tls_client_auth"), exitUsage, "tls_client_auth needs exactly one of")
	mustRun(t, e, "", "clients", "update", partner, "--auth-method", "tls_client_auth", "--tls-san-dns", "partner.example")
	wantFail(t, run(t, e, "", "clients", "update", partner, "--profile", "fapi2"), exitUsage, "--profile fapi2: --require-par (require_pushed_authorization_requests) must be true")
	mustRun(t, e, "", "clients", "update", bank, "--profile", "none", "--dpop-bound=false")
	if info := getClientJSON(t, e, bank); info.Profile != "" || info.DPoPBoundAccessTokens {
		t.Fatalf("profile not removed: %+v", info)
	}
	mustRun(t, e, "", "clients", "update", bank, "--profile", "fapi2", "--dpop-bound")

	// list -o json shows the fields.
	var list []registration.ClientInfo
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "clients", "list", "-o", "json").out), &list); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, c := range list {
		if (c.ClientID == bank && c.Profile == "fapi2") || (c.ClientID == partner && c.SANDNS == "partner.example") {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("list -o json: %+v", list)
	}

	// Export and import round-trip the new fields.
	file := filepath.Join(t.TempDir(), "clients.yaml")
	mustRun(t, e, "", "clients", "export", "-f", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"profile: fapi2", "dpop_bound_access_tokens: true", "tls_client_auth_san_dns: partner.example",
		"tls_client_certificate_bound_access_tokens: true", "token_endpoint_auth_signing_alg: ES256"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("export lacks %q:\n%s", want, data)
		}
	}
	exported := mustRun(t, e, "", "clients", "export").out
	dst := newEnv(t)
	mustRun(t, dst, "", "clients", "import", file)
	if got := mustRun(t, dst, "", "clients", "export").out; got != exported {
		t.Fatalf("export after import differs:\n%s\nwant\n%s", got, exported)
	}
}

func TestClientsRejectBadFAPI2AndMTLSFlags(t *testing.T) {
	e := newEnv(t)
	jwks := writeJWKS(t, false)
	cc := []string{"clients", "create", "--name", "x", "--grant-type", "client_credentials"}
	with := func(base []string, extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tlsAuth := with(cc, "--auth-method", "tls_client_auth")

	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"fail/bad-dn":                {with(tlsAuth, "--tls-subject-dn", "partner"), `subject DN "partner"`},
		"fail/bad-san-ip":            {with(tlsAuth, "--tls-san-ip", "10.0.0.300"), `tls_client_auth_san_ip "10.0.0.300" is not an IP address`},
		"fail/bad-san-uri":           {with(tlsAuth, "--tls-san-uri", "partner"), "is not an absolute URI"},
		"fail/no-identity":           {tlsAuth, "tls_client_auth needs exactly one of"},
		"fail/two-identities":        {with(tlsAuth, "--tls-subject-dn", "CN=a", "--tls-san-email", "a@b.example"), "2 are set"},
		"fail/identity-wrong-method": {with(cc, "--auth-method", "client_secret_basic", "--tls-san-dns", "a.example"), "used only with token_endpoint_auth_method tls_client_auth"},
		"fail/unknown-method":        {with(cc, "--auth-method", "mtls"), `unknown auth method "mtls"`},
		"fail/self-signed-no-jwks":   {with(cc, "--auth-method", "self_signed_tls_client_auth"), "self_signed_tls_client_auth requires jwks"},
		"fail/hs256-private-key-jwt": {with(cc, "--auth-method", "private_key_jwt", "--jwks-file", jwks, "--token-endpoint-auth-signing-alg", "HS256"), "--token-endpoint-auth-signing-alg (token_endpoint_auth_signing_alg): private_key_jwt needs an asymmetric algorithm"},
		"fail/es256-secret-jwt":      {with(cc, "--auth-method", "client_secret_jwt", "--token-endpoint-auth-signing-alg", "ES256"), "--token-endpoint-auth-signing-alg (token_endpoint_auth_signing_alg): client_secret_jwt signs with an HMAC algorithm"},
		"fail/unknown-alg":           {with(cc, "--auth-method", "private_key_jwt", "--jwks-file", jwks, "--token-endpoint-auth-signing-alg", "HS1"), `unsupported algorithm "HS1"`},
		"fail/unknown-profile":       {with(tlsAuth, "--tls-san-dns", "a.example", "--profile", "fapi1"), `unknown profile "fapi1"`},
		"fail/profile-secret-basic":  {with(cc, "--auth-method", "client_secret_basic", "--profile", "fapi2", "--require-par", "--dpop-bound"), `--profile fapi2: --auth-method (token_endpoint_auth_method) "client_secret_basic" is not allowed`},
		"fail/profile-public":        {[]string{"clients", "create", "--name", "x", "--public", "--auth-method", "none", "--grant-type", "authorization_code", "--redirect-uri", "http://127.0.0.1/cb", "--profile", "fapi2", "--require-par", "--dpop-bound"}, "public client (token_endpoint_auth_method none) is not allowed"},
		"fail/profile-unbound":       {with(tlsAuth, "--tls-san-dns", "a.example", "--profile", "fapi2", "--require-par"), "sender-constrained tokens are required"},
		"fail/profile-no-par":        {with(tlsAuth, "--tls-san-dns", "a.example", "--profile", "fapi2", "--dpop-bound"), "--profile fapi2: --require-par (require_pushed_authorization_requests) must be true"},
		"fail/profile-rs256":         {bankRS256(jwks), `--profile fapi2: --token-endpoint-auth-signing-alg (token_endpoint_auth_signing_alg) "RS256" is not allowed`},
		"fail/profile-hybrid":        {with(bankApp(jwks), "--response-type", "code id_token"), `--profile fapi2: --response-type (response_types) must be exactly ["code"]`},
		"fail/bad-bool":              {with(tlsAuth, "--tls-san-dns", "a.example", "--dpop-bound=sometimes"), "invalid argument"},
	} {
		t.Run(name, func(t *testing.T) {
			wantFail(t, run(t, e, "", tc.args...), exitUsage, tc.msg)
		})
	}
	if n := countClients(t, e); n != 0 {
		t.Fatalf("refused registrations stored %d clients", n)
	}
}

// bankRS256 is bankApp signing its assertions with RS256.
func bankRS256(jwks string) []string {
	args := bankApp(jwks)
	for i, a := range args {
		if a == "--token-endpoint-auth-signing-alg" {
			args[i+1] = "RS256"
		}
	}
	return args
}

// TestRemoteModeFAPI2AndMTLSClients: the same registrations through the
// admin API (every exchange checked against api/openapi.yaml) store the
// same fields, and a FAPI 2.0 problem comes back as a usage error.
func TestRemoteModeFAPI2AndMTLSClients(t *testing.T) {
	e := newEnv(t)
	st := openTestStore(t, e)
	api := startAdminAPI(t, e, nil)
	tr, remote := api.tr, api.args
	noDB := env{}

	bank := createdID(t, mustRunRemote(t, noDB, tr.Client(), remote(append(bankApp(writeJWKS(t, false)), "-o", "json")...)...))
	partner := createdID(t, mustRunRemote(t, noDB, tr.Client(), remote(append(mtlsPartner, "-o", "json")...)...))
	for _, id := range []string{bank, partner} {
		if l, r := mustRun(t, e, "", "clients", "get", id, "-o", "json").out, mustRunRemote(t, noDB, tr.Client(), remote("clients", "get", id, "-o", "json")...).out; l != r {
			t.Errorf("local and remote get differ:\n%s\n%s", l, r)
		}
	}
	stored, err := st.GetClient(t.Context(), bank)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Metadata.IsFAPI2() || !stored.Metadata.DPoPBoundAccessTokens || stored.Metadata.TokenEndpointAuthSigningAlg != "ES256" {
		t.Fatalf("stored %+v", stored.Metadata)
	}
	mustRunRemote(t, noDB, tr.Client(), remote("clients", "update", partner, "--tls-san-uri", "spiffe://partner.example/server")...)
	if stored, err = st.GetClient(t.Context(), partner); err != nil || stored.Metadata.TLSClientAuthSANURI != "spiffe://partner.example/server" || stored.Metadata.TLSClientAuthSubjectDN != "" {
		t.Fatalf("remote update: %v %+v", err, stored)
	}
	wantFail(t, runRemote(t, noDB, tr.Client(), remote("clients", "update", partner, "--profile", "fapi2")...), exitUsage,
		"--profile fapi2: --require-par (require_pushed_authorization_requests) must be true")
}
