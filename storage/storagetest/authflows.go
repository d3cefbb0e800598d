package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func authFlowTests() []test {
	return []test{
		{"ok/authflows/delete-expired", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createClient(t, s, "c1")
			createUser(t, s, "u1", "alice")
			for id, exp := range map[string]time.Time{"old": past, "recent": base.Add(-time.Hour), "live": future} {
				f := newFlow(id, "c1")
				f.ExpiresAt = exp
				must(t, s.CreateAuthFlow(ctx, f))
				must(t, s.SavePendingLogin(ctx, &storage.PendingLogin{FlowID: id, UserID: "u1", CreatedAt: base, ExpiresAt: future}))
			}
			n, err := s.DeleteExpiredAuthFlows(ctx, base)
			must(t, err)
			if n != 2 {
				t.Fatalf("deleted %d flows expired before %v, want 2", n, base)
			}
			n, err = s.DeleteExpiredAuthFlows(ctx, base)
			must(t, err)
			if n != 0 {
				t.Fatalf("deleted %d flows on the second pass, want 0", n)
			}
			_, err = s.GetAuthFlow(ctx, "live")
			must(t, err)
			_, err = s.GetPendingLogin(ctx, "live")
			must(t, err)
			// The swept id is free again, and its pending login went with it.
			must(t, s.CreateAuthFlow(ctx, newFlow("old", "c1")))
			_, err = s.GetPendingLogin(ctx, "old")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/authflows/create-get", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			want := newFlow("f1", "c1")
			must(t, s.CreateAuthFlow(t.Context(), want))
			got, err := s.GetAuthFlow(t.Context(), "f1")
			must(t, err)
			equal(t, got, newFlow("f1", "c1"))

			logged := newFlow("f2", "c1")
			logged.Subject, logged.AuthTime, logged.SessionID = "u1", ptr(base), "sess-1"
			must(t, s.CreateAuthFlow(t.Context(), logged))
			got, err = s.GetAuthFlow(t.Context(), "f2")
			must(t, err)
			equal(t, got, logged)
		}},
		{"fail/authflows/create-duplicate", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			must(t, s.CreateAuthFlow(t.Context(), newFlow("f1", "c1")))
			other := newFlow("f1", "c1")
			other.Form = []byte("other")
			wantErr(t, s.CreateAuthFlow(t.Context(), other), storage.ErrAlreadyExists)
			got, err := s.GetAuthFlow(t.Context(), "f1")
			must(t, err)
			equal(t, got, newFlow("f1", "c1"))
		}},
		{"fail/authflows/create-unknown-client", func(t *testing.T, s storage.Store) {
			wantErr(t, s.CreateAuthFlow(t.Context(), newFlow("f1", "ghost")), storage.ErrNotFound)
		}},
		{"fail/authflows/get-missing", func(t *testing.T, s storage.Store) {
			_, err := s.GetAuthFlow(t.Context(), "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/authflows/get-expired", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			f := newFlow("f1", "c1")
			f.ExpiresAt = past
			must(t, s.CreateAuthFlow(t.Context(), f))
			_, err := s.GetAuthFlow(t.Context(), "f1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/authflows/update-records-login", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createClient(t, s, "c2")
			must(t, s.CreateAuthFlow(t.Context(), newFlow("f1", "c1")))
			at := base.Add(time.Minute)
			upd := &storage.AuthFlow{
				ID: "f1", Subject: "u1", AuthTime: &at, SessionID: "sess-1",
				// Only the login fields change; these are ignored.
				ClientID: "c2", Form: []byte("tampered"), Binding: "other-browser", CreatedAt: past, ExpiresAt: future.AddDate(1, 0, 0),
			}
			must(t, s.UpdateAuthFlow(t.Context(), upd))
			want := newFlow("f1", "c1")
			want.Subject, want.AuthTime, want.SessionID = "u1", &at, "sess-1"
			got, err := s.GetAuthFlow(t.Context(), "f1")
			must(t, err)
			equal(t, got, want)
		}},
		{"fail/authflows/update-missing", func(t *testing.T, s storage.Store) {
			f := newFlow("nope", "c1")
			f.Subject = "u1"
			wantErr(t, s.UpdateAuthFlow(t.Context(), f), storage.ErrNotFound)
		}},
		{"fail/authflows/update-expired", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			f := newFlow("f1", "c1")
			f.ExpiresAt = past
			must(t, s.CreateAuthFlow(t.Context(), f))
			f.Subject = "u1"
			wantErr(t, s.UpdateAuthFlow(t.Context(), f), storage.ErrNotFound)
		}},
		{"ok/authflows/consume", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			must(t, s.CreateAuthFlow(t.Context(), newFlow("f1", "c1")))
			got, err := s.ConsumeAuthFlow(t.Context(), "f1")
			must(t, err)
			equal(t, got, newFlow("f1", "c1"))
			_, err = s.ConsumeAuthFlow(t.Context(), "f1")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetAuthFlow(t.Context(), "f1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/authflows/consume-missing", func(t *testing.T, s storage.Store) {
			_, err := s.ConsumeAuthFlow(t.Context(), "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/authflows/consume-expired", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			f := newFlow("f1", "c1")
			f.ExpiresAt = past
			must(t, s.CreateAuthFlow(t.Context(), f))
			got, err := s.ConsumeAuthFlow(t.Context(), "f1")
			wantErr(t, err, storage.ErrNotFound)
			if got != nil {
				t.Fatal("expired flow returned")
			}
		}},
		{"ok/authflows/consume-concurrent", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			for round := range 5 {
				id := fmt.Sprintf("f%d", round)
				must(t, s.CreateAuthFlow(t.Context(), newFlow(id, "c1")))
				got := make([]*storage.AuthFlow, 8)
				errs := Race(8, func(i int) error {
					var err error
					got[i], err = s.ConsumeAuthFlow(t.Context(), id)
					return err
				})
				exactlyOneWins(t, errs, storage.ErrNotFound)
				for i, err := range errs {
					if err == nil {
						equal(t, got[i], newFlow(id, "c1"))
					}
				}
			}
		}},
		{"ok/authflows/copies", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			in := newFlow("f1", "c1")
			in.AuthTime = ptr(base)
			must(t, s.CreateAuthFlow(t.Context(), in))
			in.Form[0] = 'X'
			*in.AuthTime = future
			got, err := s.GetAuthFlow(t.Context(), "f1")
			must(t, err)
			got.Form[1] = 'X'
			*got.AuthTime = future
			want := newFlow("f1", "c1")
			want.AuthTime = ptr(base)
			got, err = s.GetAuthFlow(t.Context(), "f1")
			must(t, err)
			equal(t, got, want)
		}},
	}
}
