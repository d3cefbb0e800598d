package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

// errorChain matches two package prefixes in a row ("keys: rotate …:
// postgres: update keys: …"): what a wrapped Go error looks like, and what
// a person should never have to read.
var errorChain = regexp.MustCompile(`\b[a-z]+: [^\n]*\b(keys|postgres|storage|admin|pgx|registration): `)

func assertNoChain(t *testing.T, what, text string) {
	t.Helper()
	if errorChain.MatchString(text) || strings.Contains(text, "postgres:") || strings.Contains(text, "storage:") {
		t.Errorf("%s shows an error chain:\n%s", what, text)
	}
}

// TestErrorsSpeakToTheUser: a refused key rotation (the next key not ready,
// a wrong key-encryption key), a client create on an unreachable database
// and a users import of an existing user print what happened and what to
// do, never a chain of package prefixes; the audit event of the refused
// rotation says it in a sentence too.
func TestErrorsSpeakToTheUser(t *testing.T) {
	e, store, kek := newKeysEnv(t)
	seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 24*time.Hour)
	seedKey(t, store, kek, keys.ES256, storage.KeyStateNext, time.Second)

	r := run(t, e, "", "keys", "rotate", "--alg", "ES256", "--actor", "alice")
	wantFail(t, r, exitFailure, "may sign from")
	if !strings.Contains(r.errOut, "strongroom: hint: Run it again then, or pass --force in an emergency.") {
		t.Errorf("no hint:\n%s", r.errOut)
	}
	assertNoChain(t, "keys rotate (next not ready)", r.errOut)
	evs := keyAudit(t, store, keys.ActionRotate)
	if len(evs) == 0 || evs[0].Outcome != storage.OutcomeFailure {
		t.Fatalf("audit %+v", evs)
	}
	assertNoChain(t, "the refused rotation's audit detail", evs[0].Details["error"])
	if !strings.Contains(evs[0].Details["error"], "may sign from") {
		t.Errorf("audit detail %q", evs[0].Details["error"])
	}

	wrongKEK, err := keys.GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	e2 := env{}
	for k, v := range e {
		e2[k] = v
	}
	e2[envKEK] = wrongKEK
	r = run(t, e2, "", "keys", "rotate", "--alg", "ES256", "--force")
	wantFail(t, r, exitFailure, "could not be decrypted")
	if !strings.Contains(r.errOut, "hint: Is "+envKEK) {
		t.Errorf("no hint naming %s:\n%s", envKEK, r.errOut)
	}
	assertNoChain(t, "keys rotate (wrong KEK)", r.errOut)

	unreachable := env{envDatabaseURL: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", envSecret: e[envSecret]}
	r = run(t, unreachable, "", "clients", "create", "--name", "x", "--grant-type", "client_credentials", "--auth-method", "client_secret_basic")
	wantFail(t, r, exitFailure, "Cannot reach the database")
	if !strings.Contains(r.errOut, "hint: Check that it runs and that "+envDatabaseURL) {
		t.Errorf("no hint:\n%s", r.errOut)
	}
	assertNoChain(t, "clients create (database unreachable)", r.errOut)

	users := `{"username":"bob","password_hash":"$argon2id$v=19$m=65536,t=1,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"}` + "\n"
	mustRun(t, e, users, "users", "import", "-")
	r = run(t, e, users, "users", "import", "-")
	wantFail(t, r, exitFailure, "nothing was imported")
	assertNoChain(t, "users import (existing user)", r.output())
}
