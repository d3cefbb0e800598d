package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// TestConfidentialLoopbackRedirectNeedsExplicitFlag: a confidential client
// may register http://127.0.0.1 or http://localhost redirect URIs only with
// clients --allow-insecure-redirects (local development); without it the
// refusal names the flag; other http hosts stay refused even with it; and
// the flag is refused in remote mode, where the server's setting decides.
func TestConfidentialLoopbackRedirectNeedsExplicitFlag(t *testing.T) {
	e := newEnv(t)
	create := func(uri string, extra ...string) []string {
		return append([]string{"clients", "create", "--name", "local web", "--auth-method", "client_secret_basic",
			"--grant-type", "authorization_code", "--redirect-uri", uri}, extra...)
	}
	r := run(t, e, "", create("http://localhost:3000/callback")...)
	wantFail(t, r, 2, "--allow-insecure-redirects")
	if n := countClients(t, e); n != 0 {
		t.Fatalf("%d clients stored after the refusal", n)
	}

	mustRun(t, e, "", create("http://localhost:3000/callback", "--allow-insecure-redirects")...)
	mustRun(t, e, "", create("http://127.0.0.1:3000/callback", "--allow-insecure-redirects")...)
	if n := countClients(t, e); n != 2 {
		t.Fatalf("%d clients stored, want 2", n)
	}

	r = run(t, e, "", create("http://app.example.com/callback", "--allow-insecure-redirects")...)
	wantFail(t, r, 2, "must use https")

	r = run(t, e, "", create("http://localhost:3000/callback", "--allow-insecure-redirects",
		"--endpoint", "https://auth.internal:8081", "--token-file", "/nonexistent")...)
	wantFail(t, r, 2, "a remote server decides with serve --allow-insecure-redirects")
	if strings.Contains(r.errOut, "nonexistent") {
		t.Errorf("the token file was read: %s", r.errOut)
	}
}

// TestServerAllowsInsecureRedirectsOnlyWhenConfigured: through a running
// server's admin API, a confidential client with a loopback http redirect
// URI is refused by default (the problem names the flag) and accepted when
// the server runs with AllowInsecureRedirects (serve
// --allow-insecure-redirects).
func TestServerAllowsInsecureRedirectsOnlyWhenConfigured(t *testing.T) {
	for _, allow := range []bool{false, true} {
		srv := servertest.Start(t, func(c *server.Config) { c.AllowInsecureRedirects = allow })
		adminURL := srv.StartAdmin(t, server.AdminOptions{})
		ops := &storage.Client{ID: "ops-cli", Name: "ops", GrantTypes: []string{"client_credentials"}, Scopes: []string{authz.AdminScope},
			TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque}
		secretFile := filepath.Join(t.TempDir(), "ops.secret")
		if err := os.WriteFile(secretFile, []byte(srv.CreateClient(t, ops)), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, env{}, "", "clients", "create", "--name", "local web", "--auth-method", "client_secret_basic",
			"--grant-type", "authorization_code", "--redirect-uri", "http://localhost:3000/callback",
			"--endpoint", adminURL, "--client-id", ops.ID, "--client-secret-file", secretFile, "--issuer", srv.Issuer)
		if !allow {
			wantFail(t, r, exitUsage, "--allow-insecure-redirects")
			continue
		}
		if r.code != 0 {
			t.Fatalf("with AllowInsecureRedirects: exit %d: %s", r.code, r.errOut)
		}
	}
}
