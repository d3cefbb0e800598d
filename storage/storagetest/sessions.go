package storagetest

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func sessionTests() []test {
	return []test{
		{"ok/sessions/delete-expired", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			for id, exp := range map[string]time.Time{"old": past, "recent": base.Add(-time.Hour), "live": future} {
				bs := newSession(id, "u1")
				bs.ExpiresAt = exp
				must(t, s.CreateBrowserSession(ctx, bs))
			}
			must(t, s.AddSessionClient(ctx, "live", "c1", base))
			n, err := s.DeleteExpiredBrowserSessions(ctx, past.Add(time.Hour))
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d sessions expired before %v, want 1", n, past.Add(time.Hour))
			}
			n, err = s.DeleteExpiredBrowserSessions(ctx, base)
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d sessions expired before %v, want 1", n, base)
			}
			n, err = s.DeleteExpiredBrowserSessions(ctx, base)
			must(t, err)
			if n != 0 {
				t.Fatalf("deleted %d sessions on the second pass, want 0", n)
			}
			_, err = s.GetBrowserSession(ctx, "live")
			must(t, err)
			clients, err := s.ListSessionClients(ctx, "live")
			must(t, err)
			equal(t, clients, []string{"c1"})
			// The swept id is free again.
			must(t, s.CreateBrowserSession(ctx, newSession("old", "u1")))
		}},
		{"ok/sessions/create-get", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			must(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u1")))
			got, err := s.GetBrowserSession(t.Context(), "s1")
			must(t, err)
			equal(t, got, newSession("s1", "u1"))
		}},
		{"ok/sessions/no-amr", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			in := newSession("s1", "u1")
			in.AMR = nil
			must(t, s.CreateBrowserSession(t.Context(), in))
			got, err := s.GetBrowserSession(t.Context(), "s1")
			must(t, err)
			equal(t, got, in)
		}},
		{"fail/sessions/create-duplicate", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createUser(t, s, "u2", "bob")
			must(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u1")))
			wantErr(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u2")), storage.ErrAlreadyExists)
			got, err := s.GetBrowserSession(t.Context(), "s1")
			must(t, err)
			equal(t, got, newSession("s1", "u1"))
		}},
		{"fail/sessions/create-unknown-user", func(t *testing.T, s storage.Store) {
			wantErr(t, s.CreateBrowserSession(t.Context(), newSession("s1", "ghost")), storage.ErrNotFound)
		}},
		{"fail/sessions/get-missing", func(t *testing.T, s storage.Store) {
			_, err := s.GetBrowserSession(t.Context(), "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/sessions/get-expired", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			in := newSession("s1", "u1")
			in.ExpiresAt = past
			must(t, s.CreateBrowserSession(t.Context(), in))
			_, err := s.GetBrowserSession(t.Context(), "s1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/sessions/touch", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			must(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u1")))
			seen := base.Add(10 * time.Minute)
			must(t, s.TouchBrowserSession(t.Context(), "s1", seen))
			want := newSession("s1", "u1")
			want.LastSeenAt = seen
			got, err := s.GetBrowserSession(t.Context(), "s1")
			must(t, err)
			equal(t, got, want)
		}},
		{"fail/sessions/touch-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.TouchBrowserSession(t.Context(), "nope", base), storage.ErrNotFound)
		}},
		{"fail/sessions/touch-expired", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			in := newSession("s1", "u1")
			in.ExpiresAt = past
			must(t, s.CreateBrowserSession(t.Context(), in))
			wantErr(t, s.TouchBrowserSession(t.Context(), "s1", base), storage.ErrNotFound)
		}},
		{"ok/sessions/delete", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			must(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u1")))
			must(t, s.CreateBrowserSession(t.Context(), newSession("s2", "u1")))
			must(t, s.DeleteBrowserSession(t.Context(), "s1"))
			_, err := s.GetBrowserSession(t.Context(), "s1")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetBrowserSession(t.Context(), "s2")
			must(t, err)
			wantErr(t, s.DeleteBrowserSession(t.Context(), "s1"), storage.ErrNotFound)
		}},
		{"fail/sessions/delete-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.DeleteBrowserSession(t.Context(), "nope"), storage.ErrNotFound)
		}},
		{"fail/sessions/delete-expired", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			in := newSession("s1", "u1")
			in.ExpiresAt = past
			must(t, s.CreateBrowserSession(t.Context(), in))
			wantErr(t, s.DeleteBrowserSession(t.Context(), "s1"), storage.ErrNotFound)
		}},
		{"ok/sessions/copies", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			in := newSession("s1", "u1")
			must(t, s.CreateBrowserSession(t.Context(), in))
			in.AMR[0] = "none"
			got, err := s.GetBrowserSession(t.Context(), "s1")
			must(t, err)
			got.AMR[1] = "none"
			got, err = s.GetBrowserSession(t.Context(), "s1")
			must(t, err)
			equal(t, got, newSession("s1", "u1"))
		}},
	}
}
