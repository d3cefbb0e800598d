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
