package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/storage"
)

// auditCount is how many events of action the store holds.
func auditCount(t *testing.T, s seeded, action string) int {
	t.Helper()
	events, err := s.store.ListAudit(t.Context(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

func TestUsersSetPassword(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)
	hash := func() string {
		t.Helper()
		u, err := s.store.GetUser(t.Context(), s.userID)
		if err != nil {
			t.Fatal(err)
		}
		return u.PasswordHash
	}
	before := hash()

	for name, tc := range map[string]struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		"fail/too-short":         {"short pass1\n", []string{"alice", "--password-stdin"}, exitFailure, "at least 12"},
		"fail/common":            {"123456789012\n", []string{"alice", "--password-stdin"}, exitFailure, "common"},
		"fail/common-any-case":   {"WinnieThePooh\n", []string{"alice", "--password-stdin"}, exitFailure, "common"},
		"fail/no-password-stdin": {"a perfectly good passphrase\n", []string{"alice"}, exitUsage, "--password-stdin is required"},
		"fail/unknown-user":      {"a perfectly good passphrase\n", []string{"nobody", "--password-stdin"}, exitFailure, `user "nobody" not found`},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, e, tc.stdin, append([]string{"users", "set-password"}, tc.args...)...)
			wantFail(t, r, tc.code, tc.msg)
			noPassword(t, r, strings.TrimSpace(tc.stdin))
			if hash() != before {
				t.Fatal("a refused set-password changed the hash")
			}
			if n := auditCount(t, s, authzadmin.ActionUserPasswordSet); n != 0 {
				t.Fatalf("%d password audit events after a refusal", n)
			}
		})
	}

	t.Run("ok/changed", func(t *testing.T) {
		const next = "a perfectly good passphrase"
		r := mustRun(t, e, next+"\n", "users", "set-password", "alice", "--password-stdin")
		if !strings.Contains(r.out, "Password of alice") {
			t.Fatalf("output %q", r.out)
		}
		noPassword(t, r, next)
		h := hash()
		if h == before {
			t.Fatal("hash unchanged")
		}
		for pw, want := range map[string]bool{next: true, alicePassword: false} {
			if ok, err := password.Verify(h, pw); err != nil || ok != want {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
			}
		}
		events, err := s.store.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionUserPasswordSet})
		if err != nil || len(events) != 1 || events[0].Target != s.userID || strings.Contains(strings.Join(mapValues(events[0].Details), " "), next) {
			t.Fatalf("audit %+v %v", events, err)
		}
	})
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestUsersRequireMFA(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)
	policy := func() bool {
		t.Helper()
		on, err := s.store.RequireMFA(t.Context(), s.userID)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	if policy() {
		t.Fatal("a new user requires MFA")
	}
	t.Run("fail/unknown-user", func(t *testing.T) {
		wantFail(t, run(t, e, "", "users", "require-mfa", "nobody"), exitFailure, `user "nobody" not found`)
		wantFail(t, run(t, e, "", "users", "require-mfa"), exitUsage, "accepts 1 arg(s)")
		if policy() || auditCount(t, s, authzadmin.ActionUserRequireMFA) != 0 {
			t.Fatal("a refused require-mfa changed something")
		}
	})
	t.Run("ok/on", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "require-mfa", "alice")
		if !policy() || !strings.Contains(r.out, "now requires a second factor") {
			t.Fatalf("policy %v, output %q", policy(), r.out)
		}
	})
	t.Run("ok/off-by-id", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "require-mfa", s.userID, "--off")
		if policy() || !strings.Contains(r.out, "no longer requires") {
			t.Fatalf("policy %v, output %q", policy(), r.out)
		}
		events, err := s.store.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionUserRequireMFA})
		if err != nil || len(events) != 2 {
			t.Fatalf("audit %+v %v", events, err)
		}
		got := map[string]bool{}
		for _, ev := range events {
			got[ev.Details["require_mfa"]] = true
		}
		if !got["true"] || !got["false"] {
			t.Fatalf("audit details %+v", events)
		}
	})
}

// seedFactors gives the user a confirmed TOTP enrolment, a passkey and
// recovery codes.
func seedFactors(t *testing.T, s seeded) {
	t.Helper()
	ctx, now := t.Context(), time.Now().UTC()
	if err := s.store.SaveTOTP(ctx, &storage.TOTPEnrolment{UserID: s.userID, SecretEnc: []byte("sealed"), Confirmed: true, CreatedAt: now, ConfirmedAt: &now}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateWebAuthnCredential(ctx, &storage.WebAuthnCredential{ID: []byte("cred-1"), UserID: s.userID, Name: "phone",
		PublicKey: []byte("cose"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, s.userID, [][]byte{[]byte("h1"), []byte("h2")}, now); err != nil {
		t.Fatal(err)
	}
}

// factors reports which second factors the user has.
func factors(t *testing.T, s seeded) (totp bool, passkeys, codes int) {
	t.Helper()
	ctx := t.Context()
	_, err := s.store.GetTOTP(ctx, s.userID)
	switch {
	case err == nil:
		totp = true
	case !errors.Is(err, storage.ErrNotFound):
		t.Fatal(err)
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, s.userID)
	if err != nil {
		t.Fatal(err)
	}
	if codes, err = s.store.CountRecoveryCodes(ctx, s.userID); err != nil {
		t.Fatal(err)
	}
	return totp, len(creds), codes
}

func TestUsersResetMFA(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)
	seedFactors(t, s)
	sessions := func() int {
		t.Helper()
		bs, err := s.store.ListBrowserSessions(t.Context(), s.userID)
		if err != nil {
			t.Fatal(err)
		}
		return len(bs)
	}

	t.Run("fail/refused-changes-nothing", func(t *testing.T) {
		wantFail(t, run(t, e, "", "users", "reset-mfa", "alice"), exitUsage, "--yes")
		wantFail(t, run(t, e, "", "users", "reset-mfa", "nobody", "--yes"), exitFailure, `user "nobody" not found`)
		if totp, passkeys, codes := factors(t, s); !totp || passkeys != 1 || codes != 2 {
			t.Fatalf("factors after a refusal: totp %v passkeys %d codes %d", totp, passkeys, codes)
		}
		if sessions() != 2 || len(s.deliveries(t)) != 0 || auditCount(t, s, authzadmin.ActionUserResetMFA) != 0 {
			t.Fatal("a refused reset-mfa ended sessions, queued logouts or audited")
		}
	})
	t.Run("ok/factors-removed-sessions-ended", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "reset-mfa", "alice", "--yes")
		if !strings.Contains(r.out, "Removed the second factors of alice") {
			t.Fatalf("output %q", r.out)
		}
		if totp, passkeys, codes := factors(t, s); totp || passkeys != 0 || codes != 0 {
			t.Fatalf("factors left: totp %v passkeys %d codes %d", totp, passkeys, codes)
		}
		if n := sessions(); n != 0 {
			t.Fatalf("%d sessions survived reset-mfa", n)
		}
		ds := s.deliveries(t)
		if len(ds) != 2 {
			t.Fatalf("%d back-channel logouts queued, want one per session: %+v", len(ds), ds)
		}
		for _, d := range ds {
			if d.ClientID != s.clientID || d.Subject != s.userID {
				t.Fatalf("delivery %+v", d)
			}
		}
		events, err := s.store.ListAudit(t.Context(), storage.AuditFilter{Action: authzadmin.ActionUserResetMFA})
		if err != nil || len(events) != 1 || events[0].Details["sessions_ended"] != "2" {
			t.Fatalf("reset audit %+v %v", events, err)
		}
		ended, err := s.store.ListAudit(t.Context(), storage.AuditFilter{Action: "session.end"})
		if err != nil || len(ended) != 2 || ended[0].Details["reason"] != "second factors reset" {
			t.Fatalf("session.end audit %+v %v", ended, err)
		}
	})
	t.Run("ok/again-is-harmless", func(t *testing.T) {
		mustRun(t, e, "", "users", "reset-mfa", s.userID, "--yes")
		if len(s.deliveries(t)) != 2 {
			t.Fatal("a second reset queued more logouts")
		}
	})
}

func TestUsersUnlock(t *testing.T) {
	e := newEnv(t)
	s := seedUserActivity(t, e)
	ctx := t.Context()
	lockedUntil := time.Now().Add(10 * time.Minute).UTC()
	if err := s.store.UpdateLoginThrottle(ctx, throttle.AccountKey("alice"), func(l *storage.LoginThrottle) error {
		l.Failures, l.LastFailureAt, l.LockedUntil = 0, time.Now().UTC(), lockedUntil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// an address's counter is not the operator's to lift with unlock
	if err := s.store.UpdateLoginThrottle(ctx, throttle.IPKey("192.0.2.7"), func(l *storage.LoginThrottle) error {
		l.Failures = 3
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("fail/unknown-user", func(t *testing.T) {
		wantFail(t, run(t, e, "", "users", "unlock", "nobody"), exitFailure, `user "nobody" not found`)
		if _, err := s.store.GetLoginThrottle(ctx, throttle.AccountKey("alice")); err != nil {
			t.Fatalf("lock gone after a refused unlock: %v", err)
		}
	})
	t.Run("ok/unlocked", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "unlock", "alice")
		if !strings.Contains(r.out, "Unlocked alice") {
			t.Fatalf("output %q", r.out)
		}
		if _, err := s.store.GetLoginThrottle(ctx, throttle.AccountKey("alice")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("account counter after unlock: %v", err)
		}
		if _, err := s.store.GetLoginThrottle(ctx, throttle.IPKey("192.0.2.7")); err != nil {
			t.Fatalf("unlock cleared an address counter: %v", err)
		}
		events, err := s.store.ListAudit(ctx, storage.AuditFilter{Action: authzadmin.ActionUserUnlock})
		if err != nil || len(events) != 1 || events[0].Details["had_counter"] != "true" {
			t.Fatalf("audit %+v %v", events, err)
		}
	})
	t.Run("ok/nothing-to-unlock", func(t *testing.T) {
		r := mustRun(t, e, "", "users", "unlock", "alice")
		if !strings.Contains(r.out, "had no failed attempts or lock") {
			t.Fatalf("output %q", r.out)
		}
	})
}

func TestClientsCreateRequireMFA(t *testing.T) {
	e := newEnv(t)
	st := openTestStore(t, e)
	create := func(t *testing.T, extra ...string) *storage.Client {
		t.Helper()
		args := append([]string{"clients", "create", "--name", "Bank app", "--grant-type", "authorization_code",
			"--redirect-uri", "https://bank.example/cb", "--scope", "openid", "--auth-method", "client_secret_basic", "-o", "json"}, extra...)
		r := mustRun(t, e, "", args...)
		var out struct {
			ClientID string `json:"client_id"`
		}
		if err := json.Unmarshal([]byte(r.out), &out); err != nil || out.ClientID == "" {
			t.Fatalf("create: %v %s", err, r.out)
		}
		c, err := st.GetClient(t.Context(), out.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("ok/flag-stored", func(t *testing.T) {
		if c := create(t, "--require-mfa"); !c.Metadata.RequireMFA {
			t.Fatalf("--require-mfa not stored: %+v", c.Metadata)
		}
	})
	t.Run("ok/default-off", func(t *testing.T) {
		if c := create(t); c.Metadata.RequireMFA {
			t.Fatalf("RequireMFA set without the flag: %+v", c.Metadata)
		}
	})
	t.Run("fail/not-a-bool", func(t *testing.T) {
		n := countClients(t, e)
		r := run(t, e, "", "clients", "create", "--name", "X", "--grant-type", "authorization_code",
			"--redirect-uri", "https://x.example/cb", "--require-mfa=maybe")
		wantFail(t, r, exitUsage, "invalid argument")
		if countClients(t, e) != n {
			t.Fatal("a refused create stored a client")
		}
	})
}
