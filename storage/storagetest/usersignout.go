package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// A user's sign-out: deleting a user or revoking what their earlier
// sign-ins left (storage.Users.DeleteUser, storage.GrantRevocation.RevokeUserRequests).

// userFixture is a user "doomed" with a row of every request kind at two
// clients, a signed-in flow, a flow waiting for a second factor, a session
// and a consent; and the same of a user "kept", plus a client credentials
// token (subject "").
type userFixture struct {
	doomed, kept []*storage.Request
	tokensDoomed int // codes, access and refresh tokens among doomed
	clientCreds  *storage.Request
}

func newUserFixture(t *testing.T, s storage.Store) *userFixture {
	t.Helper()
	ctx := t.Context()
	createClient(t, s, "c1")
	createClient(t, s, "c2")
	f := &userFixture{}
	for _, user := range []string{"doomed", "kept"} {
		createUser(t, s, user, "name-"+user)
		var rows []*storage.Request
		for _, client := range []string{"c1", "c2"} {
			for _, kind := range []storage.RequestKind{storage.KindAuthorizeCode, storage.KindAccessToken,
				storage.KindRefreshToken, storage.KindOIDC, storage.KindPKCE} {
				r := newRequest(kind, user+"-"+client+"-"+string(kind), user+"-"+client, client)
				r.Subject = user
				createRequest(t, s, r)
				rows = append(rows, r)
			}
		}
		must(t, s.CreateBrowserSession(ctx, newSession("sess-"+user, user)))
		must(t, s.SaveConsent(ctx, newConsent(user, "c1")))
		signedIn := newFlow("signed-in-"+user, "c1")
		signedIn.Subject, signedIn.SessionID, signedIn.AuthTime = user, "sess-"+user, ptr(base)
		must(t, s.CreateAuthFlow(ctx, signedIn))
		must(t, s.CreateAuthFlow(ctx, newFlow("mfa-"+user, "c1")))
		must(t, s.SavePendingLogin(ctx, &storage.PendingLogin{FlowID: "mfa-" + user, UserID: user, AMR: []string{"pwd"}, CreatedAt: base, ExpiresAt: future}))
		if user == "doomed" {
			f.doomed = rows
		} else {
			f.kept = rows
		}
	}
	f.tokensDoomed = 6
	f.clientCreds = newRequest(storage.KindAccessToken, "client-credentials", "cc", "c1")
	f.clientCreds.Subject = ""
	createRequest(t, s, f.clientCreds)
	return f
}

// isToken reports whether r is a code or token (what RevokeUserRequests deactivates).
func isToken(r *storage.Request) bool {
	return r.Kind == storage.KindAuthorizeCode || r.Kind == storage.KindAccessToken || r.Kind == storage.KindRefreshToken
}

// wantActive checks that every row is there and active.
func wantActive(t *testing.T, s storage.Store, rows ...*storage.Request) {
	t.Helper()
	for _, r := range rows {
		if _, err := s.GetRequest(t.Context(), r.Kind, r.Signature); err != nil {
			t.Fatalf("%s %s: %v, want it active", r.Kind, r.Signature, err)
		}
	}
}

// wantFlows checks which of the fixture's flows of user remain.
func wantFlows(t *testing.T, s storage.Store, user string, present bool) {
	t.Helper()
	for _, id := range []string{"signed-in-" + user, "mfa-" + user} {
		_, err := s.GetAuthFlow(t.Context(), id)
		if present {
			must(t, err)
		} else {
			wantErr(t, err, storage.ErrNotFound)
		}
	}
	_, err := s.GetPendingLogin(t.Context(), "mfa-"+user)
	if present {
		must(t, err)
	} else {
		wantErr(t, err, storage.ErrNotFound)
	}
}

// wantUntouched checks that user's fixture rows are all as created.
func (f *userFixture) wantUntouched(t *testing.T, s storage.Store, user string) {
	t.Helper()
	rows := f.kept
	if user == "doomed" {
		rows = f.doomed
	}
	wantActive(t, s, append(rows, f.clientCreds)...)
	wantFlows(t, s, user, true)
	_, err := s.GetUser(t.Context(), user)
	must(t, err)
	_, err = s.GetBrowserSession(t.Context(), "sess-"+user)
	must(t, err)
	_, err = s.GetConsent(t.Context(), user, "c1")
	must(t, err)
}

// issueDuringSweep simulates a refresh (or code exchange) of doomed at c1
// running concurrently with sweep: the refresh transaction deactivates the
// refresh token, inserts a successor, and commits only after sweep has
// started and is waiting. It returns the successor, which sweep must not
// leave active.
func issueDuringSweep(t *testing.T, s storage.Store, sweep func(ctx context.Context) error) *storage.Request {
	t.Helper()
	tx, err := s.BeginTx(t.Context())
	must(t, err)
	must(t, s.DeactivateRequest(tx, storage.KindRefreshToken, "doomed-c1-refresh"))
	next := newRequest(storage.KindRefreshToken, "doomed-c1-refresh-next", "doomed-c1", "c1")
	next.Subject = "doomed"
	must(t, s.CreateRequest(tx, next))
	done := make(chan error, 1)
	go func() { done <- sweep(context.Background()) }()
	// Let the sweep start and block on the refresh transaction (a row
	// lock in PostgreSQL, the transaction lock in memory).
	select {
	case err := <-done:
		t.Fatalf("the sweep finished while a refresh of the user held its lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	must(t, s.CommitTx(tx))
	must(t, <-done)
	return next
}

func userSignOutTests() []test {
	return []test{
		{"ok/users/delete-removes-every-token-and-flow-of-the-user", func(t *testing.T, s storage.Store) {
			f := newUserFixture(t, s)
			must(t, s.DeleteUser(t.Context(), "doomed"))
			for _, r := range f.doomed {
				_, err := s.GetRequest(t.Context(), r.Kind, r.Signature)
				wantErr(t, err, storage.ErrNotFound)
			}
			wantFlows(t, s, "doomed", false)
			f.wantUntouched(t, s, "kept")
		}},
		{"ok/users/revoke-user-requests-deactivates-tokens-at-every-client", func(t *testing.T, s storage.Store) {
			f := newUserFixture(t, s)
			n, err := s.RevokeUserRequests(t.Context(), "doomed")
			must(t, err)
			if n != int64(f.tokensDoomed) {
				t.Fatalf("revoked %d rows, want %d", n, f.tokensDoomed)
			}
			for _, r := range f.doomed {
				_, err := s.GetRequest(t.Context(), r.Kind, r.Signature)
				if isToken(r) {
					wantErr(t, err, storage.ErrInactive)
				} else {
					must(t, err) // PKCE and OIDC state: useless without the code
				}
			}
			wantFlows(t, s, "doomed", false)
			f.wantUntouched(t, s, "kept")
			// The user, their sessions and consents are the caller's business.
			_, err = s.GetUser(t.Context(), "doomed")
			must(t, err)
			n, err = s.RevokeUserRequests(t.Context(), "doomed")
			must(t, err)
			if n != 0 {
				t.Fatalf("second revocation deactivated %d rows", n)
			}
		}},
		{"fail/users/revoke-user-requests-refuses-the-empty-subject", func(t *testing.T, s storage.Store) {
			f := newUserFixture(t, s)
			_, err := s.RevokeUserRequests(t.Context(), "")
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, s.DeleteUser(t.Context(), ""), storage.ErrNotFound)
			wantActive(t, s, f.clientCreds)
			f.wantUntouched(t, s, "doomed")
		}},
		{"fail/users/delete-and-revocation-roll-back-together", func(t *testing.T, s storage.Store) {
			f := newUserFixture(t, s)
			before, err := s.GetUser(t.Context(), "doomed")
			must(t, err)
			for name, change := range map[string]func(ctx context.Context) error{
				"delete": func(ctx context.Context) error { return s.DeleteUser(ctx, "doomed") },
				"revoke": func(ctx context.Context) error {
					must(t, s.UpdatePasswordHash(ctx, "doomed", "new-hash", base.Add(time.Hour)))
					must(t, s.DeleteBrowserSession(ctx, "sess-doomed"))
					_, err := s.RevokeUserRequests(ctx, "doomed")
					return err
				},
			} {
				err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
					must(t, change(ctx))
					return errBoom // a later step (the audit event) fails
				})
				wantErr(t, err, errBoom)
				f.wantUntouched(t, s, "doomed")
				after, err := s.GetUser(t.Context(), "doomed")
				must(t, err)
				if after.PasswordHash != before.PasswordHash {
					t.Fatalf("%s: the password changed although the transaction rolled back", name)
				}
			}
		}},
		{"ok/users/revoke-user-requests-catches-a-concurrent-refresh", func(t *testing.T, s storage.Store) {
			newUserFixture(t, s)
			next := issueDuringSweep(t, s, func(ctx context.Context) error {
				_, err := s.RevokeUserRequests(ctx, "doomed")
				return err
			})
			_, err := s.GetRequest(t.Context(), next.Kind, next.Signature)
			wantErr(t, err, storage.ErrInactive)
		}},
		{"ok/users/delete-catches-a-concurrent-refresh", func(t *testing.T, s storage.Store) {
			newUserFixture(t, s)
			next := issueDuringSweep(t, s, func(ctx context.Context) error { return s.DeleteUser(ctx, "doomed") })
			_, err := s.GetRequest(t.Context(), next.Kind, next.Signature)
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/clients/revoke-client-requests-catches-a-concurrent-refresh", func(t *testing.T, s storage.Store) {
			newUserFixture(t, s)
			next := issueDuringSweep(t, s, func(ctx context.Context) error {
				_, err := s.RevokeClientRequests(ctx, "c1")
				return err
			})
			_, err := s.GetRequest(t.Context(), next.Kind, next.Signature)
			wantErr(t, err, storage.ErrInactive)
		}},
		{"ok/logout/revoke-by-subject-client-catches-a-concurrent-refresh", func(t *testing.T, s storage.Store) {
			newUserFixture(t, s)
			next := issueDuringSweep(t, s, func(ctx context.Context) error {
				_, err := s.RevokeRequestsBySubjectClient(ctx, "doomed", "c1")
				return err
			})
			_, err := s.GetRequest(t.Context(), next.Kind, next.Signature)
			wantErr(t, err, storage.ErrInactive)
		}},
	}
}
