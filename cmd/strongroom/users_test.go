package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/strongroom/strongroom/authz/password"
)

const alicePassword = "correct horse battery staple"

func countUsers(t *testing.T, e env) int {
	t.Helper()
	users, err := openTestStore(t, e).ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

// noPassword fails when any output holds the password.
func noPassword(t *testing.T, r result, password string) {
	t.Helper()
	if strings.Contains(r.output(), password) {
		t.Errorf("output contains the password:\n%s", r.output())
	}
}

func TestUsersCreate(t *testing.T) {
	e := newEnv(t)
	r := mustRun(t, e, alicePassword+"\n", "users", "create", "--username", "alice",
		"--email", "alice@example.com", "--name", "Alice Liddell", "--password-stdin")
	noPassword(t, r, alicePassword)
	id := strings.TrimSpace(r.out)
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("printed id %q: %v", id, err)
	}
	u, err := openTestStore(t, e).GetUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "alice" || u.Email != "alice@example.com" || u.Name != "Alice Liddell" {
		t.Errorf("stored %+v", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("hash %q", u.PasswordHash)
	}
	if ok, err := password.Verify(u.PasswordHash, alicePassword); !ok || err != nil {
		t.Errorf("stored hash does not verify the password (one trailing newline must be trimmed): %v", err)
	}

	// Only one newline is trimmed; -o json.
	r = mustRun(t, e, alicePassword+"\n\n", "users", "create", "--username", "bob", "--password-stdin", "-o", "json")
	noPassword(t, r, alicePassword)
	var out struct{ ID, Username string }
	if err := json.Unmarshal([]byte(r.out), &out); err != nil || out.Username != "bob" {
		t.Fatalf("-o json: %v\n%s", err, r.out)
	}
	bob, err := openTestStore(t, e).GetUserByUsername(t.Context(), "bob")
	if err != nil || bob.ID != out.ID {
		t.Fatalf("bob: %+v, %v", bob, err)
	}
	if ok, _ := password.Verify(bob.PasswordHash, alicePassword+"\n"); !ok {
		t.Error("more than one trailing newline was trimmed")
	}
}

func TestUsersCreateRejects(t *testing.T) {
	e := newEnv(t)
	const short = "tooShort1!"
	for name, tc := range map[string]struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		"fail/short-password":    {short + "\n", []string{"--username", "alice", "--password-stdin"}, 1, "password must be at least 12 characters"},
		"fail/empty-password":    {"", []string{"--username", "alice", "--password-stdin"}, 1, "no password on standard input"},
		"fail/newline-only":      {"\n", []string{"--username", "alice", "--password-stdin"}, 1, "no password on standard input"},
		"fail/overlong-password": {strings.Repeat("x", password.MaxLength+1), []string{"--username", "alice", "--password-stdin"}, 1, "at most 1024 bytes"},
		"fail/no-password-stdin": {alicePassword, []string{"--username", "alice"}, 2, "--password-stdin is required"},
		"fail/username-space":    {alicePassword, []string{"--username", "al ice", "--password-stdin"}, 2, "--username must not contain whitespace or control characters"},
		"fail/username-control":  {alicePassword, []string{"--username", "al\x01ice", "--password-stdin"}, 2, "--username must not contain whitespace"},
		"fail/username-empty":    {alicePassword, []string{"--username", "", "--password-stdin"}, 2, "--username must not be empty"},
		"fail/username-long":     {alicePassword, []string{"--username", strings.Repeat("a", 65), "--password-stdin"}, 2, "--username must be at most 64 characters"},
		"fail/bad-email":         {alicePassword, []string{"--username", "alice", "--email", "Alice <alice@example.com>", "--password-stdin"}, 2, "is not an email address"},
		"fail/username-uuid":     {alicePassword, []string{"--username", "0b6c1f0e-8f5d-4c52-9f39-2f0d5c1e7a10", "--password-stdin"}, 2, "--username must not be a UUID"},
		"fail/password-as-arg":   {"", []string{"--username", "alice", "--password", alicePassword}, 2, "unknown flag: --password"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, e, tc.stdin, append([]string{"users", "create"}, tc.args...)...)
			wantFail(t, r, tc.code, tc.msg)
			if strings.TrimSpace(tc.stdin) != "" {
				noPassword(t, r, strings.TrimSpace(tc.stdin))
			}
			if n := countUsers(t, e); n != 0 {
				t.Errorf("%d users stored", n)
			}
		})
	}
	// The longest username is fine.
	mustRun(t, e, alicePassword, "users", "create", "--username", strings.Repeat("é", 64), "--password-stdin")
}

func TestUsersCreateDuplicate(t *testing.T) {
	e := newEnv(t)
	mustRun(t, e, alicePassword, "users", "create", "--username", "alice", "--password-stdin")
	r := run(t, e, "another password here", "users", "create", "--username", "alice", "--password-stdin")
	wantFail(t, r, exitFailure, `username "alice" is already taken`)
	noPassword(t, r, "another password here")
	if n := countUsers(t, e); n != 1 {
		t.Errorf("%d users", n)
	}
}

func TestUsersListDelete(t *testing.T) {
	e := newEnv(t)
	aliceID := strings.TrimSpace(mustRun(t, e, alicePassword, "users", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin").out)
	bobID := strings.TrimSpace(mustRun(t, e, alicePassword, "users", "create", "--username", "bob", "--password-stdin").out)

	r := mustRun(t, e, "", "users", "list")
	for _, s := range []string{"ID", "USERNAME", "EMAIL", aliceID, "alice", "alice@example.com", bobID, "bob"} {
		if !strings.Contains(r.out, s) {
			t.Errorf("list lacks %q:\n%s", s, r.out)
		}
	}
	r = mustRun(t, e, "", "users", "list", "-o", "json")
	if strings.Contains(r.out, "argon2") || strings.Contains(r.out, "password") {
		t.Errorf("list -o json shows the password hash:\n%s", r.out)
	}
	var users []userView
	if err := json.Unmarshal([]byte(r.out), &users); err != nil || len(users) != 2 || users[0].Username != "alice" {
		t.Fatalf("list -o json: %v\n%s", err, r.out)
	}

	wantFail(t, run(t, e, "", "users", "delete", "alice"), exitUsage, "pass --yes")
	wantFail(t, run(t, e, "", "users", "delete", "carol", "--yes"), exitFailure, `user "carol" not found`)
	if n := countUsers(t, e); n != 2 {
		t.Fatalf("%d users", n)
	}
	r = mustRun(t, e, "", "users", "delete", "alice", "--yes")
	if !strings.Contains(r.out, "Deleted user alice ("+aliceID+")") {
		t.Errorf("delete by username: %s", r.out)
	}
	mustRun(t, e, "", "users", "delete", bobID, "-y")
	if n := countUsers(t, e); n != 0 {
		t.Errorf("%d users left", n)
	}
}
