package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func newAuthorizationType(typ string) *storage.AuthorizationType {
	return &storage.AuthorizationType{
		Type:      typ,
		Schema:    []byte(`{"type": "object", "required": ["type"]}`),
		CreatedAt: base,
		UpdatedAt: base.Add(time.Minute),
	}
}

// authorizationTypeTests: registered authorization details types (RFC 9396)
// and the authorization details a consent remembers.
func authorizationTypeTests() []test {
	return []test{
		{"ok/authorization-types/create-get-list-delete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateAuthorizationType(ctx, newAuthorizationType("b_type")))
			must(t, s.CreateAuthorizationType(ctx, newAuthorizationType("a_type")))
			got, err := s.GetAuthorizationType(ctx, "b_type")
			must(t, err)
			equal(t, got, newAuthorizationType("b_type"))
			list, err := s.ListAuthorizationTypes(ctx)
			must(t, err)
			equal(t, list, []storage.AuthorizationType{*newAuthorizationType("a_type"), *newAuthorizationType("b_type")})
			must(t, s.DeleteAuthorizationType(ctx, "a_type"))
			_, err = s.GetAuthorizationType(ctx, "a_type")
			wantErr(t, err, storage.ErrNotFound)
			list, err = s.ListAuthorizationTypes(ctx)
			must(t, err)
			equal(t, list, []storage.AuthorizationType{*newAuthorizationType("b_type")})
		}},
		{"ok/authorization-types/schema-kept-byte-for-byte", func(t *testing.T, s storage.Store) {
			at := newAuthorizationType("spaced")
			at.Schema = []byte("{\n  \"type\":   \"object\",\n  \"b\": 1, \"a\": 2\n}")
			must(t, s.CreateAuthorizationType(t.Context(), at))
			got, err := s.GetAuthorizationType(t.Context(), "spaced")
			must(t, err)
			equal(t, string(got.Schema), string(at.Schema))
		}},
		{"ok/authorization-types/list-empty", func(t *testing.T, s storage.Store) {
			list, err := s.ListAuthorizationTypes(t.Context())
			must(t, err)
			if len(list) != 0 {
				t.Fatalf("list = %v, want none", list)
			}
		}},
		{"fail/authorization-types/duplicate", func(t *testing.T, s storage.Store) {
			must(t, s.CreateAuthorizationType(t.Context(), newAuthorizationType("dup")))
			other := newAuthorizationType("dup")
			other.Schema = []byte(`{}`)
			wantErr(t, s.CreateAuthorizationType(t.Context(), other), storage.ErrAlreadyExists)
			got, err := s.GetAuthorizationType(t.Context(), "dup")
			must(t, err)
			equal(t, got, newAuthorizationType("dup")) // the first is untouched
		}},
		{"fail/authorization-types/missing", func(t *testing.T, s storage.Store) {
			_, err := s.GetAuthorizationType(t.Context(), "ghost")
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, s.DeleteAuthorizationType(t.Context(), "ghost"), storage.ErrNotFound)
		}},
		{"ok/authorization-types/rolled-back", func(t *testing.T, s storage.Store) {
			err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
				must(t, s.CreateAuthorizationType(ctx, newAuthorizationType("gone")))
				return errBoom
			})
			wantErr(t, err, errBoom)
			_, err = s.GetAuthorizationType(t.Context(), "gone")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/consents/authorization-details-kept", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			details := []byte(`[{"instructedAmount":{"amount":"250.00","currency":"EUR"},"type":"payment_initiation"}]`)
			c := &storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, AuthorizationDetails: details, GrantedAt: base}
			must(t, s.SaveConsent(ctx, c))
			got, err := s.GetConsent(ctx, "u1", "c1")
			must(t, err)
			equal(t, got, c)
			list, err := s.ListConsents(ctx, "u1")
			must(t, err)
			equal(t, list, []storage.Consent{*c})
			// replaced by a consent without details: none remembered
			plain := &storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, GrantedAt: base.Add(time.Hour)}
			must(t, s.SaveConsent(ctx, plain))
			got, err = s.GetConsent(ctx, "u1", "c1")
			must(t, err)
			equal(t, got, plain)
		}},
	}
}
