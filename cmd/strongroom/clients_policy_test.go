package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/registration"
)

// The admin scope can be registered only on a confidential client whose sole
// grant type is client_credentials: create, update and import refuse it on
// anything else with a message that names the flag, and store nothing.
func TestClientsRefuseAdminScopeOnUserFacingClients(t *testing.T) {
	e := newEnv(t)
	ops := decodeObject(t, mustRun(t, e, "", "clients", "create", "--name", "ops", "--grant-type", "client_credentials",
		"--auth-method", "client_secret_basic", "--scope", authz.AdminScope, "-o", "json").out)["client_id"].(string)
	web := decodeObject(t, mustRun(t, e, "", append(webApp, "-o", "json")...).out)["client_id"].(string)
	before := countClients(t, e)

	const msg = "--scope (scope): strongroom:admin is for operator clients using only grant type client_credentials"
	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"fail/create-authorization-code": {[]string{"clients", "create", "--name", "x", "--grant-type", "authorization_code",
			"--redirect-uri", "https://app.example.com/cb", "--auth-method", "client_secret_basic", "--scope", "openid strongroom:admin"}, msg + "; remove grant type authorization_code"},
		"fail/create-code-and-client-credentials": {[]string{"clients", "create", "--name", "x", "--grant-type", "authorization_code", "--grant-type", "client_credentials",
			"--redirect-uri", "https://app.example.com/cb", "--auth-method", "client_secret_basic", "--scope", "strongroom:admin"}, msg},
		"fail/create-public": {[]string{"clients", "create", "--name", "x", "--public", "--auth-method", "none", "--grant-type", "authorization_code",
			"--redirect-uri", "http://127.0.0.1/cb", "--scope", "strongroom:admin"}, "--scope (scope): strongroom:admin requires a confidential client"},
		"fail/create-case-variant": {[]string{"clients", "create", "--name", "x", "--grant-type", "client_credentials",
			"--auth-method", "client_secret_basic", "--scope", "STRONGROOM:ADMIN"}, `"STRONGROOM:ADMIN" differs from strongroom:admin only in case`},
		"fail/update-adds-scope-to-web-app": {[]string{"clients", "update", web, "--scope", "openid strongroom:admin"}, msg + "; remove grant type authorization_code"},
		"fail/update-adds-user-grant-to-ops": {[]string{"clients", "update", ops, "--grant-type", "client_credentials", "--grant-type", "authorization_code",
			"--redirect-uri", "https://app.example.com/cb"}, msg},
	} {
		t.Run(name, func(t *testing.T) {
			wantFail(t, run(t, e, "", tc.args...), exitUsage, tc.msg)
			if n := countClients(t, e); n != before {
				t.Errorf("%d clients stored, want %d", n, before)
			}
		})
	}
	got := decodeObject(t, mustRun(t, e, "", "clients", "get", web, "-o", "json").out)
	if got["scope"] != "openid profile offline_access" {
		t.Errorf("a refused update changed the web app: %v", got["scope"])
	}

	file := filepath.Join(t.TempDir(), "clients.json")
	if err := os.WriteFile(file, []byte(`[{"client_name":"fine","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"strongroom:admin"},
{"client_name":"app","grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"client_secret_basic","scope":"openid strongroom:admin"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, e, "", "clients", "import", file)
	wantFail(t, r, exitFailure, "client 2: scope: strongroom:admin is for operator clients using only grant type client_credentials; remove grant type authorization_code")
	if !strings.Contains(r.errOut, "nothing was imported") || countClients(t, e) != before {
		t.Errorf("import partly applied: %d clients\n%s", countClients(t, e), r.errOut)
	}
}

// --introspect is stored, shown, changed by update, and carried by export
// and import; a public client cannot have it.
func TestClientsIntrospectFlag(t *testing.T) {
	e := newEnv(t)
	rs := decodeObject(t, mustRun(t, e, "", "clients", "create", "--name", "Payments API", "--grant-type", "client_credentials",
		"--auth-method", "client_secret_basic", "--introspect", "-o", "json").out)["client_id"].(string)
	if got := decodeObject(t, mustRun(t, e, "", "clients", "get", rs, "-o", "json").out); got["introspect"] != true {
		t.Fatalf("introspect not stored: %v", got)
	}
	if out := mustRun(t, e, "", "clients", "get", rs).out; !strings.Contains(out, "Introspect:") || !strings.Contains(out, "yes") {
		t.Errorf("get does not show the right:\n%s", out)
	}
	exported := mustRun(t, e, "", "clients", "export", rs).out
	var specs []registration.ClientSpec
	if err := json.Unmarshal([]byte(exported), &specs); err != nil || len(specs) != 1 || !specs[0].Introspect {
		t.Fatalf("export: %v %s", err, exported)
	}
	dst := newEnv(t)
	file := filepath.Join(t.TempDir(), "rs.json")
	if err := os.WriteFile(file, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dst, "", "clients", "import", file)
	if got := decodeObject(t, mustRun(t, dst, "", "clients", "get", rs, "-o", "json").out); got["introspect"] != true {
		t.Fatalf("import lost the right: %v", got)
	}

	mustRun(t, e, "", "clients", "update", rs, "--introspect=false")
	if got := decodeObject(t, mustRun(t, e, "", "clients", "get", rs, "-o", "json").out); got["introspect"] != nil {
		t.Fatalf("update did not withdraw the right: %v", got)
	}
	wantFail(t, run(t, e, "", append(nativeApp, "--introspect")...), exitUsage, "--introspect (introspect) requires a confidential client")
}
