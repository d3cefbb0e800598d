package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/registration"
)

// TestClientsSubcommandsPrintJSON: every clients subcommand that prints
// takes -o json and prints one JSON value.
func TestClientsSubcommandsPrintJSON(t *testing.T) {
	e := newEnv(t)
	created := decodeObject(t, mustRun(t, e, "", append(webApp, "-o", "json")...).out)
	id, _ := created["client_id"].(string)
	if id == "" || created["secret_id"] == nil {
		t.Fatalf("create -o json: %v", created)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "clients", "list", "-o", "json").out), &list); err != nil || len(list) != 1 {
		t.Fatalf("list -o json: %v %v", err, list)
	}
	for _, args := range [][]string{
		{"clients", "get", id},
		{"clients", "update", id, "--name", "Web app (EU)"},
		{"clients", "rotate-secret", id, "--grace", "1h"},
		{"clients", "disable", id, "--yes"},
		{"clients", "enable", id},
		{"clients", "delete", id, "--yes"},
	} {
		m := decodeObject(t, mustRun(t, e, "", append(args, "-o", "json")...).out)
		if m["client_id"] != id {
			t.Errorf("%v -o json: client_id %v", args, m["client_id"])
		}
	}
	if countClients(t, e) != 0 {
		t.Fatal("delete -o json did not delete")
	}
}

// TestClientsExportOutputAlias: export keeps --format and takes -o as its
// alias; the two may not disagree.
func TestClientsExportOutputAlias(t *testing.T) {
	e := newEnv(t)
	createPartner(t, e)
	if out := mustRun(t, e, "", "clients", "export", "-o", "yaml").out; !strings.Contains(out, "client_name: Partner") {
		t.Fatalf("export -o yaml:\n%s", out)
	}
	var specs []registration.ClientSpec
	if err := json.Unmarshal([]byte(mustRun(t, e, "", "clients", "export", "-o", "json").out), &specs); err != nil || len(specs) != 1 {
		t.Fatalf("export -o json: %v", err)
	}
	wantFail(t, run(t, e, "", "clients", "export", "-o", "json", "--format", "yaml"), exitUsage, "disagree")
}

func writeTemp(t *testing.T, name string, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeReport(t *testing.T, out string) []importReportRow {
	t.Helper()
	var rows []importReportRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	return rows
}

// TestClientsImportUpsertAndSkipExisting: --upsert updates existing
// clients and creates new ones, --skip-existing leaves existing ones
// alone; a failing client is reported with its reason without stopping the
// others; the default stays all or nothing.
func TestClientsImportUpsertAndSkipExisting(t *testing.T) {
	e := newEnv(t)
	id, secret := createPartner(t, e)
	mustRun(t, e, "", "clients", "update", id, "--introspect")
	r0 := mustRun(t, e, "", "clients", "get", id, "-o", "json").out
	if decodeObject(t, r0)["introspect"] != true {
		t.Fatalf("setup: %s", r0)
	}
	existing := registration.ClientSpec{ClientID: id, ClientName: "Partner renamed", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic", Scope: "payments"}
	fresh := registration.ClientSpec{ClientID: "new-batch-client", ClientName: "Batch", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}
	bad := registration.ClientSpec{ClientID: "bad-client", ClientName: "Bad", GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: "client_secret_basic", RedirectURIs: []string{"https://a.example/cb#frag"}, ClientSecret: "tiny-secret"}

	// Default: the existing id refuses the whole file.
	file := writeTemp(t, "all.json", []registration.ClientSpec{existing, fresh})
	before := countClients(t, e)
	wantFail(t, run(t, e, "", "clients", "import", file), exitFailure, "already exists")
	if countClients(t, e) != before {
		t.Fatal("a refused all-or-nothing import wrote something")
	}

	r := mustRun(t, e, "", "clients", "import", file, "--skip-existing", "-o", "json")
	rows := decodeReport(t, r.out)
	if len(rows) != 2 || rows[0].Result != importSkipped || rows[1].Result != importCreated || rows[1].Secret == nil {
		t.Fatalf("skip-existing report: %s", r.out)
	}
	if got := mustRun(t, e, "", "clients", "get", id, "-o", "json").out; !strings.Contains(got, `"client_name":"Partner"`) {
		t.Fatalf("skip-existing changed the existing client: %s", got)
	}
	if !authenticates(t, e, "new-batch-client", rows[1].Secret.ClientSecret) {
		t.Fatal("the created client's secret does not authenticate")
	}

	file = writeTemp(t, "upsert.json", []registration.ClientSpec{existing, bad, {ClientID: "another", ClientName: "Another", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"}})
	r = run(t, e, "", "clients", "import", file, "--upsert")
	wantFail(t, r, exitFailure, "1 of 3 client(s) failed")
	for _, want := range []string{"updated", "failed", "redirect_uris", "created"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("upsert report lacks %q:\n%s", want, r.out)
		}
	}
	got := decodeObject(t, mustRun(t, e, "", "clients", "get", id, "-o", "json").out)
	if got["client_name"] != "Partner renamed" || got["scope"] != "payments" {
		t.Fatalf("upsert did not update: %v %v", got["client_name"], got["scope"])
	}
	// Fields the file leaves out are reset, not kept: the registration is the file's.
	if before := decodeObject(t, r0); before["introspect"] == true && got["introspect"] == true {
		t.Fatal("upsert kept a field the file leaves out")
	}
	if !authenticates(t, e, id, secret) {
		t.Fatal("upsert lost the existing client's secret")
	}
	if strings.Contains(r.out+r.errOut, "tiny-secret") {
		t.Fatal("the report quotes a secret")
	}
	if run(t, e, "", "clients", "get", "bad-client").code == 0 {
		t.Fatal("the failed client was written")
	}
	mustRun(t, e, "", "clients", "get", "another")
	wantFail(t, run(t, e, "", "clients", "import", file, "--upsert", "--skip-existing"), exitUsage, "")
}

// TestClientsImportFromHydra: a `hydra list clients --format json` export
// imports; Hydra fields without an equivalent are reported per client, not
// fatal; secret-based clients get new secrets printed once.
func TestClientsImportFromHydra(t *testing.T) {
	e := newEnv(t)
	r := mustRun(t, e, "", "clients", "import", "--from", "hydra", "testdata/hydra-clients.json", "-o", "json")
	rows := decodeReport(t, r.out)
	if len(rows) != 3 {
		t.Fatalf("report: %s", r.out)
	}
	want := [][]string{
		{"allowed_cors_origins", "authorization_code_grant_access_token_lifespan", "metadata", "owner", "subject_type", "userinfo_signed_response_alg"},
		{"client_credentials_grant_access_token_lifespan", "subject_type"},
		nil,
	}
	for i, row := range rows {
		if row.Result != importCreated {
			t.Errorf("client %d: %s %s", i+1, row.Result, row.Reason)
		}
		if strings.Join(row.Unsupported, ",") != strings.Join(want[i], ",") {
			t.Errorf("client %d unsupported = %v, want %v", i+1, row.Unsupported, want[i])
		}
	}
	if rows[0].Secret == nil || rows[1].Secret == nil || rows[2].Secret != nil {
		t.Fatalf("secrets: %s", r.out)
	}
	if !authenticates(t, e, "billing-batch", rows[1].Secret.ClientSecret) {
		t.Fatal("the new secret does not authenticate")
	}
	shop := decodeObject(t, mustRun(t, e, "", "clients", "get", "a3d2b1c0-7e5f-4a9b-8c6d-1e2f3a4b5c6d", "-o", "json").out)
	if shop["access_token_format"] != "jwt" || shop["backchannel_logout_uri"] != "https://shop.example.com/backchannel-logout" || shop["scope"] != "openid offline_access profile" {
		t.Fatalf("shop client: %v", shop)
	}

	// The text report names the fields left out and tells to store secrets.
	e2 := newEnv(t)
	r = mustRun(t, e2, "", "clients", "import", "--from", "hydra", "testdata/hydra-clients.json")
	for _, s := range []string{"not imported: allowed_cors_origins", "Store the new secrets now"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("text report lacks %q:\n%s", s, r.out)
		}
	}
	wantFail(t, run(t, e2, "", "clients", "import", "--from", "keycloak", "testdata/hydra-clients.json"), exitUsage, "--from")
}

// TestClientsImportUpsertRemote: --upsert and --from hydra work the same
// through the admin API.
func TestClientsImportUpsertRemote(t *testing.T) {
	e := newEnv(t)
	api := startAdminAPI(t, e, nil)
	tr, remote := api.tr, api.args
	noDB := env{}
	id, _ := createPartner(t, e)
	file := writeTemp(t, "upsert.json", []registration.ClientSpec{
		{ClientID: id, ClientName: "Partner remote", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"},
		{ClientID: "remote-new", ClientName: "New", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "client_secret_basic"},
	})
	rows := decodeReport(t, mustRunRemote(t, noDB, tr.Client(), remote("clients", "import", file, "--upsert", "-o", "json")...).out)
	if len(rows) != 2 || rows[0].Result != importUpdated || rows[1].Result != importCreated || rows[1].Secret == nil {
		t.Fatalf("remote upsert: %+v", rows)
	}
	if !authenticates(t, e, "remote-new", rows[1].Secret.ClientSecret) {
		t.Fatal("remote-created secret does not authenticate")
	}
	rows = decodeReport(t, mustRunRemote(t, noDB, tr.Client(), remote("clients", "import", "--from", "hydra", "testdata/hydra-clients.json", "-o", "json")...).out)
	if len(rows) != 3 || rows[0].Result != importCreated || len(rows[0].Unsupported) == 0 {
		t.Fatalf("remote hydra import: %+v", rows)
	}
}
