package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// The authorization details types (RFC 9396) an operator registers: a
// schema that compiles, listed beside the built-in payment_initiation,
// removable; a bad schema, a taken or built-in name is refused. A client
// lists the types it may request with --authorization-details-type.
func TestAuthorizationTypesCommands(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "acct.json")
	if err := os.WriteFile(good, []byte(`{"type":"object","required":["type","accounts"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"$ref":"https://example.com/s.json"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	r := mustRun(t, e, "", "authorization-types", "add", "--type", "account_information", "--schema", good)
	if !strings.Contains(r.out, "account_information added") {
		t.Errorf("output %q", r.out)
	}
	wantFail(t, run(t, e, "", "authorization-types", "add", "--type", "account_information", "--schema", good), 1, "already exists")
	wantFail(t, run(t, e, "", "authorization-types", "add", "--type", "payment_initiation", "--schema", good), 1, "built in")
	wantFail(t, run(t, e, "", "authorization-types", "add", "--type", "remote_ref", "--schema", bad), 1, "schema")
	wantFail(t, run(t, e, "", "authorization-types", "add", "--type", "x"), 2, "--type and --schema are required")
	wantFail(t, run(t, e, "", "authorization-types", "remove", "--type", "payment_initiation"), 1, "built in")
	wantFail(t, run(t, e, "", "authorization-types", "remove", "--type", "ghost"), 1, "not found")

	r = mustRun(t, e, "", "authorization-types", "list", "-o", "json")
	var list []struct {
		Type    string `json:"type"`
		Builtin bool   `json:"builtin"`
	}
	if err := json.Unmarshal([]byte(r.out), &list); err != nil {
		t.Fatalf("%v: %s", err, r.out)
	}
	if len(list) != 2 || list[0].Type != "payment_initiation" || !list[0].Builtin || list[1].Type != "account_information" || list[1].Builtin {
		t.Fatalf("list %+v", list)
	}
	r = mustRun(t, e, "", "authorization-types", "list")
	if !strings.Contains(r.out, "payment_initiation") || !strings.Contains(r.out, "built in") || !strings.Contains(r.out, "registered") {
		t.Errorf("table %q", r.out)
	}

	// a client allowed both types, then only one
	r = mustRun(t, e, "", append(slices.Clone(webApp), "-o", "json",
		"--authorization-details-type", "payment_initiation", "--authorization-details-type", "account_information")...)
	id := decodeObject(t, r.out)["client_id"].(string)
	c, err := openTestStore(t, e).GetClient(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Metadata.AuthorizationDetailsTypes; !slices.Equal(got, []string{"payment_initiation", "account_information"}) {
		t.Fatalf("stored types %q", got)
	}
	mustRun(t, e, "", "clients", "update", id, "--authorization-details-type", "payment_initiation")
	r = mustRun(t, e, "", "clients", "get", id)
	if !strings.Contains(r.out, "Authorization details types:") || !strings.Contains(r.out, "payment_initiation") || strings.Contains(r.out, "account_information") {
		t.Errorf("clients get %q", r.out)
	}
	wantFail(t, run(t, e, "", "clients", "update", id, "--authorization-details-type", "has space"), 2, "authorization_details_types")

	mustRun(t, e, "", "authorization-types", "remove", "--type", "account_information")
	if _, err := openTestStore(t, e).GetAuthorizationType(t.Context(), "account_information"); err == nil {
		t.Error("the removed type is still stored")
	}
}

// The same commands on the admin API (--endpoint): what one mode adds the
// other lists; refusals read alike.
func TestAuthorizationTypesCommandsRemote(t *testing.T) {
	e := newEnv(t)
	api := startAdminAPI(t, e, nil)
	schema := filepath.Join(t.TempDir(), "acct.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, "", api.args("authorization-types", "add", "--type", "account_information", "--schema", schema)...)
	if r := mustRun(t, e, "", "authorization-types", "list"); !strings.Contains(r.out, "account_information") {
		t.Fatalf("local list after a remote add: %q", r.out)
	}
	wantFail(t, run(t, e, "", api.args("authorization-types", "add", "--type", "account_information", "--schema", schema)...), 1, "already exists")
	wantFail(t, run(t, e, "", api.args("authorization-types", "remove", "--type", "payment_initiation")...), 1, "built in")
	r := mustRun(t, e, "", api.args("authorization-types", "list", "-o", "json")...)
	if !strings.Contains(r.out, `"payment_initiation"`) || !strings.Contains(r.out, `"account_information"`) {
		t.Fatalf("remote list %q", r.out)
	}
	mustRun(t, e, "", api.args("authorization-types", "remove", "--type", "account_information")...)
	if r := mustRun(t, e, "", "authorization-types", "list"); strings.Contains(r.out, "account_information") {
		t.Fatalf("still listed after a remote remove: %q", r.out)
	}
}

// users grants list shows the authorization details (RFC 9396) the user
// approved last, in the table and in JSON.
func TestUsersGrantsListShowsAuthorizationDetails(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)
	details := `[{"creditorName":"ACME Ltd","instructedAmount":{"amount":"250.00","currency":"EUR"},"type":"payment_initiation"}]`
	if err := s.store.SaveConsent(t.Context(), &storage.Consent{UserID: s.userID, ClientID: s.clientID, Scopes: []string{"openid"},
		AuthorizationDetails: []byte(details), GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, e, "", "users", "grants", "list", "alice", "-o", "json")
	var got []grantView
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 1 || string(got[0].AuthorizationDetails) != details {
		t.Fatalf("grants list: %v %s", err, r.out)
	}
	r = mustRun(t, e, "", "users", "grants", "list", "alice")
	if !strings.Contains(r.out, "AUTHORIZATION DETAILS") || !strings.Contains(r.out, `"amount":"250.00"`) {
		t.Fatalf("table: %s", r.out)
	}
}
