package main

import (
	"encoding/json"
	"strings"
	"testing"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// TestUsersPhoneNumberGetUpdateRoundTrip: users create --phone-number, get
// and update carry the E.164 phone number; a new number is unverified
// unless --phone-number-verified is given; garbage is refused with nothing
// written.
func TestUsersPhoneNumberGetUpdateRoundTrip(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice",
		"--phone-number", "+14155550100", "--password-stdin").out)
	r := mustRun(t, e, "", "users", "get", "alice")
	if !strings.Contains(r.out, "+14155550100") {
		t.Fatalf("get does not show the phone number:\n%s", r.out)
	}
	mustRun(t, e, "", "users", "update", "alice", "--phone-number-verified")
	var info authzadmin.UserInfo
	r = mustRun(t, e, "", "users", "get", id, "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &info); err != nil || info.PhoneNumber != "+14155550100" || !info.PhoneNumberVerified {
		t.Fatalf("after --phone-number-verified: %v %+v", err, info)
	}
	r = mustRun(t, e, "", "users", "update", "alice", "--phone-number", "+442071838750", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &info); err != nil || info.PhoneNumber != "+442071838750" || info.PhoneNumberVerified {
		t.Fatalf("a new number: %v %+v", err, info)
	}

	st := openTestStore(t, e)
	for _, bad := range []string{"4155550100", "+1 415 555 0100", "+1234567", "+1234567890123456", "+1415555O100"} {
		wantFail(t, run(t, e, "", "users", "update", "alice", "--phone-number", bad), 1, "E.164")
	}
	wantFail(t, run(t, e, alicePassword+"\n", "users", "create", "--username", "bob",
		"--phone-number", "555-0100", "--password-stdin"), 2, "E.164")
	if u, err := st.GetUser(t.Context(), id); err != nil || u.PhoneNumber != "+442071838750" || u.PhoneNumberVerified {
		t.Fatalf("a refused update changed the user: %v %+v", err, u)
	}
	if _, err := st.GetUserByUsername(t.Context(), "bob"); err == nil {
		t.Fatal("a create with a bad phone number wrote the user")
	}
}

// TestUsersImportExportPhoneNumber: users import keeps phone_number and
// phone_number_verified, users export writes them back, and an import with
// a malformed number fails whole with nothing written.
func TestUsersImportExportPhoneNumber(t *testing.T) {
	e := newEnv(t)
	ah := cheapArgon2Hash(t, "argon password 1")
	bad := writeFile(t, "bad.jsonl", `{"username": "cat", "password_hash": "`+ah+`"}
{"username": "dan", "phone_number": "0044 20 7183 8750", "password_hash": "`+ah+`"}
`)
	wantFail(t, run(t, e, "", "users", "import", bad), 1, "import failed")
	st := openTestStore(t, e)
	if users, err := st.ListUsers(t.Context()); err != nil || len(users) != 0 {
		t.Fatalf("a failed import wrote %d users (%v)", len(users), err)
	}

	file := writeFile(t, "users.jsonl", `{"username": "ann", "phone_number": "+14155550100", "phone_number_verified": true, "password_hash": "`+ah+`"}
{"username": "bea", "password_hash": "`+ah+`"}
`)
	mustRun(t, e, "", "users", "import", file)
	ann, err := st.GetUserByUsername(t.Context(), "ann")
	if err != nil || ann.PhoneNumber != "+14155550100" || !ann.PhoneNumberVerified {
		t.Fatalf("ann stored as %v %+v", err, ann)
	}
	out := mustRun(t, e, "", "users", "export").out
	var recs []authzadmin.UserRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec authzadmin.UserRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 2 || recs[0].PhoneNumber != "+14155550100" || !recs[0].PhoneNumberVerified || recs[1].PhoneNumber != "" {
		t.Fatalf("export: %+v", recs)
	}
}

// TestUsersImportExportRemote: users import and export with --endpoint go
// through POST /admin/v1/user-import and GET /admin/v1/user-export and give
// what the local mode gives; a failed remote import names the record and
// writes nothing; exchanges are validated against api/openapi.yaml.
func TestUsersImportExportRemote(t *testing.T) {
	e := newEnv(t)
	api := startAdminAPI(t, e, nil)
	noDB := env{}
	ah := cheapArgon2Hash(t, "argon password 1")
	file := writeFile(t, "users.jsonl", `{"username": "ann", "phone_number": "+14155550100", "phone_number_verified": true, "password_hash": "`+ah+`"}
{"id": "5b1f7c52-7a1e-4c59-9d1c-0b7e1c2d3e4f", "username": "bea", "email": "bea@example.com", "password_hash": "`+ah+`"}
`)
	r := mustRunRemote(t, noDB, api.tr.Client(), api.args("users", "import", file)...)
	if strings.Count(r.out, "created") != 2 || strings.Contains(r.output(), ah) {
		t.Fatalf("remote import report:\n%s", r.output())
	}
	st := openTestStore(t, e)
	ann, err := st.GetUserByUsername(t.Context(), "ann")
	if err != nil || ann.PasswordHash != ah || ann.PhoneNumber != "+14155550100" || !ann.PhoneNumberVerified {
		t.Fatalf("ann stored as %v %+v", err, ann)
	}
	r = mustRunRemote(t, noDB, api.tr.Client(), api.args("users", "import", "--skip-existing", file)...)
	if strings.Count(r.out, "skipped") != 2 {
		t.Fatalf("remote import --skip-existing:\n%s", r.out)
	}
	for _, args := range [][]string{{"users", "export"}, {"users", "export", "--with-password-hashes"}} {
		if l, rm := mustRun(t, e, "", args...).out, mustRunRemote(t, noDB, api.tr.Client(), api.args(args...)...).out; l != rm {
			t.Errorf("local and remote %v differ:\n%s\n%s", args, l, rm)
		}
	}
	if out := mustRunRemote(t, noDB, api.tr.Client(), api.args("users", "export")...).out; strings.Contains(out, ah) || !strings.Contains(out, "+14155550100") {
		t.Errorf("remote export:\n%s", out)
	}

	bad := writeFile(t, "bad.jsonl", `{"username": "cat", "password_hash": "`+ah+`"}
{"username": "dan", "phone_number": "+44 20 7183 8750", "password_hash": "`+ah+`"}
`)
	r = runRemote(t, noDB, api.tr.Client(), api.args("users", "import", bad)...)
	wantFail(t, r, 1, "E.164")
	if strings.Contains(r.output(), ah) || !strings.Contains(r.output(), "dan") {
		t.Errorf("failed remote import output:\n%s", r.output())
	}
	if users, err := st.ListUsers(t.Context()); err != nil || len(users) != 2 {
		t.Fatalf("a failed remote import left %d users (%v)", len(users), err)
	}
}
