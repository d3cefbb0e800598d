package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// webApp are the flags of a valid confidential authorization-code client.
var webApp = []string{
	"clients", "create", "--name", "Web app",
	"--grant-type", "authorization_code", "--grant-type", "refresh_token",
	"--redirect-uri", "https://app.example.com/callback",
	"--post-logout-redirect-uri", "https://app.example.com/",
	"--scope", "openid profile offline_access",
	"--auth-method", "client_secret_basic",
	"--audience", "https://api.example.com",
}

// nativeApp are the flags of a valid public client.
var nativeApp = []string{
	"clients", "create", "--name", "CLI", "--public", "--auth-method", "none",
	"--grant-type", "authorization_code", "--grant-type", "refresh_token",
	"--redirect-uri", "http://127.0.0.1:8400/callback",
	"--redirect-uri", "http://localhost/cb", "--redirect-uri", "http://[::1]:9000/cb",
	"--scope", "openid offline_access",
}

func countClients(t *testing.T, e env) int {
	t.Helper()
	clients, err := openTestStore(t, e).ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(clients)
}

func hasherFor(t *testing.T, e env) *authz.SecretHasher {
	t.Helper()
	key, err := parseSecret(e[envSecret])
	if err != nil {
		t.Fatal(err)
	}
	h, err := authz.NewSecretHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// decodeObject decodes one JSON object.
func decodeObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, s)
	}
	return m
}

func TestClientsCreateConfidentialJSON(t *testing.T) {
	e := newEnv(t)
	r := mustRun(t, e, "", append(webApp, "-o", "json")...)
	m := decodeObject(t, r.out)
	if sid, _ := m["secret_id"].(string); len(m) != 3 || sid == "" {
		t.Fatalf("want exactly client_id, client_secret and secret_id, got %s", r.out)
	}
	id, _ := m["client_id"].(string)
	secret, _ := m["client_secret"].(string)
	if id == "" || secret == "" {
		t.Fatalf("output %s", r.out)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Errorf("secret is not 256 bits base64url: %v", err)
	}
	if raw, err := hex.DecodeString(id); err != nil || len(raw) != 16 {
		t.Errorf("client id %q is not 128 bits of hex", id)
	}
	if r.errOut != "" {
		t.Errorf("stderr %q", r.errOut)
	}

	c, err := openTestStore(t, e).GetClient(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Secrets) != 1 {
		t.Fatalf("stored %d secrets", len(c.Secrets))
	}
	h := hasherFor(t, e)
	if err := h.Compare(t.Context(), c.Secrets[0].Hash, []byte(secret)); err != nil {
		t.Errorf("stored hash does not match the printed secret: %v", err)
	}
	if err := h.Compare(t.Context(), c.Secrets[0].Hash, []byte(secret+"x")); !errors.Is(err, authz.ErrSecretMismatch) {
		t.Errorf("stored hash matches a wrong secret: %v", err)
	}
	if string(c.Secrets[0].Hash) == secret {
		t.Error("the plain secret was stored")
	}
	// A server with another STRONGROOM_SECRET cannot verify it.
	other := hasherFor(t, env{envSecret: newSecret(t)})
	if err := other.Compare(t.Context(), c.Secrets[0].Hash, []byte(secret)); err == nil {
		t.Error("hash verifies under another system secret")
	}

	if c.Name != "Web app" || c.Public || c.TokenEndpointAuthMethod != "client_secret_basic" ||
		c.AccessTokenFormat != "opaque" || c.RequirePAR || c.IDTokenSignedResponseAlg != "" {
		t.Errorf("stored %+v", c)
	}
	for _, f := range []struct {
		name string
		got  []string
		want string
	}{
		{"grant types", c.GrantTypes, "authorization_code refresh_token"},
		{"redirect URIs", c.RedirectURIs, "https://app.example.com/callback"},
		{"post-logout redirect URIs", c.PostLogoutRedirectURIs, "https://app.example.com/"},
		{"scopes", c.Scopes, "openid profile offline_access"},
		{"response types", c.ResponseTypes, "code"},
		{"audience", c.Audience, "https://api.example.com"},
	} {
		if strings.Join(f.got, " ") != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
}

func TestClientsCreateConfidentialText(t *testing.T) {
	e := newEnv(t)
	r := mustRun(t, e, "", webApp...)
	clients, err := openTestStore(t, e).ListClients(t.Context())
	if err != nil || len(clients) != 1 {
		t.Fatalf("clients %v, %v", clients, err)
	}
	if !strings.Contains(r.out, "client_id:") || !strings.Contains(r.out, clients[0].ID) ||
		!strings.Contains(r.out, "client_secret:") || !strings.Contains(r.out, "shown only this once") {
		t.Errorf("stdout:\n%s", r.out)
	}
}

func TestClientsCreatePublicHasNoSecret(t *testing.T) {
	e := newEnv(t)
	r := mustRun(t, e, "", append(nativeApp, "--require-par", "--access-token-format", "jwt", "--id-token-alg", "ES256", "-o", "json")...)
	m := decodeObject(t, r.out)
	if _, ok := m["client_secret"]; ok || len(m) != 1 {
		t.Fatalf("public client output %s", r.out)
	}
	c, err := openTestStore(t, e).GetClient(t.Context(), m["client_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Public || len(c.Secrets) != 0 || c.TokenEndpointAuthMethod != "none" || !c.RequirePAR ||
		c.AccessTokenFormat != "jwt" || c.IDTokenSignedResponseAlg != "ES256" || len(c.RedirectURIs) != 3 {
		t.Errorf("stored %+v", c)
	}

	r = mustRun(t, e, "", nativeApp...)
	if strings.Contains(r.out, "client_secret") {
		t.Errorf("text output of a public client mentions a secret:\n%s", r.out)
	}
}

// writeJWKS writes a JWK Set of one fresh P-256 key, public or private.
func writeJWKS(t *testing.T, private bool) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key any = &priv.PublicKey
	if private {
		key = priv
	}
	data, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClientsCreatePrivateKeyJWT(t *testing.T) {
	e := newEnv(t)
	delete(e, envSecret) // no secret is generated, so none is needed
	path := writeJWKS(t, false)
	r := mustRun(t, e, "", "clients", "create", "--name", "Batch", "--grant-type", "client_credentials",
		"--auth-method", "private_key_jwt", "--jwks-file", path, "--scope", "reports:write", "-o", "json")
	m := decodeObject(t, r.out)
	if _, ok := m["client_secret"]; ok {
		t.Errorf("private_key_jwt client got a secret: %s", r.out)
	}
	c, err := openTestStore(t, e).GetClient(t.Context(), m["client_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.JWKS, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "k1" || !set.Keys[0].IsPublic() {
		t.Errorf("stored JWKS %s: %v", c.JWKS, err)
	}
	if len(c.Secrets) != 0 || len(c.ResponseTypes) != 0 {
		t.Errorf("stored %+v", c)
	}

	mustRun(t, e, "", "clients", "create", "--name", "Batch2", "--grant-type", "client_credentials",
		"--auth-method", "private_key_jwt", "--jwks-uri", "https://batch.example.com/jwks.json")
	if n := countClients(t, e); n != 2 {
		t.Errorf("%d clients", n)
	}
}

func TestClientsCreateRejectsBadFlags(t *testing.T) {
	e := newEnv(t)
	privateJWKS := writeJWKS(t, true)
	notJSON := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(notJSON, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	publicJWKS := writeJWKS(t, false)
	base := func(extra ...string) []string {
		return append([]string{"clients", "create", "--name", "x"}, extra...)
	}
	ac := []string{"--grant-type", "authorization_code", "--redirect-uri", "https://app.example.com/cb"}
	cc := []string{"--grant-type", "client_credentials"}
	basic := []string{"--auth-method", "client_secret_basic"}
	with := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return base(out...)
	}

	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"fail/unknown-grant-type":     {with(basic, []string{"--grant-type", "password"}), 2, `unknown grant type "password" (supported: authorization_code, client_credentials, refresh_token)`},
		"fail/implicit-grant-type":    {with(basic, []string{"--grant-type", "implicit"}), 2, `unknown grant type "implicit"`},
		"fail/unknown-auth-method":    {with(cc, []string{"--auth-method", "attestation_client_auth"}), 2, `unknown auth method "attestation_client_auth" (supported: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, none)`},
		"fail/public-with-secret":     {with(ac, basic, []string{"--public"}), 2, "--public requires --auth-method none"},
		"fail/none-without-public":    {with(ac, []string{"--auth-method", "none"}), 2, "--auth-method none requires --public"},
		"fail/public-client-creds":    {with(cc, []string{"--public", "--auth-method", "none"}), 2, "client_credentials requires a confidential client"},
		"fail/refresh-alone":          {with(basic, []string{"--grant-type", "refresh_token"}), 2, "refresh_token requires grant type authorization_code"},
		"fail/pkjwt-without-keys":     {with(cc, []string{"--auth-method", "private_key_jwt"}), 2, "private_key_jwt requires jwks_uri or jwks"},
		"fail/pkjwt-both-keys":        {with(cc, []string{"--auth-method", "private_key_jwt", "--jwks-uri", "https://k.example.com/jwks", "--jwks-file", publicJWKS}), 2, "(jwks_uri) and jwks are mutually exclusive"},
		"fail/jwks-without-pkjwt":     {with(cc, basic, []string{"--jwks-uri", "https://k.example.com/jwks"}), 2, "used only with token_endpoint_auth_method private_key_jwt"},
		"fail/jwks-uri-http":          {with(cc, []string{"--auth-method", "private_key_jwt", "--jwks-uri", "http://k.example.com/jwks"}), 2, "must use https"},
		"fail/jwks-file-private-key":  {with(cc, []string{"--auth-method", "private_key_jwt", "--jwks-file", privateJWKS}), 2, "private or symmetric key"},
		"fail/jwks-file-not-json":     {with(cc, []string{"--auth-method", "private_key_jwt", "--jwks-file", notJSON}), 2, "is not a JWK Set"},
		"fail/jwks-file-missing":      {with(cc, []string{"--auth-method", "private_key_jwt", "--jwks-file", "/nonexistent/jwks.json"}), 2, "--jwks-file: open /nonexistent/jwks.json"},
		"fail/no-redirect-uri":        {with(basic, []string{"--grant-type", "authorization_code"}), 2, "authorization_code requires at least one redirect URI"},
		"fail/redirect-relative":      {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "/callback"}), 2, `"/callback" must be an absolute URL`},
		"fail/redirect-fragment":      {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "https://a.example.com/cb#x"}), 2, "must not contain a fragment"},
		"fail/redirect-wildcard":      {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "https://*.example.com/cb"}), 2, "must not contain a wildcard"},
		"fail/redirect-http":          {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "http://app.example.com/cb"}), 2, "must use https (http is allowed only for public clients on a loopback host)"},
		"fail/redirect-http-loopback": {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "http://127.0.0.1/cb"}), 2, "must use https: a confidential client may use http on a loopback host only for local development, with serve --dev or --allow-insecure-redirects"},
		"fail/public-http-remote":     {with([]string{"--public", "--auth-method", "none", "--grant-type", "authorization_code", "--redirect-uri", "http://app.example.com/cb"}), 2, "http is allowed only on 127.0.0.1, [::1] or localhost"},
		"fail/redirect-custom-scheme": {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "com.example.app:/cb"}), 2, "must be an absolute URL"},
		"fail/redirect-userinfo":      {with(basic, []string{"--grant-type", "authorization_code", "--redirect-uri", "https://u:p@app.example.com/cb"}), 2, "must not contain user information"},
		"fail/redirect-client-creds":  {with(cc, basic, []string{"--redirect-uri", "https://app.example.com/cb"}), 2, "--redirect-uri (redirect_uris) are used only with grant type authorization_code"},
		"fail/post-logout-http":       {with(ac, basic, []string{"--post-logout-redirect-uri", "http://app.example.com/"}), 2, "post_logout_redirect_uris"},
		"fail/response-type-token":    {with(ac, basic, []string{"--response-type", "token"}), 2, `unknown response type "token"`},
		"fail/hybrid-without-openid":  {with(ac, basic, []string{"--response-type", "code id_token", "--scope", "profile"}), 2, `"code id_token" requires the openid scope`},
		"fail/response-type-cc":       {with(cc, basic, []string{"--response-type", "code"}), 2, "--response-type (response_types) are used only with grant type authorization_code"},
		"fail/scope-quote":            {with(cc, basic, []string{"--scope", `read "write"`}), 2, "is not a valid scope token (RFC 6749 §3.3"},
		"fail/scope-backslash":        {with(cc, basic, []string{"--scope", `a\b`}), 2, "is not a valid scope token"},
		"fail/scope-non-ascii":        {with(cc, basic, []string{"--scope", "lecture écriture"}), 2, "is not a valid scope token"},
		"fail/scope-tab":              {with(cc, basic, []string{"--scope", "a\tb"}), 2, "is not a valid scope token"},
		"fail/token-format":           {with(cc, basic, []string{"--access-token-format", "paseto"}), 2, `unknown format "paseto"`},
		"fail/id-token-alg":           {with(cc, basic, []string{"--id-token-alg", "HS256"}), 2, `unsupported algorithm "HS256"`},
		"fail/audience-space":         {with(cc, basic, []string{"--audience", "a b"}), 2, "--audience (audience)"},
		"fail/empty-name":             {[]string{"clients", "create", "--name", " ", "--grant-type", "client_credentials", "--auth-method", "client_secret_basic"}, 2, "--name (client_name) must not be empty"},
		"fail/missing-name":           {[]string{"clients", "create", "--grant-type", "client_credentials", "--auth-method", "client_secret_basic"}, 2, `required flag(s) "name" not set`},
		"fail/missing-auth-method":    {with(cc), 2, `required flag(s) "auth-method" not set`},
		"fail/unknown-flag":           {with(cc, basic, []string{"--client-secret", "x"}), 2, "unknown flag: --client-secret"},
		"fail/bad-output":             {with(cc, basic, []string{"-o", "yaml"}), 2, `must be "text" or "json"`},
		"fail/bad-bool":               {with(cc, basic, []string{"--require-par=maybe"}), 2, "invalid argument"},
		"fail/all-problems-at-once":   {with([]string{"--grant-type", "password", "--auth-method", "magic", "--scope", `"`}), 2, "unknown auth method"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, e, "", tc.args...)
			wantFail(t, r, tc.code, tc.msg)
			if r.out != "" {
				t.Errorf("stdout %q", r.out)
			}
			if n := countClients(t, e); n != 0 {
				t.Errorf("%d clients stored", n)
			}
		})
	}

	r := run(t, e, "", with([]string{"--grant-type", "password", "--auth-method", "magic", "--scope", `"`})...)
	for _, msg := range []string{"--grant-type (grant_types): unknown grant type", "--auth-method (token_endpoint_auth_method): unknown auth method", "--scope (scope): "} {
		if !strings.Contains(r.errOut, "strongroom: "+msg) {
			t.Errorf("all-at-once report lacks %q:\n%s", msg, r.errOut)
		}
	}
}

func TestClientsCreateSecretRequired(t *testing.T) {
	e := newEnv(t)
	short := base64.StdEncoding.EncodeToString([]byte("only-twenty-bytes!!!"))
	for name, tc := range map[string]struct{ secret, msg string }{
		"fail/missing": {"", "STRONGROOM_SECRET: not set"},
		"fail/short":   {short, "STRONGROOM_SECRET: too short: 20 bytes after decoding, at least 32 required"},
		"fail/garbage": {"%%%% not a secret %%%%", "STRONGROOM_SECRET: not valid base64 or hex"},
	} {
		t.Run(name, func(t *testing.T) {
			e2 := env{envDatabaseURL: e[envDatabaseURL], envSecret: tc.secret}
			r := run(t, e2, "", webApp...)
			wantFail(t, r, exitFailure, tc.msg)
			if tc.secret != "" && strings.Contains(r.output(), tc.secret) {
				t.Errorf("output echoes the secret: %q", r.output())
			}
			if n := countClients(t, e); n != 0 {
				t.Errorf("%d clients stored", n)
			}
		})
	}
	// A public client needs no secret.
	mustRun(t, env{envDatabaseURL: e[envDatabaseURL]}, "", nativeApp...)
}

func TestClientsListGetDelete(t *testing.T) {
	e := newEnv(t)
	web := decodeObject(t, mustRun(t, e, "", append(webApp, "-o", "json")...).out)
	native := decodeObject(t, mustRun(t, e, "", append(nativeApp, "-o", "json")...).out)
	webID, nativeID := web["client_id"].(string), native["client_id"].(string)
	secret := web["client_secret"].(string)

	stored, err := openTestStore(t, e).GetClient(t.Context(), webID)
	if err != nil {
		t.Fatal(err)
	}
	hash := stored.Secrets[0].Hash
	noSecrets := func(t *testing.T, out string) {
		t.Helper()
		for _, s := range []string{secret, base64.StdEncoding.EncodeToString(hash), base64.RawURLEncoding.EncodeToString(hash), hex.EncodeToString(hash), "hash"} {
			if strings.Contains(out, s) {
				t.Errorf("output contains %q:\n%s", s, out)
			}
		}
	}

	r := mustRun(t, e, "", "clients", "list")
	noSecrets(t, r.out)
	for _, s := range []string{"ID", "NAME", "GRANT TYPES", "AUTH METHOD", "PUBLIC", webID, "Web app", "authorization_code,refresh_token", "client_secret_basic", nativeID, "CLI", "none"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("list lacks %q:\n%s", s, r.out)
		}
	}

	r = mustRun(t, e, "", "clients", "list", "-o", "json")
	noSecrets(t, r.out)
	var list []registration.ClientInfo
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list -o json: %v\n%s", err, r.out)
	}
	ids := map[string]registration.ClientInfo{list[0].ClientID: list[0], list[1].ClientID: list[1]}
	if v := ids[webID]; v.ClientName != "Web app" || v.Public || len(v.Secrets) != 1 || v.Scope != "openid profile offline_access" {
		t.Errorf("web client %+v", v)
	}
	if v := ids[nativeID]; !v.Public || len(v.Secrets) != 0 || v.TokenEndpointAuthMethod != "none" {
		t.Errorf("native client %+v", v)
	}

	r = mustRun(t, e, "", "clients", "get", webID, "-o", "json")
	noSecrets(t, r.out)
	var got registration.ClientInfo
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.ClientID != webID ||
		strings.Join(got.RedirectURIs, " ") != "https://app.example.com/callback" {
		t.Errorf("get -o json: %v\n%s", err, r.out)
	}
	r = mustRun(t, e, "", "clients", "get", webID)
	noSecrets(t, r.out)
	if !strings.Contains(r.out, "Client ID:") || !strings.Contains(r.out, webID) || !strings.Contains(r.out, "https://app.example.com/callback") {
		t.Errorf("get:\n%s", r.out)
	}
	wantFail(t, run(t, e, "", "clients", "get", "nope"), exitFailure, `client "nope" not found`)

	// Without a terminal, delete needs --yes.
	wantFail(t, run(t, e, "y\n", "clients", "delete", webID), exitUsage, "pass --yes")
	if n := countClients(t, e); n != 2 {
		t.Fatalf("%d clients after refused delete", n)
	}
	r = mustRun(t, e, "", "clients", "delete", webID, "--yes")
	if !strings.Contains(r.out, "Deleted client "+webID) {
		t.Errorf("delete: %s", r.out)
	}
	if _, err := openTestStore(t, e).GetClient(t.Context(), webID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted client still there: %v", err)
	}
	wantFail(t, run(t, e, "", "clients", "delete", webID, "-y"), exitFailure, "not found")
	if n := countClients(t, e); n != 1 {
		t.Errorf("%d clients left", n)
	}
}

func TestCheckRedirectURI(t *testing.T) {
	for uri, public := range map[string]bool{
		"https://app.example.com/cb?x=1":  false,
		"https://localhost:8443/cb":       false,
		"http://127.0.0.1/cb":             true,
		"http://127.0.0.1:51004/callback": true,
		"http://[::1]:8080/cb":            true,
		"http://localhost/cb":             true,
	} {
		if err := registration.CheckRedirectURI(uri, public); err != nil {
			t.Errorf("%s (public %v): %v", uri, public, err)
		}
	}
	for _, uri := range []string{"http://127.0.0.2/cb", "http://localhost.example.com/cb", "http://[::2]/cb", "ftp://x/cb", "https:///cb", "https:opaque", ""} {
		if err := registration.CheckRedirectURI(uri, true); err == nil {
			t.Errorf("%q accepted", uri)
		}
	}
}
