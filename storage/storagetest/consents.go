package storagetest

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func consentTests() []test {
	return []test{
		{"ok/consents/save-get", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c1")))
			got, err := s.GetConsent(t.Context(), "u1", "c1")
			must(t, err)
			equal(t, got, newConsent("u1", "c1"))
		}},
		{"ok/consents/save-replaces", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			createClient(t, s, "c2")
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c1")))
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c2")))
			again := &storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid", "profile", "offline_access"}, GrantedAt: base.Add(time.Hour)}
			must(t, s.SaveConsent(t.Context(), again))
			got, err := s.GetConsent(t.Context(), "u1", "c1")
			must(t, err)
			equal(t, got, again)
			got, err = s.GetConsent(t.Context(), "u1", "c2")
			must(t, err)
			equal(t, got, newConsent("u1", "c2"))
		}},
		{"fail/consents/save-unknown-user-or-client", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			wantErr(t, s.SaveConsent(t.Context(), newConsent("ghost", "c1")), storage.ErrNotFound)
			wantErr(t, s.SaveConsent(t.Context(), newConsent("u1", "ghost")), storage.ErrNotFound)
		}},
		{"fail/consents/get-missing", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c1")))
			_, err := s.GetConsent(t.Context(), "u1", "c2")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetConsent(t.Context(), "u2", "c1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/consents/delete", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c1")))
			must(t, s.DeleteConsent(t.Context(), "u1", "c1"))
			_, err := s.GetConsent(t.Context(), "u1", "c1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/consents/delete-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.DeleteConsent(t.Context(), "u1", "c1"), storage.ErrNotFound)
		}},
		{"ok/consents/copies", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			in := newConsent("u1", "c1")
			must(t, s.SaveConsent(t.Context(), in))
			in.Scopes[0] = "admin"
			got, err := s.GetConsent(t.Context(), "u1", "c1")
			must(t, err)
			got.Scopes[1] = "admin"
			got, err = s.GetConsent(t.Context(), "u1", "c1")
			must(t, err)
			equal(t, got, newConsent("u1", "c1"))
		}},
	}
}
