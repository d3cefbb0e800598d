package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// partnerApp are the flags of a valid client_credentials client.
var partnerApp = []string{"clients", "create", "--name", "Partner", "--grant-type", "client_credentials",
	"--auth-method", "client_secret_basic", "--scope", "payments"}

// createPartner creates a partner client and returns its id and secret.
func createPartner(t *testing.T, e env) (string, string) {
	t.Helper()
	m := decodeObject(t, mustRun(t, e, "", append(partnerApp, "-o", "json")...).out)
	return m["client_id"].(string), m["client_secret"].(string)
}

// snapshot is every client and the number of audit events, to compare
// before and after a refused command.
func snapshot(t *testing.T, e env) string {
	t.Helper()
	st := openTestStore(t, e)
	clients, err := st.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.ListAudit(t.Context(), storage.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	changes := 0
	for _, ev := range events {
		if ev.Outcome == storage.OutcomeSuccess { // refusals are recorded (admin.auth), and change nothing
			changes++
		}
	}
	b, _ := json.Marshal([]any{clients, changes})
	return string(b)
}

// authenticates reports whether secret matches a live secret of the client.
func authenticates(t *testing.T, e env, id, secret string) bool {
	t.Helper()
	cache := authz.NewClientCache(openTestStore(t, e), 0, nil)
	c, err := cache.Get(t.Context(), id)
	if err != nil {
		return false
	}
	h := hasherFor(t, e)
	for _, hash := range append([][]byte{c.GetHashedSecret()}, c.GetRotatedHashes()...) {
		if h.Compare(t.Context(), hash, []byte(secret)) == nil {
			return true
		}
	}
	return false
}

func TestClientsUpdate(t *testing.T) {
	e := newEnv(t)
	id, secret := createPartner(t, e)
	var got registration.ClientInfo
	r := mustRun(t, e, "", "clients", "update", id, "--name", "Partner Ltd", "--contact", "ops@partner.example",
		"--logo-uri", "https://partner.example/logo.png", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || got.ClientName != "Partner Ltd" ||
		got.LogoURI != "https://partner.example/logo.png" || got.Scope != "payments" || len(got.Contacts) != 1 {
		t.Fatalf("update: %v %s", err, r.out)
	}
	if !authenticates(t, e, id, secret) {
		t.Fatal("update lost the secret")
	}
	r = mustRun(t, e, "", "clients", "update", id, "--scope", "payments refunds")
	if !strings.Contains(r.out, "Updated client "+id) || !strings.Contains(r.out, "payments refunds") {
		t.Errorf("text output:\n%s", r.out)
	}

	before := snapshot(t, e)
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"fail/fragment":       {[]string{"--grant-type", "authorization_code", "--redirect-uri", "https://a.example.com/cb#x"}, 2, "must not contain a fragment"},
		"fail/wildcard":       {[]string{"--grant-type", "authorization_code", "--redirect-uri", "https://*.example.com/cb"}, 2, "must not contain a wildcard"},
		"fail/http":           {[]string{"--grant-type", "authorization_code", "--redirect-uri", "http://a.example.com/cb"}, 2, "must use https"},
		"fail/bad-grant":      {[]string{"--grant-type", "password"}, 2, `unknown grant type "password"`},
		"fail/logo-http":      {[]string{"--logo-uri", "http://a.example.com/logo.png"}, 2, "logo_uri"},
		"fail/nothing":        {nil, 2, "nothing to update"},
		"fail/unknown-flag":   {[]string{"--public"}, 2, "unknown flag: --public"},
		"fail/unknown-client": {[]string{"--name", "x"}, 1, `client "nope" not found`},
	} {
		t.Run(name, func(t *testing.T) {
			target := id
			if strings.Contains(name, "unknown-client") {
				target = "nope"
			}
			wantFail(t, run(t, e, "", append([]string{"clients", "update", target}, tc.args...)...), tc.code, tc.msg)
			if snapshot(t, e) != before {
				t.Error("a refused update changed the clients or the audit trail")
			}
		})
	}
}

func TestClientsRotateRevokeSecret(t *testing.T) {
	e := newEnv(t)
	id, oldSecret := createPartner(t, e)
	var issued authzadmin.IssuedSecret
	r := mustRun(t, e, "", "clients", "rotate-secret", id, "--grace", "24h", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &issued); err != nil || issued.ClientSecret == "" || issued.PreviousSecretID == "" {
		t.Fatalf("rotate: %v %s", err, r.out)
	}
	if !authenticates(t, e, id, oldSecret) || !authenticates(t, e, id, issued.ClientSecret) {
		t.Fatal("during the grace both secrets must authenticate")
	}
	list := mustRun(t, e, "", "clients", "list")
	if !strings.Contains(list.out, "EXPIRING SOON") || !strings.Contains(list.out, issued.PreviousExpiresAt.UTC().Format("2006-01-02T15:04:05Z")) {
		t.Errorf("list does not show the expiring secret:\n%s", list.out)
	}
	exp := mustRun(t, e, "", "clients", "list", "--expiring", "-o", "json")
	var expiring []registration.ClientInfo
	if err := json.Unmarshal([]byte(exp.out), &expiring); err != nil || len(expiring) != 1 || !expiring[0].SecretsExpiringSoon {
		t.Fatalf("list --expiring: %v %s", err, exp.out)
	}
	get := mustRun(t, e, "", "clients", "get", id)
	if !strings.Contains(get.out, "Secret "+issued.PreviousSecretID) || !strings.Contains(get.out, "expiring") {
		t.Errorf("get:\n%s", get.out)
	}
	for _, out := range []string{list.out, exp.out, get.out} {
		if strings.Contains(out, oldSecret) || strings.Contains(out, issued.ClientSecret) {
			t.Fatal("a listing shows a secret")
		}
	}

	before := snapshot(t, e)
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"fail/third-secret":      {[]string{"clients", "rotate-secret", id, "--grace", "1h"}, 1, "two live secrets"},
		"fail/no-grace-flag":     {[]string{"clients", "rotate-secret", id}, 2, `required flag(s) "grace" not set`},
		"fail/grace-zero-no-tty": {[]string{"clients", "rotate-secret", id, "--grace", "0"}, 2, "pass --yes"},
		"fail/negative-grace":    {[]string{"clients", "rotate-secret", id, "--grace", "-1h"}, 2, "must not be negative"},
		"fail/grace-too-long":    {[]string{"clients", "rotate-secret", id, "--grace", "9000h"}, 2, "grace must be between"},
		"fail/unknown-client":    {[]string{"clients", "rotate-secret", "nope", "--grace", "1h"}, 1, `client "nope" not found`},
		"fail/revoke-unknown":    {[]string{"clients", "revoke-secret", id, "000000000000", "--yes"}, 1, "has no secret"},
		"fail/revoke-no-yes":     {[]string{"clients", "revoke-secret", id, issued.PreviousSecretID}, 2, "pass --yes"},
		"fail/revoke-args":       {[]string{"clients", "revoke-secret", id}, 2, "accepts 2 arg(s)"},
	} {
		t.Run(name, func(t *testing.T) {
			wantFail(t, run(t, e, "", tc.args...), tc.code, tc.msg)
			if snapshot(t, e) != before {
				t.Error("a refused command changed the clients or the audit trail")
			}
		})
	}

	r = mustRun(t, e, "", "clients", "revoke-secret", id, issued.PreviousSecretID, "--yes")
	if !strings.Contains(r.out, "Revoked secret "+issued.PreviousSecretID) {
		t.Errorf("revoke: %s", r.out)
	}
	if authenticates(t, e, id, oldSecret) || !authenticates(t, e, id, issued.ClientSecret) {
		t.Fatal("revoke must end the old secret and keep the new one")
	}
	// Text output of a rotation prints the secret once, with the grace.
	r = mustRun(t, e, "", "clients", "rotate-secret", id, "--grace", "2h", "--expires-in", "2160h")
	for _, s := range []string{"client_secret:", "secret_id:", "expires:", "keeps working until", "shown only this once"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("rotate text lacks %q:\n%s", s, r.out)
		}
	}
	// Confirmed on a "terminal": --grace 0 ends the old secret at once.
	audit := mustRun(t, e, "", "audit", "list", "--target", id, "-o", "json")
	var events []authzadmin.AuditEvent
	if err := json.Unmarshal([]byte(audit.out), &events); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
		if !strings.HasPrefix(ev.Actor, "operator:") || ev.Details["source"] != "cli" {
			t.Errorf("event %+v", ev)
		}
	}
	if strings.Join(actions, " ") != "client.secret.rotate client.secret.revoke client.secret.rotate client.create" {
		t.Errorf("audit actions %v", actions)
	}
	if strings.Contains(audit.out, oldSecret) || strings.Contains(audit.out, issued.ClientSecret) {
		t.Fatal("secret in the audit trail")
	}
}

func TestClientsDisableEnable(t *testing.T) {
	e := newEnv(t)
	id, secret := createPartner(t, e)
	before := snapshot(t, e)
	wantFail(t, run(t, e, "", "clients", "disable", id), exitUsage, "pass --yes")
	wantFail(t, run(t, e, "", "clients", "disable", "nope", "--yes"), exitFailure, `client "nope" not found`)
	if snapshot(t, e) != before {
		t.Fatal("a refused disable changed something")
	}
	r := mustRun(t, e, "", "clients", "disable", id, "--yes")
	if !strings.Contains(r.out, "Disabled client "+id) || authenticates(t, e, id, secret) {
		t.Fatalf("disable: %s", r.out)
	}
	if !strings.Contains(mustRun(t, e, "", "clients", "list").out, "yes") {
		t.Error("list does not show the client disabled")
	}
	var v registration.ClientInfo
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "clients", "enable", id, "-o", "json").out), &v); err != nil || v.Disabled {
		t.Fatalf("enable: %v %+v", err, v)
	}
	if !authenticates(t, e, id, secret) {
		t.Fatal("enabled client does not authenticate")
	}
}

func TestClientsImportExport(t *testing.T) {
	src := newEnv(t)
	id, _ := createPartner(t, src)
	mustRun(t, src, "", webApp...)
	dir := t.TempDir()

	jsonOut := mustRun(t, src, "", "clients", "export").out
	var specs []registration.ClientSpec
	if err := json.Unmarshal([]byte(jsonOut), &specs); err != nil || len(specs) != 2 {
		t.Fatalf("export: %v %s", err, jsonOut)
	}
	if strings.Contains(jsonOut, `"client_secret":`) {
		t.Fatal("export carries a secret")
	}
	yamlFile := filepath.Join(dir, "clients.yaml")
	r := mustRun(t, src, "", "clients", "export", "-f", yamlFile)
	if !strings.Contains(r.errOut, "Exported 2 client(s)") {
		t.Errorf("stderr %q", r.errOut)
	}
	data, _ := os.ReadFile(yamlFile)
	if !strings.Contains(string(data), "client_name: Partner") {
		t.Fatalf("YAML export:\n%s", data)
	}
	one := mustRun(t, src, "", "clients", "export", id, "--format", "yaml").out
	if strings.Count(one, "client_id:") != 1 {
		t.Fatalf("export one:\n%s", one)
	}
	wantFail(t, run(t, src, "", "clients", "export", "nope"), exitFailure, `client "nope" not found`)

	// Into another environment, from YAML: same registrations, new secrets.
	dst := newEnv(t)
	r = mustRun(t, dst, "", "clients", "import", yamlFile, "-o", "json")
	var res []authzadmin.ImportResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || len(res) != 2 || res[0].Secret == nil {
		t.Fatalf("import: %v %s", err, r.out)
	}
	if got := mustRun(t, dst, "", "clients", "export").out; got != jsonOut {
		t.Fatalf("round trip differs:\n%s\n%s", got, jsonOut)
	}
	for _, ir := range res {
		if !authenticates(t, dst, ir.ClientID, ir.Secret.ClientSecret) {
			t.Fatal("generated secret does not authenticate")
		}
	}

	// An existing plain secret is accepted and hashed.
	third := newEnv(t)
	plain := strings.Repeat("k", 40)
	specs[0].ClientSecret = plain
	raw, _ := json.Marshal(specs[:1])
	jsonFile := filepath.Join(dir, "one.json")
	if err := os.WriteFile(jsonFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, third, "", "clients", "import", jsonFile)
	if !strings.Contains(r.out, "Imported 1 client(s)") || strings.Contains(r.out, plain) {
		t.Fatalf("import text:\n%s", r.out)
	}
	if !authenticates(t, third, specs[0].ClientID, plain) {
		t.Fatal("imported plain secret does not authenticate")
	}

	// Malformed or invalid files change nothing, and say why.
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := snapshot(t, dst)
	for name, tc := range map[string]struct {
		file string
		code int
		msg  string
	}{
		"fail/not-json":      {write("bad.json", `[{"client_name": "x",`), 1, "invalid JSON"},
		"fail/not-yaml":      {write("bad.yaml", "- client_name: [unclosed\n"), 1, "invalid YAML"},
		"fail/unknown-field": {write("unknown.json", `[{"client_name":"x","grant_type":"client_credentials"}]`), 1, `unknown field "grant_type"`},
		"fail/invalid":       {write("invalid.json", `[{"client_name":"ok","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"},{"client_name":"x","grant_types":["authorization_code"],"token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://a.example/cb#frag"]}]`), 1, "client 2: redirect_uris"},
		"fail/existing-id":   {write("existing.json", `[{"client_name":"new","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"},{"client_id":"`+id+`","client_name":"x","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}]`), 1, "already exists"},
		"fail/short-secret":  {write("short.json", `{"client_name":"x","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","client_secret":"tiny-secret"}`), 1, "at least 32 characters"},
		"fail/empty":         {write("empty.json", ``), 1, "empty document"},
		"fail/missing-file":  {filepath.Join(dir, "nope.json"), 1, "no such file"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, dst, "", "clients", "import", tc.file)
			wantFail(t, r, tc.code, tc.msg)
			if strings.Contains(r.errOut, "tiny-secret") {
				t.Error("the error quotes a secret")
			}
			if snapshot(t, dst) != before {
				t.Error("a refused import changed the clients or the audit trail")
			}
		})
	}
	wantFail(t, run(t, dst, "", "clients", "import", yamlFile, "--format", "toml"), exitUsage, `--format must be "json" or "yaml"`)
}

func TestClientsImportShowsProgress(t *testing.T) {
	e := newEnv(t)
	var specs []registration.ClientSpec
	for range 25 {
		specs = append(specs, registration.ClientSpec{ClientName: "bulk", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "private_key_jwt", JWKSURI: "https://bulk.example/jwks"})
	}
	raw, _ := json.Marshal(specs)
	r := mustRun(t, e, string(raw), "clients", "import", "-")
	if !strings.Contains(r.errOut, "Imported 2/25 clients") || !strings.Contains(r.errOut, "Imported 25/25 clients") {
		t.Errorf("progress: %q", r.errOut)
	}
	if countClients(t, e) != 25 {
		t.Fatal("not every client imported")
	}
}

func TestAuditList(t *testing.T) {
	e := newEnv(t)
	id, _ := createPartner(t, e)
	mustRun(t, e, "", "clients", "update", id, "--name", "P2")
	r := mustRun(t, e, "", "audit", "list")
	for _, s := range []string{"TIME", "ACTOR", "ACTION", "TARGET", "client.update", "client.create", id, "fields=client_name", "cli"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("audit list lacks %q:\n%s", s, r.out)
		}
	}
	var events []authzadmin.AuditEvent
	r = mustRun(t, e, "", "audit", "list", "--action", "client.update", "--since", "1h", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &events); err != nil || len(events) != 1 || events[0].Target != id {
		t.Fatalf("filtered: %v %s", err, r.out)
	}
	r = mustRun(t, e, "", "audit", "list", "--since", "2999-01-01T00:00:00Z", "-o", "json")
	if strings.TrimSpace(r.out) != "[]" {
		t.Errorf("future since: %s", r.out)
	}
	wantFail(t, run(t, e, "", "audit", "list", "--since", "yesterday"), exitUsage, "--since must be")
	wantFail(t, run(t, e, "", "audit", "list", "--limit", "0"), exitUsage, "--limit must be")
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := mustRun(t, env{}, "", "completion", sh)
		if !strings.Contains(r.out, "strongroom") || len(r.out) < 500 {
			t.Errorf("%s completion: %d bytes", sh, len(r.out))
		}
	}
	wantFail(t, run(t, env{}, "", "completion", "powershell"), exitUsage, "invalid argument")
	wantFail(t, run(t, env{}, "", "completion"), exitUsage, "accepts 1 arg(s)")
	if r := mustRun(t, env{}, "", "completion", "--help"); !strings.Contains(r.out, "Examples:") {
		t.Errorf("completion help:\n%s", r.out)
	}
}

func TestNewCommandsHaveHelpWithExamples(t *testing.T) {
	for _, args := range [][]string{
		{"clients", "update"}, {"clients", "rotate-secret"}, {"clients", "revoke-secret"}, {"clients", "disable"},
		{"clients", "enable"}, {"clients", "import"}, {"clients", "export"}, {"clients", "list"}, {"audit", "list"}, {"audit"},
	} {
		r := mustRun(t, env{}, "", append(args, "--help")...)
		if !strings.Contains(r.out, "Examples:") || !strings.Contains(r.out, "strongroom "+args[0]) {
			t.Errorf("%v --help lacks examples:\n%s", args, r.out)
		}
	}
}

// fakeTokens accepts the token "operator-token" as client "ops".
type fakeTokens struct{}

func (fakeTokens) AuthenticateAdmin(_ context.Context, token string) (string, error) {
	if token == "operator-token" {
		return "ops", nil
	}
	return "", authz.ErrAdminTokenInvalid
}

// runRemote runs the command with an admin API client.
func runRemote(t *testing.T, e env, client *http.Client, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{in: strings.NewReader(""), out: &out, errOut: &errOut, log: slog.New(slog.DiscardHandler),
		getenv: func(k string) string { return e[k] }, httpClient: client}
	code := execute(t.Context(), newRootCmd(a), args, &errOut)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

func TestRemoteMode(t *testing.T) {
	e := newEnv(t)
	api := startAdminAPI(t, e, nil)
	tr, remote := api.tr, api.args
	noDB := env{} // remote mode needs neither DATABASE_URL nor STRONGROOM_SECRET

	m := decodeObject(t, mustRunRemote(t, noDB, tr.Client(), remote(append(partnerApp, "-o", "json")...)...).out)
	id, secret := m["client_id"].(string), m["client_secret"].(string)
	if !authenticates(t, e, id, secret) {
		t.Fatal("remote create: secret does not authenticate")
	}
	// Same output as the local mode.
	if l, r := mustRun(t, e, "", "clients", "list", "-o", "json").out, mustRunRemote(t, noDB, tr.Client(), remote("clients", "list", "-o", "json")...).out; l != r {
		t.Errorf("local and remote list differ:\n%s\n%s", l, r)
	}
	if l, r := mustRun(t, e, "", "clients", "get", id).out, mustRunRemote(t, noDB, tr.Client(), remote("clients", "get", id)...).out; l != r {
		t.Errorf("local and remote get differ:\n%s\n%s", l, r)
	}
	var issued authzadmin.IssuedSecret
	if err := json.Unmarshal([]byte(mustRunRemote(t, noDB, tr.Client(), remote("clients", "rotate-secret", id, "--grace", "1h", "-o", "json")...).out), &issued); err != nil {
		t.Fatal(err)
	}
	if !authenticates(t, e, id, secret) || !authenticates(t, e, id, issued.ClientSecret) {
		t.Fatal("remote rotation: both secrets must work during the grace")
	}
	mustRunRemote(t, noDB, tr.Client(), remote("clients", "update", id, "--name", "Remote")...)
	mustRunRemote(t, noDB, tr.Client(), remote("clients", "revoke-secret", id, issued.PreviousSecretID, "--yes")...)
	mustRunRemote(t, noDB, tr.Client(), remote("clients", "disable", id, "--yes")...)
	mustRunRemote(t, noDB, tr.Client(), remote("clients", "enable", id)...)
	exported := mustRunRemote(t, noDB, tr.Client(), remote("clients", "export", id)...).out
	if !strings.Contains(exported, `"client_name": "Remote"`) {
		t.Errorf("remote export:\n%s", exported)
	}
	r := mustRunRemote(t, noDB, tr.Client(), remote("audit", "list", "--target", id, "-o", "json")...)
	var all, events []authzadmin.AuditEvent
	reads := 0
	if err := json.Unmarshal([]byte(r.out), &all); err != nil {
		t.Fatalf("remote audit: %v %s", err, r.out)
	}
	for _, ev := range all {
		if ev.Action == "admin.read" { // the commands' look-ups before confirming (issue 7: reads are audited)
			reads++
			continue
		}
		events = append(events, ev)
	}
	if len(events) != 6 || reads != 3 || events[0].Actor != "client:ops" || events[0].Details["source"] != "admin-api" {
		t.Fatalf("remote audit: %d reads, %s", reads, r.out)
	}

	before := snapshot(t, e)
	badToken := filepath.Join(t.TempDir(), "bad.token")
	_ = os.WriteFile(badToken, []byte("expired"), 0o600)
	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"fail/bad-token":       {[]string{"clients", "list", "--endpoint", api.url, "--token-file", badToken}, 1, "admin API refused the token (401"},
		"fail/no-token-file":   {[]string{"clients", "list", "--endpoint", api.url}, 2, "--endpoint needs --token-file"},
		"fail/token-file-only": {[]string{"clients", "list", "--token-file", api.tokenFile}, 2, "--token-file is used only with --endpoint"},
		"fail/http-remote":     {[]string{"clients", "list", "--endpoint", "http://auth.example.com:8081", "--token-file", api.tokenFile}, 2, "must use https"},
		"fail/validation":      {remote("clients", "update", id, "--redirect-uri", "https://a.example/cb#x", "--grant-type", "authorization_code"), 2, "must not contain a fragment"},
		"fail/unknown-client":  {remote("clients", "rotate-secret", "nope", "--grace", "1h"), 1, `client "nope" not found`},
		"fail/unreachable":     {[]string{"clients", "list", "--endpoint", "http://127.0.0.1:1", "--token-file", api.tokenFile}, 1, "cannot reach the admin API"},
	} {
		t.Run(name, func(t *testing.T) {
			wantFail(t, runRemote(t, noDB, tr.Client(), tc.args...), tc.code, tc.msg)
			if snapshot(t, e) != before {
				t.Error("a refused command changed something")
			}
		})
	}
	if tr.Checked() < 12 {
		t.Errorf("only %d exchanges checked against the OpenAPI document", tr.Checked())
	}
}

func mustRunRemote(t *testing.T, e env, client *http.Client, args ...string) result {
	t.Helper()
	r := runRemote(t, e, client, args...)
	if r.code != 0 {
		t.Fatalf("strongroom %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return r
}
