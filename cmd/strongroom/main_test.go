package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage/pgtest"
	"github.com/strongroom/strongroom/storage/postgres"
)

// result is what one in-process run of the command produced.
type result struct {
	code        int
	out, errOut string
}

// output is stdout and stderr together, for "never printed" checks.
func (r result) output() string { return r.out + r.errOut }

// env is a fake process environment.
type env map[string]string

// run executes the command in-process with args, env and stdin.
func run(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{
		in:     strings.NewReader(stdin),
		out:    &out,
		errOut: &errOut,
		log:    slog.New(slog.DiscardHandler),
		getenv: func(k string) string { return e[k] },
	}
	code := execute(t.Context(), newRootCmd(a), args, &errOut)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// mustRun runs and fails the test unless the command succeeds.
func mustRun(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	r := run(t, e, stdin, args...)
	if r.code != 0 {
		t.Fatalf("strongroom %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return r
}

// wantFail checks the exit code and that stderr holds msg, prefixed.
func wantFail(t *testing.T, r result, code int, msg string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.out, r.errOut)
	}
	if !strings.HasPrefix(r.errOut, "strongroom: ") {
		t.Errorf("stderr %q does not start with %q", r.errOut, "strongroom: ")
	}
	if !strings.Contains(r.errOut, msg) {
		t.Errorf("stderr %q does not contain %q", r.errOut, msg)
	}
	if strings.Contains(r.errOut, "goroutine ") {
		t.Errorf("stderr holds a stack trace: %s", r.errOut)
	}
}

// newSecret returns a random system secret, base64-encoded.
func newSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// newEnv returns an environment with a fresh, migrated database and a
// system secret.
func newEnv(t *testing.T) env {
	t.Helper()
	return env{envDatabaseURL: pgtest.NewDatabase(t), envSecret: newSecret(t)}
}

// openTestStore opens the environment's database directly, to check what
// the commands stored.
func openTestStore(t *testing.T, e env) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), e[envDatabaseURL], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
