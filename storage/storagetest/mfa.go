package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func mfaTests() []test {
	return []test{
		{"ok/mfa/require-mfa-policy", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			got, err := s.RequireMFA(t.Context(), "u1")
			must(t, err)
			if got {
				t.Fatal("a new user requires MFA")
			}
			must(t, s.SetRequireMFA(t.Context(), "u1", true, base))
			got, err = s.RequireMFA(t.Context(), "u1")
			must(t, err)
			if !got {
				t.Fatal("policy not recorded")
			}
			must(t, s.SetRequireMFA(t.Context(), "u1", false, base))
			got, _ = s.RequireMFA(t.Context(), "u1")
			if got {
				t.Fatal("policy not cleared")
			}
		}},
		{"fail/mfa/require-mfa-unknown-user", func(t *testing.T, s storage.Store) {
			wantErr(t, s.SetRequireMFA(t.Context(), "nobody", true, base), storage.ErrNotFound)
		}},
		{"ok/mfa/update-password-hash", func(t *testing.T, s storage.Store) {
			want := createUser(t, s, "u1", "alice")
			must(t, s.UpdatePasswordHash(t.Context(), "u1", "$argon2id$new", base.Add(time.Hour)))
			got, err := s.GetUser(t.Context(), "u1")
			must(t, err)
			want.PasswordHash, want.UpdatedAt = "$argon2id$new", base.Add(time.Hour)
			equal(t, got, want)
			wantErr(t, s.UpdatePasswordHash(t.Context(), "nobody", "x", base), storage.ErrNotFound)
		}},
		{"ok/mfa/update-user-profile", func(t *testing.T, s storage.Store) {
			want := createUser(t, s, "u1", "alice")
			p := *want
			p.Username, p.PasswordHash = "ignored", "ignored"
			p.Email, p.EmailVerified, p.Name, p.GivenName, p.FamilyName, p.UpdatedAt = "a@example.org", true, "Alice L", "Alice", "L", base.Add(time.Hour)
			must(t, s.UpdateUserProfile(t.Context(), &p))
			got, err := s.GetUser(t.Context(), "u1")
			must(t, err)
			want.Email, want.EmailVerified, want.Name, want.GivenName, want.FamilyName = "a@example.org", true, "Alice L", "Alice", "L"
			want.UpdatedAt = base.Add(time.Hour)
			equal(t, got, want)
			wantErr(t, s.UpdateUserProfile(t.Context(), &storage.User{ID: "nobody", UpdatedAt: base}), storage.ErrNotFound)
		}},
		{"ok/mfa/totp-save-get-use-once", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			e := &storage.TOTPEnrolment{UserID: "u1", SecretEnc: []byte("sealed"), CreatedAt: base}
			must(t, s.SaveTOTP(t.Context(), e))
			got, err := s.GetTOTP(t.Context(), "u1")
			must(t, err)
			equal(t, got, e)
			must(t, s.UseTOTPStep(t.Context(), "u1", 100, base.Add(time.Minute)))
			got, err = s.GetTOTP(t.Context(), "u1")
			must(t, err)
			want := *e
			want.Confirmed, want.LastStep, want.ConfirmedAt = true, 100, ptr(base.Add(time.Minute))
			equal(t, got, &want)
			// the same step again, and an older one, are replays
			wantErr(t, s.UseTOTPStep(t.Context(), "u1", 100, base), storage.ErrConflict)
			wantErr(t, s.UseTOTPStep(t.Context(), "u1", 99, base), storage.ErrConflict)
			must(t, s.UseTOTPStep(t.Context(), "u1", 101, base.Add(2*time.Minute)))
			got, _ = s.GetTOTP(t.Context(), "u1")
			if got.LastStep != 101 || !got.ConfirmedAt.Equal(base.Add(time.Minute)) {
				t.Fatalf("after step 101: %+v", got)
			}
		}},
		{"ok/mfa/totp-step-concurrent-one-wins", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			must(t, s.SaveTOTP(t.Context(), &storage.TOTPEnrolment{UserID: "u1", SecretEnc: []byte("x"), Confirmed: true, CreatedAt: base}))
			errs := Race(8, func(int) error { return s.UseTOTPStep(context.Background(), "u1", 7, base) })
			exactlyOneWins(t, errs, storage.ErrConflict)
		}},
		{"fail/mfa/totp-missing", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			_, err := s.GetTOTP(t.Context(), "u1")
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, s.UseTOTPStep(t.Context(), "u1", 1, base), storage.ErrNotFound)
			wantErr(t, s.DeleteTOTP(t.Context(), "u1"), storage.ErrNotFound)
			wantErr(t, s.SaveTOTP(t.Context(), &storage.TOTPEnrolment{UserID: "nobody", SecretEnc: []byte("x"), CreatedAt: base}), storage.ErrNotFound)
		}},
		{"ok/mfa/totp-delete-and-user-cascade", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createUser(t, s, "u2", "bob")
			for _, id := range []string{"u1", "u2"} {
				must(t, s.SaveTOTP(t.Context(), &storage.TOTPEnrolment{UserID: id, SecretEnc: []byte("x"), CreatedAt: base}))
			}
			must(t, s.DeleteTOTP(t.Context(), "u1"))
			_, err := s.GetTOTP(t.Context(), "u1")
			wantErr(t, err, storage.ErrNotFound)
			must(t, s.DeleteUser(t.Context(), "u2"))
			_, err = s.GetTOTP(t.Context(), "u2")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/mfa/recovery-codes-use-once", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createUser(t, s, "u2", "bob")
			must(t, s.ReplaceRecoveryCodes(t.Context(), "u1", [][]byte{[]byte("h1"), []byte("h2"), []byte("h3")}, base))
			n, err := s.CountRecoveryCodes(t.Context(), "u1")
			must(t, err)
			if n != 3 {
				t.Fatalf("count = %d, want 3", n)
			}
			must(t, s.UseRecoveryCode(t.Context(), "u1", []byte("h2"), base))
			wantErr(t, s.UseRecoveryCode(t.Context(), "u1", []byte("h2"), base), storage.ErrNotFound)
			wantErr(t, s.UseRecoveryCode(t.Context(), "u2", []byte("h1"), base), storage.ErrNotFound) // another user's code
			wantErr(t, s.UseRecoveryCode(t.Context(), "u1", []byte("nope"), base), storage.ErrNotFound)
			n, _ = s.CountRecoveryCodes(t.Context(), "u1")
			if n != 2 {
				t.Fatalf("count = %d, want 2", n)
			}
			must(t, s.ReplaceRecoveryCodes(t.Context(), "u1", [][]byte{[]byte("h9")}, base))
			wantErr(t, s.UseRecoveryCode(t.Context(), "u1", []byte("h1"), base), storage.ErrNotFound)
			n, _ = s.CountRecoveryCodes(t.Context(), "u1")
			if n != 1 {
				t.Fatalf("count after replace = %d, want 1", n)
			}
		}},
		{"ok/mfa/recovery-code-concurrent-one-wins", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			must(t, s.ReplaceRecoveryCodes(t.Context(), "u1", [][]byte{[]byte("h1")}, base))
			errs := Race(8, func(int) error { return s.UseRecoveryCode(context.Background(), "u1", []byte("h1"), base) })
			exactlyOneWins(t, errs, storage.ErrNotFound)
		}},
		{"ok/mfa/webauthn-credentials", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createUser(t, s, "u2", "bob")
			c1 := &storage.WebAuthnCredential{ID: []byte{1, 2, 3}, UserID: "u1", Name: "Laptop", PublicKey: []byte("cose"),
				AttestationType: "none", AAGUID: []byte{9, 9}, SignCount: 1, Transports: []string{"internal", "hybrid"},
				BackupEligible: true, UserVerified: true, CreatedAt: base}
			c2 := &storage.WebAuthnCredential{ID: []byte{4}, UserID: "u1", PublicKey: []byte("cose2"), CreatedAt: base.Add(time.Second)}
			must(t, s.CreateWebAuthnCredential(t.Context(), c2))
			must(t, s.CreateWebAuthnCredential(t.Context(), c1))
			wantErr(t, s.CreateWebAuthnCredential(t.Context(), &storage.WebAuthnCredential{ID: []byte{1, 2, 3}, UserID: "u2", PublicKey: []byte("k"), CreatedAt: base}), storage.ErrAlreadyExists)
			wantErr(t, s.CreateWebAuthnCredential(t.Context(), &storage.WebAuthnCredential{ID: []byte{7}, UserID: "nobody", PublicKey: []byte("k"), CreatedAt: base}), storage.ErrNotFound)
			got, err := s.ListWebAuthnCredentials(t.Context(), "u1")
			must(t, err)
			equal(t, got, []storage.WebAuthnCredential{*c1, *c2})
			must(t, s.UpdateWebAuthnCredentialUse(t.Context(), []byte{1, 2, 3}, 5, true, base.Add(time.Hour)))
			got, _ = s.ListWebAuthnCredentials(t.Context(), "u1")
			if got[0].SignCount != 5 || !got[0].BackupState || got[0].LastUsedAt == nil || !got[0].LastUsedAt.Equal(base.Add(time.Hour)) {
				t.Fatalf("after use: %+v", got[0])
			}
			wantErr(t, s.UpdateWebAuthnCredentialUse(t.Context(), []byte{8}, 1, false, base), storage.ErrNotFound)
			none, err := s.ListWebAuthnCredentials(t.Context(), "u2")
			must(t, err)
			if len(none) != 0 {
				t.Fatalf("u2 has %d credentials", len(none))
			}
			must(t, s.DeleteWebAuthnCredentials(t.Context(), "u1"))
			got, _ = s.ListWebAuthnCredentials(t.Context(), "u1")
			if len(got) != 0 {
				t.Fatalf("after delete: %d credentials", len(got))
			}
		}},
		{"ok/mfa/pending-login-and-webauthn-session-taken-once", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createUser(t, s, "u1", "alice")
			must(t, s.CreateAuthFlow(t.Context(), newFlow("f1", "c1")))
			p := &storage.PendingLogin{FlowID: "f1", UserID: "u1", AMR: []string{"pwd"}, WebAuthnSession: []byte(`{"c":1}`), CreatedAt: base, ExpiresAt: future}
			must(t, s.SavePendingLogin(t.Context(), p))
			got, err := s.GetPendingLogin(t.Context(), "f1")
			must(t, err)
			equal(t, got, p)
			errs := Race(6, func(int) error { _, err := s.TakeWebAuthnSession(context.Background(), "f1"); return err })
			exactlyOneWins(t, errs, storage.ErrNotFound)
			got, _ = s.GetPendingLogin(t.Context(), "f1")
			if got.WebAuthnSession != nil {
				t.Fatal("session not cleared")
			}
			must(t, s.DeletePendingLogin(t.Context(), "f1"))
			_, err = s.GetPendingLogin(t.Context(), "f1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/mfa/pending-login-expired-or-flow-gone", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createUser(t, s, "u1", "alice")
			wantErr(t, s.SavePendingLogin(t.Context(), &storage.PendingLogin{FlowID: "missing", UserID: "u1", CreatedAt: base, ExpiresAt: future}), storage.ErrNotFound)
			must(t, s.CreateAuthFlow(t.Context(), newFlow("f1", "c1")))
			must(t, s.CreateAuthFlow(t.Context(), newFlow("f2", "c1")))
			must(t, s.SavePendingLogin(t.Context(), &storage.PendingLogin{FlowID: "f1", UserID: "u1", CreatedAt: base, ExpiresAt: past}))
			_, err := s.GetPendingLogin(t.Context(), "f1")
			wantErr(t, err, storage.ErrNotFound)
			must(t, s.SavePendingLogin(t.Context(), &storage.PendingLogin{FlowID: "f2", UserID: "u1", WebAuthnSession: []byte("x"), CreatedAt: base, ExpiresAt: future}))
			_, err = s.ConsumeAuthFlow(t.Context(), "f2")
			must(t, err)
			_, err = s.GetPendingLogin(t.Context(), "f2")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.TakeWebAuthnSession(t.Context(), "f2")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/mfa/login-throttle-update-delete", func(t *testing.T, s storage.Store) {
			_, err := s.GetLoginThrottle(t.Context(), "user:alice")
			wantErr(t, err, storage.ErrNotFound)
			bump := func(l *storage.LoginThrottle) error {
				l.Failures++
				l.LastFailureAt = base
				l.NextAttemptAt = base.Add(time.Second)
				return nil
			}
			must(t, s.UpdateLoginThrottle(t.Context(), "user:alice", bump))
			must(t, s.UpdateLoginThrottle(t.Context(), "user:alice", func(l *storage.LoginThrottle) error {
				if err := bump(l); err != nil {
					return err
				}
				l.LockedUntil = future
				return nil
			}))
			got, err := s.GetLoginThrottle(t.Context(), "user:alice")
			must(t, err)
			equal(t, got, &storage.LoginThrottle{Key: "user:alice", Failures: 2, LastFailureAt: base, NextAttemptAt: base.Add(time.Second), LockedUntil: future})
			// an updater error writes nothing
			wantErr(t, s.UpdateLoginThrottle(t.Context(), "user:alice", func(l *storage.LoginThrottle) error {
				l.Failures = 99
				return errBoom
			}), errBoom)
			got, _ = s.GetLoginThrottle(t.Context(), "user:alice")
			if got.Failures != 2 {
				t.Fatalf("failures = %d after a failed update", got.Failures)
			}
			must(t, s.DeleteLoginThrottle(t.Context(), "user:alice"))
			wantErr(t, s.DeleteLoginThrottle(t.Context(), "user:alice"), storage.ErrNotFound)
		}},
		{"ok/mfa/login-throttle-delete-expired", func(t *testing.T, s storage.Store) {
			window := 15 * time.Minute
			old := base.Add(-window - time.Second)
			for key, l := range map[string]storage.LoginThrottle{
				"user:made-up":       {Failures: 1, LastFailureAt: old},                                          // gone
				"user:lock-over":     {LastFailureAt: old, LockedUntil: base.Add(-time.Second)},                  // gone
				"user:crashed":       {NextAttemptAt: base.Add(-time.Second)},                                    // gone: an admission that never finished
				"user:locked":        {LastFailureAt: old, LockedUntil: base.Add(time.Minute)},                   // kept: locked
				"user:waiting":       {Failures: 3, LastFailureAt: old, NextAttemptAt: base.Add(time.Second)},    // kept: waits
				"user:recent":        {Failures: 2, LastFailureAt: base.Add(-time.Minute)},                       // kept: inside the window
				"ip:192.0.2.9":       {Failures: 9, LastFailureAt: base.Add(-window + time.Second)},              // kept: inside the window
				"ip:198.51.100.0/24": {Failures: 30, LastFailureAt: old, LockedUntil: base, NextAttemptAt: base}, // gone: ends exactly now
			} {
				must(t, s.UpdateLoginThrottle(t.Context(), key, func(t *storage.LoginThrottle) error {
					*t = l
					return nil
				}))
			}
			n, err := s.DeleteExpiredLoginThrottles(t.Context(), "", base, base.Add(-window))
			must(t, err)
			if n != 4 {
				t.Fatalf("deleted %d counters, want 4", n)
			}
			for _, key := range []string{"user:made-up", "user:lock-over", "user:crashed", "ip:198.51.100.0/24"} {
				_, err := s.GetLoginThrottle(t.Context(), key)
				wantErr(t, err, storage.ErrNotFound)
			}
			for _, key := range []string{"user:locked", "user:waiting", "user:recent", "ip:192.0.2.9"} {
				_, err := s.GetLoginThrottle(t.Context(), key)
				must(t, err)
			}
			n, err = s.DeleteExpiredLoginThrottles(t.Context(), "", base, base.Add(-window))
			must(t, err)
			if n != 0 {
				t.Fatalf("a second cleanup deleted %d", n)
			}
		}},
		{"ok/mfa/login-throttle-delete-expired-rolls-back", func(t *testing.T, s storage.Store) {
			must(t, s.UpdateLoginThrottle(t.Context(), "user:made-up", func(l *storage.LoginThrottle) error {
				l.Failures, l.LastFailureAt = 1, past
				return nil
			}))
			err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
				if n, err := s.DeleteExpiredLoginThrottles(ctx, "", base, base); err != nil || n != 1 {
					t.Errorf("in transaction: deleted %d, %v", n, err)
				}
				return errBoom
			})
			wantErr(t, err, errBoom)
			_, err = s.GetLoginThrottle(t.Context(), "user:made-up")
			must(t, err)
		}},
		{"ok/mfa/login-throttle-update-races-cleanup", func(t *testing.T, s storage.Store) {
			// A counter removed while an attempt updates it must not fail the
			// attempt: it is created again.
			for range 20 {
				errs := Race(2, func(i int) error {
					if i == 0 {
						_, err := s.DeleteExpiredLoginThrottles(context.Background(), "", future, future)
						return err
					}
					return s.UpdateLoginThrottle(context.Background(), "user:alice", func(l *storage.LoginThrottle) error {
						l.Failures++
						l.LastFailureAt = base
						return nil
					})
				})
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"ok/mfa/login-throttle-concurrent-increments", func(t *testing.T, s storage.Store) {
			errs := Race(10, func(int) error {
				return s.UpdateLoginThrottle(context.Background(), "ip:192.0.2.1", func(l *storage.LoginThrottle) error {
					l.Failures++
					return nil
				})
			})
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetLoginThrottle(t.Context(), "ip:192.0.2.1")
			must(t, err)
			if got.Failures != 10 {
				t.Fatalf("failures = %d, want 10 (lost updates)", got.Failures)
			}
		}},
		{"ok/mfa/login-throttle-check-and-increment-is-atomic", func(t *testing.T, s storage.Store) {
			// Admission: refuse at the limit, else count. In parallel, exactly
			// the limit is admitted (a check outside the update would admit all).
			const limit = 10
			errs := Race(40, func(int) error {
				return s.UpdateLoginThrottle(context.Background(), "ip:192.0.2.2", func(l *storage.LoginThrottle) error {
					if l.Failures >= limit {
						return errBoom
					}
					l.Failures++
					return nil
				})
			})
			admitted := 0
			for _, err := range errs {
				switch {
				case err == nil:
					admitted++
				case !errors.Is(err, errBoom):
					t.Fatal(err)
				}
			}
			got, err := s.GetLoginThrottle(t.Context(), "ip:192.0.2.2")
			must(t, err)
			if admitted != limit || got.Failures != limit {
				t.Fatalf("admitted %d, failures %d; want %d", admitted, got.Failures, limit)
			}
		}},
		{"ok/mfa/login-throttle-delete-expired-by-prefix", func(t *testing.T, s storage.Store) {
			for _, key := range []string{"user:a", "ip:192.0.2.3", "mfa:u1", "mfa:u2"} {
				must(t, s.UpdateLoginThrottle(t.Context(), key, func(l *storage.LoginThrottle) error {
					l.Failures, l.LastFailureAt = 1, past
					return nil
				}))
			}
			n, err := s.DeleteExpiredLoginThrottles(t.Context(), "mfa:", base, base)
			must(t, err)
			if n != 2 {
				t.Fatalf("deleted %d with prefix mfa:, want 2", n)
			}
			for _, key := range []string{"user:a", "ip:192.0.2.3"} {
				_, err := s.GetLoginThrottle(t.Context(), key)
				must(t, err)
			}
			// the prefix is literal: LIKE wildcards match nothing
			n, err = s.DeleteExpiredLoginThrottles(t.Context(), "%", base, base)
			must(t, err)
			if n != 0 {
				t.Fatalf("prefix %%: deleted %d", n)
			}
		}},
	}
}
