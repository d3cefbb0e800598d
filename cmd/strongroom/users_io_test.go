package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
)

// cheapArgon2Hash is an argon2id PHC hash of pw with low cost (the format
// is what import checks).
func cheapArgon2Hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := password.Hash(pw, password.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonLine(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestUsersGet(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice",
		"--email", "alice@example.com", "--name", "Alice Liddell", "--password-stdin").out)
	for _, ref := range []string{"alice", id} {
		r := mustRun(t, e, "", "users", "get", ref)
		for _, want := range []string{id, "alice", "alice@example.com", "Alice Liddell", "EMAIL VERIFIED"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("users get %s: %q missing from\n%s", ref, want, r.out)
			}
		}
		if strings.Contains(r.output(), "argon2id") {
			t.Error("users get printed the password hash")
		}
	}
	r := mustRun(t, e, "", "users", "get", "alice", "-o", "json")
	var u authzadmin.UserInfo
	if err := json.Unmarshal([]byte(r.out), &u); err != nil || u.ID != id || u.Email != "alice@example.com" {
		t.Fatalf("-o json: %v %+v\n%s", err, u, r.out)
	}
	if strings.Contains(r.out, "password") {
		t.Errorf("-o json holds a password field: %s", r.out)
	}
	wantFail(t, run(t, e, "", "users", "get", "nobody"), 1, `user "nobody" not found`)
}

// TestUsersImportKeepsPasswords: users imported with an argon2id and a
// bcrypt hash keep them (stored as given, verifying the old passwords);
// names and email_verified come across; the report never prints a hash.
func TestUsersImportKeepsPasswords(t *testing.T) {
	e := newEnv(t)
	ah, bh := cheapArgon2Hash(t, "argon password 1"), bcryptHash(t, "bcrypt password 2")
	file := writeFile(t, "users.json", `[
  {"username": "ann", "email": "ann@example.com", "email_verified": true, "given_name": "Ann", "family_name": "Smith", "name": "Ann Smith", "password_hash": "`+ah+`"},
  {"id": "5b1f7c52-7a1e-4c59-9d1c-0b7e1c2d3e4f", "username": "bea", "password_hash": "`+bh+`"}
]`)
	r := mustRun(t, e, "", "users", "import", file)
	if strings.Contains(r.output(), ah) || strings.Contains(r.output(), bh) || strings.Contains(r.output(), "$2a$") {
		t.Fatalf("the report prints a hash:\n%s", r.output())
	}
	if strings.Count(r.out, "created") != 2 {
		t.Fatalf("report:\n%s", r.out)
	}
	st := openTestStore(t, e)
	ann, err := st.GetUserByUsername(t.Context(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	if ann.PasswordHash != ah || !ann.EmailVerified || ann.GivenName != "Ann" || ann.FamilyName != "Smith" || ann.Email != "ann@example.com" {
		t.Errorf("ann stored as %+v", ann)
	}
	bea, err := st.GetUser(t.Context(), "5b1f7c52-7a1e-4c59-9d1c-0b7e1c2d3e4f")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify(bea.PasswordHash, "bcrypt password 2"); !ok || err != nil {
		t.Errorf("bea's bcrypt password does not verify: %v", err)
	}
	events, err := st.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionUserImport})
	if err != nil {
		t.Fatal(err)
	}
	if imports := len(events); imports != 2 {
		t.Errorf("%d user.import audit events, want 2", imports)
	}
}

// TestUsersImportRefusesOtherHashFormats: a record with an unsupported hash
// (MD5-crypt, plaintext) fails the whole import with a per-line error and
// nothing is written.
func TestUsersImportRefusesOtherHashFormats(t *testing.T) {
	e := newEnv(t)
	md5 := "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"
	file := writeFile(t, "users.jsonl",
		jsonLine(t, map[string]any{"username": "ok1", "password_hash": cheapArgon2Hash(t, "argon password 1")})+
			jsonLine(t, map[string]any{"username": "md5", "password_hash": md5})+
			jsonLine(t, map[string]any{"username": "plain", "password_hash": "hunter2hunter2"})+
			jsonLine(t, map[string]any{"username": "nohash"}))
	r := run(t, e, "", "users", "import", file, "-o", "json")
	wantFail(t, r, 1, "nothing was imported")
	if strings.Contains(r.output(), md5) || strings.Contains(r.output(), "hunter2hunter2") {
		t.Fatalf("the report quotes a hash:\n%s", r.output())
	}
	var res []authzadmin.UserImportResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || len(res) != 4 {
		t.Fatalf("report: %v\n%s", err, r.out)
	}
	for i, want := range []string{"not imported", "failed", "failed", "failed"} {
		if res[i].Status != want {
			t.Errorf("%s: status %q, want %q (%s)", res[i].Username, res[i].Status, want, res[i].Error)
		}
	}
	if !strings.Contains(res[1].Error, "neither argon2id") {
		t.Errorf("md5 error %q", res[1].Error)
	}
	if n := countUsers(t, e); n != 0 {
		t.Fatalf("%d users written by a failed import", n)
	}
	// Unknown fields and malformed lines name the line.
	wantFail(t, run(t, e, "", "users", "import", writeFile(t, "x.jsonl", "{\"username\":\"a\",\"password\":\"secret\"}\n")), 1, `line 1: unknown field "password"`)
	wantFail(t, run(t, e, "", "users", "import", writeFile(t, "y.jsonl", "\n{not json\n")), 1, "line 2")
}

// TestUsersImportExisting: an existing username fails the import (nothing
// written) unless --skip-existing, which leaves it unchanged and imports the
// rest.
func TestUsersImportExisting(t *testing.T) {
	e := newEnv(t)
	mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice", "--password-stdin")
	st := openTestStore(t, e)
	before, err := st.GetUserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "users.jsonl",
		jsonLine(t, map[string]any{"username": "alice", "email": "new@example.com", "password_hash": bcryptHash(t, "other password 3")})+
			jsonLine(t, map[string]any{"username": "carol", "password_hash": bcryptHash(t, "carol password 4")}))
	r := run(t, e, "", "users", "import", file)
	wantFail(t, r, 1, "--skip-existing")
	if n := countUsers(t, e); n != 1 {
		t.Fatalf("%d users after a failed import, want 1", n)
	}
	r = mustRun(t, e, "", "users", "import", "--skip-existing", file, "-o", "json")
	var res []authzadmin.UserImportResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Status != "skipped" || res[1].Status != "created" || res[1].ID == "" {
		t.Fatalf("report %+v", res)
	}
	after, err := st.GetUserByUsername(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if after.PasswordHash != before.PasswordHash || after.Email != before.Email {
		t.Error("--skip-existing changed the existing user")
	}
}

// TestUsersExport: JSON lines without hashes by default; with
// --with-password-hashes the output imports into another database with the
// same ids and passwords.
func TestUsersExport(t *testing.T) {
	e := newEnv(t)
	mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin")
	mustRun(t, e, alicePassword+"x\n", "users", "create", "--username", "bob", "--password-stdin")
	r := mustRun(t, e, "", "users", "export")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 2 || strings.Contains(r.out, "password_hash") || strings.Contains(r.out, "argon2id") {
		t.Fatalf("default export:\n%s", r.out)
	}
	var rec authzadmin.UserRecord
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec.Username != "alice" || rec.Email != "alice@example.com" || rec.ID == "" {
		t.Fatalf("line 1: %v %+v", err, rec)
	}
	r = mustRun(t, e, "", "users", "export", "--with-password-hashes")
	if strings.Count(r.out, `"password_hash":"$argon2id$`) != 2 {
		t.Fatalf("export with hashes:\n%s", r.out)
	}
	e2 := newEnv(t)
	mustRun(t, e2, "", "users", "import", writeFile(t, "export.jsonl", r.out))
	moved, err := openTestStore(t, e2).GetUser(t.Context(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify(moved.PasswordHash, alicePassword); !ok || err != nil || moved.Username != "alice" {
		t.Fatalf("moved user %s: password verifies %v, %v", moved.Username, ok, err)
	}
}
