package storagetest

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func clientTests() []test {
	return []test{
		{"ok/clients/create-get", func(t *testing.T, s storage.Store) {
			want := createClient(t, s, "client-a")
			got, err := s.GetClient(t.Context(), "client-a")
			must(t, err)
			equal(t, got, want)
		}},
		{"ok/clients/minimal", func(t *testing.T, s storage.Store) {
			c := &storage.Client{ID: "bare", Public: true, TokenEndpointAuthMethod: storage.AuthMethodNone, CreatedAt: base, UpdatedAt: base}
			must(t, s.CreateClient(t.Context(), c))
			got, err := s.GetClient(t.Context(), "bare")
			must(t, err)
			equal(t, got, &storage.Client{ID: "bare", Public: true, TokenEndpointAuthMethod: storage.AuthMethodNone, CreatedAt: base, UpdatedAt: base})
		}},
		{"ok/clients/empty-slices-come-back-nil", func(t *testing.T, s storage.Store) {
			c := &storage.Client{ID: "empty", Secrets: []storage.ClientSecret{}, RedirectURIs: []string{}, Scopes: []string{}, JWKS: []byte{}, Metadata: storage.ClientMetadata{Contacts: []string{}}, CreatedAt: base, UpdatedAt: base}
			must(t, s.CreateClient(t.Context(), c))
			got, err := s.GetClient(t.Context(), "empty")
			must(t, err)
			equal(t, got, &storage.Client{ID: "empty", CreatedAt: base, UpdatedAt: base})
		}},
		{"ok/clients/list-ordered-by-id", func(t *testing.T, s storage.Store) {
			got, err := s.ListClients(t.Context())
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("empty store lists %d clients", len(got))
			}
			// Byte order, whatever the database collation: "B" < "a" < "b".
			b := newClient("b")
			b.Secrets = nil
			must(t, s.CreateClient(t.Context(), b))
			a := createClient(t, s, "a")
			upperB := newClient("B")
			upperB.Secrets = upperB.Secrets[:1]
			must(t, s.CreateClient(t.Context(), upperB))
			got, err = s.ListClients(t.Context())
			must(t, err)
			b, upperB = newClient("b"), newClient("B")
			b.Secrets = nil
			upperB.Secrets = upperB.Secrets[:1]
			equal(t, got, []storage.Client{*upperB, *a, *b})
		}},
		{"fail/clients/create-duplicate", func(t *testing.T, s storage.Store) {
			want := createClient(t, s, "dup")
			other := newClient("dup")
			other.Name = "impostor"
			wantErr(t, s.CreateClient(t.Context(), other), storage.ErrAlreadyExists)
			got, err := s.GetClient(t.Context(), "dup")
			must(t, err)
			equal(t, got, want)
		}},
		{"ok/clients/secret-ids-round-trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := newClient("sid")
			c.Secrets[0].ID, c.Secrets[1].ID = "a1b2c3d4e5f6", "0f1e2d3c4b5a"
			must(t, s.CreateClient(ctx, c))
			got, err := s.GetClient(ctx, "sid")
			must(t, err)
			equal(t, got.Secrets, c.Secrets)
			later := base.Add(time.Hour)
			must(t, s.UpdateClient(ctx, "sid", func(c *storage.Client) error {
				c.Secrets = append(c.Secrets[1:], storage.ClientSecret{ID: "777777777777", Hash: []byte("hash-3"), CreatedAt: later})
				return nil
			}))
			list, err := s.ListClients(ctx)
			must(t, err)
			equal(t, list[0].Secrets, []storage.ClientSecret{c.Secrets[1], {ID: "777777777777", Hash: []byte("hash-3"), CreatedAt: later}})
		}},
		{"ok/clients/fapi2-and-mtls-fields-round-trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := newClient("fapi")
			c.Secrets = nil
			c.JWKSURI = ""
			c.TokenEndpointAuthMethod = storage.AuthMethodTLSClientAuth
			c.Metadata.Profile = storage.ProfileFAPI2
			c.Metadata.DPoPBoundAccessTokens = true
			c.Metadata.TLSClientCertificateBoundAccessTokens = true
			c.Metadata.TokenEndpointAuthSigningAlg = "PS256"
			c.Metadata.TLSClientAuthSubjectDN = "CN=partner,O=Bank \\, Ltd,C=GB"
			must(t, s.CreateClient(ctx, c))
			got, err := s.GetClient(ctx, "fapi")
			must(t, err)
			equal(t, got, c)
			list, err := s.ListClients(ctx)
			must(t, err)
			equal(t, list, []storage.Client{*c})

			// Each identity value persists on its own; turning the bindings off clears them.
			for _, id := range []storage.ClientMetadata{
				{TLSClientAuthSANDNS: "partner.example"}, {TLSClientAuthSANURI: "spiffe://bank/partner"},
				{TLSClientAuthSANIP: "2001:db8::1"}, {TLSClientAuthSANEmail: "ops@partner.example"},
			} {
				must(t, s.UpdateClient(ctx, "fapi", func(c *storage.Client) error {
					c.TokenEndpointAuthMethod = storage.AuthMethodSelfSignedTLSClientAuth
					c.Metadata = id
					return nil
				}))
				want := *c
				want.TokenEndpointAuthMethod = storage.AuthMethodSelfSignedTLSClientAuth
				want.Metadata = id
				got, err := s.GetClient(ctx, "fapi")
				must(t, err)
				equal(t, got, &want)
			}
			must(t, s.UpdateClient(ctx, "fapi", func(c *storage.Client) error {
				c.TokenEndpointAuthMethod = storage.AuthMethodSecretJWT
				c.Metadata = storage.ClientMetadata{TokenEndpointAuthSigningAlg: "HS256"}
				return nil
			}))
			got, err = s.GetClient(ctx, "fapi")
			must(t, err)
			want := *c
			want.TokenEndpointAuthMethod = storage.AuthMethodSecretJWT
			want.Metadata = storage.ClientMetadata{TokenEndpointAuthSigningAlg: "HS256"}
			equal(t, got, &want)
		}},
		{"fail/clients/get-missing", func(t *testing.T, s storage.Store) {
			_, err := s.GetClient(t.Context(), "nope")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/clients/update", func(t *testing.T, s storage.Store) {
			createClient(t, s, "upd")
			later := base.Add(time.Hour)
			must(t, s.UpdateClient(t.Context(), "upd", func(c *storage.Client) error {
				c.Name = "renamed"
				c.Secrets = append(c.Secrets[1:], storage.ClientSecret{Hash: []byte("hash-3"), CreatedAt: later})
				c.RedirectURIs = []string{"https://new.example/cb"}
				c.Disabled = true
				c.RequirePAR = false
				c.UpdatedAt = later
				return nil
			}))
			want := newClient("upd")
			want.Name = "renamed"
			want.Secrets = append(want.Secrets[1:], storage.ClientSecret{Hash: []byte("hash-3"), CreatedAt: later})
			want.RedirectURIs = []string{"https://new.example/cb"}
			want.Disabled = true
			want.RequirePAR = false
			want.UpdatedAt = later
			got, err := s.GetClient(t.Context(), "upd")
			must(t, err)
			equal(t, got, want)
		}},
		{"ok/clients/update-clears", func(t *testing.T, s storage.Store) {
			createClient(t, s, "clr")
			must(t, s.UpdateClient(t.Context(), "clr", func(c *storage.Client) error {
				*c = storage.Client{ID: c.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
				return nil
			}))
			got, err := s.GetClient(t.Context(), "clr")
			must(t, err)
			equal(t, got, &storage.Client{ID: "clr", CreatedAt: base.Add(-time.Hour), UpdatedAt: base})
		}},
		{"ok/clients/update-sees-current", func(t *testing.T, s storage.Store) {
			want := createClient(t, s, "cur")
			must(t, s.UpdateClient(t.Context(), "cur", func(c *storage.Client) error {
				equal(t, c, want)
				return nil
			}))
		}},
		{"fail/clients/update-missing", func(t *testing.T, s storage.Store) {
			called := false
			err := s.UpdateClient(t.Context(), "nope", func(*storage.Client) error { called = true; return nil })
			wantErr(t, err, storage.ErrNotFound)
			if called {
				t.Fatal("fn called for a missing client")
			}
		}},
		{"fail/clients/update-fn-error-leaves-row", func(t *testing.T, s storage.Store) {
			want := createClient(t, s, "keep")
			err := s.UpdateClient(t.Context(), "keep", func(c *storage.Client) error {
				c.Name = "changed"
				c.Secrets = nil
				return errBoom
			})
			wantErr(t, err, errBoom)
			got, err := s.GetClient(t.Context(), "keep")
			must(t, err)
			equal(t, got, want)
		}},
		{"fail/clients/update-changes-id", func(t *testing.T, s storage.Store) {
			want := createClient(t, s, "fixed")
			err := s.UpdateClient(t.Context(), "fixed", func(c *storage.Client) error {
				c.ID = "other"
				c.Name = "changed"
				return nil
			})
			if err == nil {
				t.Fatal("UpdateClient accepted a changed id")
			}
			got, err := s.GetClient(t.Context(), "fixed")
			must(t, err)
			equal(t, got, want)
			_, err = s.GetClient(t.Context(), "other")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/clients/copies", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			in := newClient("cp")
			must(t, s.CreateClient(ctx, in))
			in.RedirectURIs[0] = "https://evil.example"
			in.Secrets[0].Hash[0] = 'X'
			in.JWKS[0] = 'X'
			*in.Secrets[1].ExpiresAt = future

			got, err := s.GetClient(ctx, "cp")
			must(t, err)
			got.Scopes[0] = "admin"
			got.Secrets[1].Hash[0] = 'X'
			*got.Secrets[1].ExpiresAt = future

			list, err := s.ListClients(ctx)
			must(t, err)
			list[0].Audience[0] = "https://evil.example"
			list[0].Secrets[0].Hash[0] = 'X'

			var leaked *storage.Client
			must(t, s.UpdateClient(ctx, "cp", func(c *storage.Client) error { leaked = c; return nil }))
			leaked.GrantTypes[0] = "password"
			leaked.Secrets[0].Hash[0] = 'X'

			got, err = s.GetClient(ctx, "cp")
			must(t, err)
			equal(t, got, newClient("cp"))
		}},
		{"ok/clients/delete", func(t *testing.T, s storage.Store) {
			createClient(t, s, "gone")
			must(t, s.DeleteClient(t.Context(), "gone"))
			_, err := s.GetClient(t.Context(), "gone")
			wantErr(t, err, storage.ErrNotFound)
			list, err := s.ListClients(t.Context())
			must(t, err)
			if len(list) != 0 {
				t.Fatalf("%d clients listed after delete", len(list))
			}
			// The id is free again.
			createClient(t, s, "gone")
		}},
		{"fail/clients/delete-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.DeleteClient(t.Context(), "nope"), storage.ErrNotFound)
		}},
		{"ok/clients/delete-cascades", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUser(t, s, "u1", "alice")
			for _, id := range []string{"doomed", "kept"} {
				createClient(t, s, id)
				createRequest(t, s, newRequest(storage.KindAccessToken, "at-"+id, "grant-"+id, id))
				createRequest(t, s, newRequest(storage.KindRefreshToken, "rt-"+id, "grant-"+id, id))
				must(t, s.CreateAuthFlow(ctx, newFlow("flow-"+id, id)))
				must(t, s.SaveConsent(ctx, newConsent("u1", id)))
			}
			must(t, s.DeleteClient(ctx, "doomed"))

			_, err := s.GetRequest(ctx, storage.KindAccessToken, "at-doomed")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetRequest(ctx, storage.KindRefreshToken, "rt-doomed")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetAuthFlow(ctx, "flow-doomed")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetConsent(ctx, "u1", "doomed")
			wantErr(t, err, storage.ErrNotFound)

			_, err = s.GetRequest(ctx, storage.KindAccessToken, "at-kept")
			must(t, err)
			_, err = s.GetRequest(ctx, storage.KindRefreshToken, "rt-kept")
			must(t, err)
			_, err = s.GetAuthFlow(ctx, "flow-kept")
			must(t, err)
			_, err = s.GetConsent(ctx, "u1", "kept")
			must(t, err)
			_, err = s.GetUser(ctx, "u1")
			must(t, err)
		}},
	}
}
