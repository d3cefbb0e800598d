package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// signedInUser stores a user with a live session that signed in to a
// client with a back-channel logout URI, and an active access and refresh
// token of that client, as a code flow leaves them.
func signedInUser(t *testing.T, f *adminFixture) *storage.User {
	t.Helper()
	ctx := t.Context()
	now := f.clock.Now()
	hash, err := password.Hash("correct horse battery staple", password.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	u := &storage.User{ID: "0b6c1f0e-8f5d-4c52-9f39-2f0d5c1e7a10", Username: "alice", PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	c := &storage.Client{ID: "rp", GrantTypes: []string{"authorization_code", "refresh_token"}, CreatedAt: now, UpdatedAt: now,
		Metadata: storage.ClientMetadata{BackchannelLogoutURI: "https://rp.example.test/backchannel"}}
	bs := &storage.BrowserSession{ID: "session", UserID: u.ID, AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	for _, err := range []error{
		f.store.CreateUser(ctx, u), f.store.CreateClient(ctx, c), f.store.CreateBrowserSession(ctx, bs),
		f.store.AddSessionClient(ctx, bs.ID, c.ID, now),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []storage.RequestKind{storage.KindAccessToken, storage.KindRefreshToken} {
		r := &storage.Request{Kind: kind, Signature: string(kind), RequestID: "grant", ClientID: c.ID, Subject: u.ID,
			Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := f.store.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// signedInState is what an operator's sign-out changes.
type signedInState struct {
	Hash       string
	Session    bool
	Active     [2]bool
	Deliveries int
}

func stateOf(t *testing.T, s *memory.Store, userID string) signedInState {
	t.Helper()
	ctx := t.Context()
	var st signedInState
	if u, err := s.GetUser(ctx, userID); err == nil {
		st.Hash = u.PasswordHash
	}
	_, err := s.GetBrowserSession(ctx, "session")
	st.Session = err == nil
	for i, kind := range []storage.RequestKind{storage.KindAccessToken, storage.KindRefreshToken} {
		_, err := s.GetRequest(ctx, kind, string(kind))
		st.Active[i] = err == nil
	}
	d, err := s.ListLogoutDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Deliveries = len(d)
	return st
}

// TestUserSignOutIsAtomicWithTheChange: deleting a user, setting their
// password or resetting their second factors either signs them out and
// makes the change, or (a later step fails: here the audit event) does
// neither: no session ended, no token revoked, no logout queued.
func TestUserSignOutIsAtomicWithTheChange(t *testing.T) {
	actions := map[string]func(ctx context.Context, s storage.Store, u *storage.User, now func() time.Time) error{
		"delete": func(ctx context.Context, s storage.Store, u *storage.User, now func() time.Time) error {
			return admin.NewUserAdmin(s, now).Delete(ctx, operator, u.Username)
		},
		"set-password": func(ctx context.Context, s storage.Store, u *storage.User, now func() time.Time) error {
			return admin.NewCredentialAdmin(s, now).SetPassword(ctx, operator, u, "a completely different passphrase")
		},
		"reset-mfa": func(ctx context.Context, s storage.Store, u *storage.User, now func() time.Time) error {
			return admin.NewCredentialAdmin(s, now).ResetMFA(ctx, operator, u)
		},
	}
	for name, act := range actions {
		t.Run("fail/"+name+"-audit-fails-nothing-changes", func(t *testing.T) {
			f := newAdminFixture(t)
			u := signedInUser(t, f)
			before := stateOf(t, f.store, u.ID)
			if !before.Session || before.Active != [2]bool{true, true} {
				t.Fatalf("fixture: %+v", before)
			}
			if err := act(t.Context(), failingAudit{f.store}, u, f.clock.Now); !errors.Is(err, errAuditDown) {
				t.Fatalf("%s with a failing audit trail: %v", name, err)
			}
			if after := stateOf(t, f.store, u.ID); after != before {
				t.Fatalf("half done: before %+v, after %+v", before, after)
			}
		})
		t.Run("ok/"+name+"-signs-out", func(t *testing.T) {
			f := newAdminFixture(t)
			u := signedInUser(t, f)
			before := stateOf(t, f.store, u.ID)
			if err := act(t.Context(), f.store, u, f.clock.Now); err != nil {
				t.Fatal(err)
			}
			after := stateOf(t, f.store, u.ID)
			if after.Session || after.Active != [2]bool{} || after.Deliveries != 1 {
				t.Fatalf("after %s: %+v, want no session, no active token, one back-channel logout queued", name, after)
			}
			if name == "set-password" && after.Hash == before.Hash {
				t.Fatal("the password did not change")
			}
		})
	}
}
