package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// remoteAdmin runs the admin API over e's database with every domain
// (keys with e's KEK and the default policy, which the CLI's local mode
// defaults to as well) and returns a function that appends --endpoint and
// --token-file to a command line, and a validating client.
func remoteAdmin(t *testing.T, e env, kek []byte) (func(args ...string) []string, *admintest.Transport) {
	t.Helper()
	st := openTestStore(t, e)
	km, err := keys.NewManager(st, kek, keys.WithAuditTrail(st))
	if err != nil {
		t.Fatal(err)
	}
	api := startAdminAPI(t, e, km)
	return api.args, api.tr
}

// adminAPI is an admin API over a test database, reached by the CLI's
// remote mode.
type adminAPI struct {
	url       string
	tokenFile string               // holds a token the API accepts
	tr        *admintest.Transport // validates every exchange against api/openapi.yaml
	// args appends --endpoint and --token-file (a valid operator token) to a
	// command line, before a "--" (after which a kid that starts with "-" is
	// an argument, not a flag).
	args func(args ...string) []string
}

// startAdminAPI serves the admin API over e's database until the test ends;
// km, when not nil, serves the keys too.
func startAdminAPI(t *testing.T, e env, km *keys.Manager) *adminAPI {
	t.Helper()
	st := openTestStore(t, e)
	svc := server.NewAdminServices(st, server.AdminServicesOptions{Hasher: hasherFor(t, e)})
	secret, err := parseSecret(e[envSecret])
	if err != nil {
		t.Fatal(err)
	}
	auditKey, err := authz.DeriveKey(secret, audit.KeyPurpose)
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.New(st, auditKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := admin.Options{
		Clients: svc.Clients, Users: svc.Users, Audit: svc.Audit, Tokens: fakeTokens{},
		Sessions: svc.Sessions, Log: slog.New(slog.DiscardHandler), AuditTrail: trail,
		AuthorizationTypes: svc.AuthorizationTypes,
	}
	if km != nil {
		opts.Keys = km
	}
	srv, err := admin.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(tokenFile, []byte("operator-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &adminAPI{url: ts.URL, tokenFile: tokenFile, tr: admintest.NewTransport(t, ts.URL, nil), args: func(args ...string) []string {
		if i := slices.Index(args, "--"); i >= 0 {
			return slices.Concat(args[:i], []string{"--endpoint", ts.URL, "--token-file", tokenFile}, args[i:])
		}
		return append(args, "--endpoint", ts.URL, "--token-file", tokenFile)
	}}
}

// The keys commands print the same in local and remote mode, and refuse
// alike; rewrap is local only.
func TestKeysRemoteMode(t *testing.T) {
	e, store, kek := newKeysEnv(t)
	seedKey(t, store, kek, keys.RS256, storage.KeyStateActive, 48*time.Hour)
	es := seedKey(t, store, kek, keys.ES256, storage.KeyStateActive, 48*time.Hour)
	seedKey(t, store, kek, keys.ES256, storage.KeyStateRetired, 72*time.Hour)
	remote, tr := remoteAdmin(t, e, kek)
	noDB := env{}
	same := func(args ...string) {
		t.Helper()
		l, r := mustRun(t, e, "", args...).out, mustRunRemote(t, noDB, tr.Client(), remote(args...)...).out
		if l != r {
			t.Errorf("%v: local and remote differ:\n%s\n---\n%s", args, l, r)
		}
	}
	same("keys", "list")
	same("keys", "list", "-o", "json")

	// A rotation on the remote API publishes a next key; both modes list it alike.
	r := mustRunRemote(t, noDB, tr.Client(), remote("keys", "rotate", "--alg", "ES256")...)
	if !strings.Contains(r.out, "ES256: published next key") {
		t.Fatalf("remote rotate: %s", r.out)
	}
	same("keys", "list")

	// The next key is too young: both modes refuse with the same advice.
	lr := run(t, e, "", "keys", "rotate", "--alg", "ES256")
	rr := runRemote(t, noDB, tr.Client(), remote("keys", "rotate", "--alg", "ES256")...)
	for _, res := range []result{lr, rr} {
		wantFail(t, res, exitFailure, "may sign from")
		if !strings.Contains(res.errOut, "--force") {
			t.Errorf("no --force advice: %s", res.errOut)
		}
	}

	var rot []admin.KeyRotation
	r = mustRunRemote(t, noDB, tr.Client(), remote("keys", "rotate", "--alg", "ES256", "--force", "-o", "json")...)
	if err := json.Unmarshal([]byte(r.out), &rot); err != nil || len(rot) != 1 || rot[0].Retired != es.KID || !rot[0].Forced {
		t.Fatalf("remote forced rotate: %v %s", err, r.out)
	}
	r = mustRunRemote(t, noDB, tr.Client(), remote("keys", "revoke", "--yes", "--", es.KID)...)
	if !strings.Contains(r.out, "Revoked ES256 key "+es.KID+" (was retired).") {
		t.Fatalf("remote revoke: %s", r.out)
	}
	same("keys", "list", "-o", "json")

	events, _ := store.ListAudit(t.Context(), storage.AuditFilter{Action: keys.ActionRevoke})
	if len(events) != 1 || events[0].Actor != "client:ops" || events[0].Target != es.KID {
		t.Fatalf("audit %+v", events)
	}

	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"fail/unknown-kid":     {remote("keys", "revoke", "no-such-kid", "--yes"), exitFailure, `no signing key with kid "no-such-kid"`},
		"fail/already-revoked": {remote("keys", "revoke", "--yes", "--", es.KID), exitFailure, "already revoked"},
		"fail/rewrap-remote":   {remote("keys", "rewrap", "--new-kek-file", "x", "--yes"), exitUsage, "acts on the database only"},
		"fail/actor-remote":    {remote("keys", "rotate", "--actor", "bob"), exitUsage, "--actor is for local mode"},
		"fail/token-file-only": {[]string{"keys", "list", "--token-file", "x"}, exitUsage, "--token-file is used only with --endpoint"},
	} {
		t.Run(name, func(t *testing.T) {
			before := storedKeys(t, store)
			wantFail(t, runRemote(t, noDB, tr.Client(), tc.args...), tc.code, tc.msg)
			keysUnchanged(t, store, before)
		})
	}
	if !strings.Contains(mustRun(t, env{}, "", "keys", "rewrap", "--help").out, "database only") {
		t.Error("keys rewrap --help does not say it is local only")
	}
}

// The users commands print the same in local and remote mode.
func TestUsersRemoteMode(t *testing.T) {
	e, _, kek := newKeysEnv(t)
	s := seedUserActivity(t, e)
	remote, tr := remoteAdmin(t, e, kek)
	noDB := env{}
	same := func(args ...string) {
		t.Helper()
		l, r := mustRun(t, e, "", args...).out, mustRunRemote(t, noDB, tr.Client(), remote(args...)...).out
		if l != r {
			t.Errorf("%v: local and remote differ:\n%s\n---\n%s", args, l, r)
		}
	}
	for _, args := range [][]string{
		{"users", "list"}, {"users", "list", "-o", "json"},
		{"users", "grants", "list", "alice"}, {"users", "grants", "list", s.userID, "-o", "json"},
		{"users", "sessions", "list", "alice"}, {"users", "sessions", "list", "alice", "-o", "json"},
	} {
		same(args...)
	}

	var created struct{ ID, Username string }
	r := runRemoteStdin(t, alicePassword+"\n", tr.Client(), remote("users", "create", "--username", "dave", "--password-stdin", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("remote users create: %d %s", r.code, r.errOut)
	}
	if err := json.Unmarshal([]byte(r.out), &created); err != nil || created.Username != "dave" || created.ID == "" {
		t.Fatalf("remote create: %v %s", err, r.out)
	}
	same("users", "list")

	r = mustRunRemote(t, noDB, tr.Client(), remote("users", "sessions", "revoke", "alice", s.sessions[0], "--yes")...)
	if r.out != "Ended session "+s.sessions[0]+" of user alice.\n" {
		t.Fatalf("remote session revoke: %q", r.out)
	}
	if d, _ := s.store.ListLogoutDeliveries(t.Context()); len(d) != 1 {
		t.Fatalf("back-channel logout not queued: %+v", d)
	}
	r = mustRunRemote(t, noDB, tr.Client(), remote("users", "grants", "revoke", "alice", s.clientID, "--yes")...)
	if !strings.Contains(r.out, "(2 tokens revoked)") || s.active(t, storage.KindAccessToken) {
		t.Fatalf("remote grant revoke: %q", r.out)
	}
	r = mustRunRemote(t, noDB, tr.Client(), remote("users", "sessions", "revoke", "alice", "--all", "--yes")...)
	if r.out != "Ended 1 sessions of user alice.\n" {
		t.Fatalf("remote end all: %q", r.out)
	}
	r = mustRunRemote(t, noDB, tr.Client(), remote("users", "delete", "dave", "--yes")...)
	if r.out != "Deleted user dave ("+created.ID+").\n" {
		t.Fatalf("remote delete: %q", r.out)
	}

	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"fail/unknown-user-delete":   {remote("users", "delete", "nobody", "--yes"), exitFailure, `user "nobody" not found`},
		"fail/unknown-user-grants":   {remote("users", "grants", "list", "nobody"), exitFailure, `user "nobody" not found`},
		"fail/unknown-user-sessions": {remote("users", "sessions", "revoke", "nobody", "--all", "--yes"), exitFailure, `user "nobody" not found`},
		"fail/no-such-grant":         {remote("users", "grants", "revoke", "alice", s.clientID, "--yes"), exitFailure, "has no grant"},
		"fail/no-such-session":       {remote("users", "sessions", "revoke", "alice", "nope", "--yes"), exitFailure, "no live session"},
		"fail/duplicate-username":    {remote("users", "create", "--username", "alice", "--password-stdin"), exitFailure, `username "alice" is already taken`},
	} {
		t.Run(name, func(t *testing.T) {
			wantFail(t, runRemoteStdin(t, alicePassword+"\n", tr.Client(), tc.args...), tc.code, tc.msg)
		})
	}
	// The local-only users commands do not take --endpoint (they would act
	// on the database while the operator meant a remote server).
	wantFail(t, run(t, e, "", remote("users", "unlock", "alice")...), exitUsage, "unknown flag: --endpoint")
}

// runRemoteStdin runs a command in remote mode with stdin (no environment).
func runRemoteStdin(t *testing.T, stdin string, client *http.Client, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{in: strings.NewReader(stdin), out: &out, errOut: &errOut, log: slog.New(slog.DiscardHandler),
		getenv: func(string) string { return "" }, httpClient: client}
	code := execute(t.Context(), newRootCmd(a), args, &errOut)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}
