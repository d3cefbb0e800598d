package storagetest

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func userTests() []test {
	return []test{
		{"ok/users/create-get", func(t *testing.T, s storage.Store) {
			want := createUser(t, s, "u1", "alice")
			got, err := s.GetUser(t.Context(), "u1")
			must(t, err)
			equal(t, got, want)
			got, err = s.GetUserByUsername(t.Context(), "alice")
			must(t, err)
			equal(t, got, want)
		}},
		{"ok/users/phone-number-round-trip", func(t *testing.T, s storage.Store) {
			want := newUser("u1", "alice")
			want.PhoneNumber, want.PhoneNumberVerified = "+14155550100", true
			must(t, s.CreateUser(t.Context(), want))
			got, err := s.GetUser(t.Context(), "u1")
			must(t, err)
			equal(t, got, want)
			list, err := s.ListUsers(t.Context())
			must(t, err)
			equal(t, list, []storage.User{*want})
			// a profile update changes and clears the phone claims
			p := *want
			p.PhoneNumber, p.PhoneNumberVerified, p.UpdatedAt = "+442071838750", false, base.Add(time.Hour)
			must(t, s.UpdateUserProfile(t.Context(), &p))
			got, err = s.GetUser(t.Context(), "u1")
			must(t, err)
			equal(t, got, &p)
			p.PhoneNumber, p.UpdatedAt = "", base.Add(2*time.Hour)
			must(t, s.UpdateUserProfile(t.Context(), &p))
			got, err = s.GetUser(t.Context(), "u1")
			must(t, err)
			equal(t, got, &p)
		}},
		{"ok/users/list-ordered-by-username", func(t *testing.T, s storage.Store) {
			got, err := s.ListUsers(t.Context())
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("empty store lists %d users", len(got))
			}
			carol := createUser(t, s, "u1", "carol")
			bob := createUser(t, s, "u2", "bob")
			upperZed := createUser(t, s, "u3", "Zed") // byte order: "Zed" < "bob"
			got, err = s.ListUsers(t.Context())
			must(t, err)
			equal(t, got, []storage.User{*upperZed, *bob, *carol})
		}},
		{"ok/users/username-case-sensitive", func(t *testing.T, s storage.Store) {
			lower := createUser(t, s, "u1", "alice")
			upper := createUser(t, s, "u2", "Alice")
			got, err := s.GetUserByUsername(t.Context(), "alice")
			must(t, err)
			equal(t, got, lower)
			got, err = s.GetUserByUsername(t.Context(), "Alice")
			must(t, err)
			equal(t, got, upper)
			_, err = s.GetUserByUsername(t.Context(), "ALICE")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/users/create-duplicate-id", func(t *testing.T, s storage.Store) {
			want := createUser(t, s, "u1", "alice")
			wantErr(t, s.CreateUser(t.Context(), newUser("u1", "bob")), storage.ErrAlreadyExists)
			got, err := s.GetUser(t.Context(), "u1")
			must(t, err)
			equal(t, got, want)
			_, err = s.GetUserByUsername(t.Context(), "bob")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/users/create-duplicate-username", func(t *testing.T, s storage.Store) {
			want := createUser(t, s, "u1", "alice")
			wantErr(t, s.CreateUser(t.Context(), newUser("u2", "alice")), storage.ErrAlreadyExists)
			got, err := s.GetUserByUsername(t.Context(), "alice")
			must(t, err)
			equal(t, got, want)
			_, err = s.GetUser(t.Context(), "u2")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/users/get-missing", func(t *testing.T, s storage.Store) {
			_, err := s.GetUser(t.Context(), "nope")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetUserByUsername(t.Context(), "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/users/copies", func(t *testing.T, s storage.Store) {
			in := newUser("u1", "alice")
			must(t, s.CreateUser(t.Context(), in))
			in.Email = "changed@example.com"
			got, err := s.GetUser(t.Context(), "u1")
			must(t, err)
			got.Name = "changed"
			list, err := s.ListUsers(t.Context())
			must(t, err)
			list[0].PasswordHash = "changed"
			got, err = s.GetUser(t.Context(), "u1")
			must(t, err)
			equal(t, got, newUser("u1", "alice"))
		}},
		{"ok/users/delete-cascades", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createClient(t, s, "c1")
			createUser(t, s, "doomed", "alice")
			createUser(t, s, "kept", "bob")
			for _, id := range []string{"doomed", "kept"} {
				must(t, s.CreateBrowserSession(ctx, newSession("sess-"+id, id)))
				must(t, s.SaveConsent(ctx, newConsent(id, "c1")))
			}
			must(t, s.DeleteUser(ctx, "doomed"))

			_, err := s.GetUser(ctx, "doomed")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetUserByUsername(ctx, "alice")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetBrowserSession(ctx, "sess-doomed")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetConsent(ctx, "doomed", "c1")
			wantErr(t, err, storage.ErrNotFound)

			_, err = s.GetBrowserSession(ctx, "sess-kept")
			must(t, err)
			_, err = s.GetConsent(ctx, "kept", "c1")
			must(t, err)
			_, err = s.GetClient(ctx, "c1")
			must(t, err)
			// The username is free again.
			createUser(t, s, "new", "alice")
		}},
		{"fail/users/delete-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.DeleteUser(t.Context(), "nope"), storage.ErrNotFound)
		}},
	}
}
