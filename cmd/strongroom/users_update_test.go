package main

import (
	"encoding/json"
	"strings"
	"testing"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/storage"
)

// TestUsersUpdateChangesOnlyTheFlagsGiven: users update changes the fields
// whose flags are given, leaves the others, audits the field names, and a
// new email without --email-verified is unverified.
func TestUsersUpdateChangesOnlyTheFlagsGiven(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice",
		"--email", "alice@example.com", "--name", "Alice Liddell", "--password-stdin").out)
	st := openTestStore(t, e)
	before, err := st.GetUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, "", "users", "update", "alice", "--email-verified", "--given-name", "Alice", "--family-name", "Liddell")
	u, err := st.GetUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !u.EmailVerified || u.GivenName != "Alice" || u.FamilyName != "Liddell" || u.Email != "alice@example.com" ||
		u.Name != "Alice Liddell" || u.PasswordHash != before.PasswordHash || u.Username != "alice" {
		t.Fatalf("after update: %+v", u)
	}
	ev, err := st.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionUserUpdate})
	if err != nil || len(ev) != 1 || ev[0].Target != id || ev[0].Details["fields"] != "email_verified,family_name,given_name" {
		t.Fatalf("audit: %v %+v", err, ev)
	}
	// A new email is unverified unless said otherwise; -o json.
	r := mustRun(t, e, "", "users", "update", id, "--email", "al@example.org", "-o", "json")
	var info authzadmin.UserInfo
	if err := json.Unmarshal([]byte(r.out), &info); err != nil || info.Email != "al@example.org" || info.EmailVerified || info.GivenName != "Alice" {
		t.Fatalf("-o json: %v %+v", err, info)
	}
	// Clearing a field with an empty value.
	mustRun(t, e, "", "users", "update", "alice", "--name", "")
	if u, _ := st.GetUser(t.Context(), id); u.Name != "" {
		t.Errorf("--name \"\" left %q", u.Name)
	}
	wantFail(t, run(t, e, "", "users", "update", "alice"), 2, "nothing to change")
	wantFail(t, run(t, e, "", "users", "update", "alice", "--email", "not an email"), 1, "not an email address")
	wantFail(t, run(t, e, "", "users", "update", "nobody", "--name", "X"), 1, `user "nobody" not found`)
	if u, _ := st.GetUser(t.Context(), id); u.Email != "al@example.org" {
		t.Errorf("a refused update changed the email to %q", u.Email)
	}
}

// TestUsersGetUpdateRemote: users get and update through the admin API
// (--endpoint) give what the local mode gives; exchanges are validated
// against api/openapi.yaml.
func TestUsersGetUpdateRemote(t *testing.T) {
	e := newEnv(t)
	api := startAdminAPI(t, e, nil)
	noDB := env{}
	id := strings.TrimSpace(mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice", "--password-stdin").out)
	mustRunRemote(t, noDB, api.tr.Client(), api.args("users", "update", "alice", "--email", "alice@example.com",
		"--email-verified", "--given-name", "Alice", "--family-name", "Liddell", "--name", "Alice Liddell")...)
	u, err := openTestStore(t, e).GetUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "alice@example.com" || !u.EmailVerified || u.GivenName != "Alice" || u.FamilyName != "Liddell" || u.Name != "Alice Liddell" {
		t.Fatalf("remote update stored %+v", u)
	}
	for _, args := range [][]string{{"users", "get", "alice"}, {"users", "get", id, "-o", "json"}} {
		if l, r := mustRun(t, e, "", args...).out, mustRunRemote(t, noDB, api.tr.Client(), api.args(args...)...).out; l != r {
			t.Errorf("local and remote %v differ:\n%s\n%s", args, l, r)
		}
	}
	r := runRemote(t, noDB, api.tr.Client(), api.args("users", "update", "nobody", "--name", "X")...)
	wantFail(t, r, 1, `user "nobody" not found`)
	r = runRemote(t, noDB, api.tr.Client(), api.args("users", "update", "alice", "--email", "bad")...)
	wantFail(t, r, 1, "not an email address")
}
