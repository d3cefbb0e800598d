package storagetest

import (
	"context"
	"testing"

	"github.com/strongroom/strongroom/storage"
)

func txTests() []test {
	return []test{
		{"ok/tx/commit-keeps", func(t *testing.T, s storage.Store) {
			ctx, err := s.BeginTx(t.Context())
			must(t, err)
			must(t, s.CreateClient(ctx, newClient("c1")))
			must(t, s.CreateRequest(ctx, newRequest(storage.KindAuthorizeCode, "code", "grant-1", "c1")))
			_, err = s.GetRequest(ctx, storage.KindAuthorizeCode, "code") // visible inside
			must(t, err)
			must(t, s.CommitTx(ctx))
			got, err := s.GetClient(t.Context(), "c1")
			must(t, err)
			equal(t, got, newClient("c1"))
			_, err = s.GetRequest(t.Context(), storage.KindAuthorizeCode, "code")
			must(t, err)
		}},
		{"ok/tx/rollback-undoes-create", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			ctx, err := s.BeginTx(t.Context())
			must(t, err)
			must(t, s.CreateClient(ctx, newClient("c1")))
			must(t, s.CreateRequest(ctx, newRequest(storage.KindAccessToken, "at", "grant-1", "c1")))
			must(t, s.CreateUser(ctx, newUser("u2", "bob")))
			must(t, s.CreateKey(ctx, newKey("k1", storage.KeyStateNext, base)))
			must(t, s.UseJTI(ctx, "jti-1", future))
			must(t, s.CreateAuthFlow(ctx, newFlow("f1", "c1")))
			must(t, s.CreateBrowserSession(ctx, newSession("s1", "u1")))
			must(t, s.SaveConsent(ctx, newConsent("u1", "c1")))
			must(t, s.RollbackTx(ctx))

			bg := t.Context()
			_, err = s.GetClient(bg, "c1")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetRequest(bg, storage.KindAccessToken, "at")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetUserByUsername(bg, "bob")
			wantErr(t, err, storage.ErrNotFound)
			keys, err := s.ListKeys(bg)
			must(t, err)
			if len(keys) != 0 {
				t.Fatalf("%d keys after rollback", len(keys))
			}
			must(t, s.UseJTI(bg, "jti-1", future))
			_, err = s.GetAuthFlow(bg, "f1")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetBrowserSession(bg, "s1")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetConsent(bg, "u1", "c1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/tx/rollback-undoes-deactivate", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			want := newRequest(storage.KindRefreshToken, "rt", "grant-1", "c1")
			createRequest(t, s, want)
			ctx, err := s.BeginTx(t.Context())
			must(t, err)
			must(t, s.DeactivateRequest(ctx, storage.KindRefreshToken, "rt"))
			_, err = s.GetRequest(ctx, storage.KindRefreshToken, "rt")
			wantErr(t, err, storage.ErrInactive)
			must(t, s.RollbackTx(ctx))
			got, err := s.GetRequest(t.Context(), storage.KindRefreshToken, "rt")
			must(t, err)
			equal(t, got, want)
		}},
		{"ok/tx/rollback-undoes-changes", func(t *testing.T, s storage.Store) {
			bg := t.Context()
			wantClient := createClient(t, s, "c1")
			createUser(t, s, "u1", "alice")
			wantReq := newRequest(storage.KindRefreshToken, "rt", "grant-1", "c1")
			createRequest(t, s, wantReq)
			must(t, s.CreateAuthFlow(bg, newFlow("f1", "c1")))
			must(t, s.CreateBrowserSession(bg, newSession("s1", "u1")))
			must(t, s.SaveConsent(bg, newConsent("u1", "c1")))
			wantKey := newKey("k1", storage.KeyStateActive, base)
			must(t, s.CreateKey(bg, wantKey))

			ctx, err := s.BeginTx(bg)
			must(t, err)
			must(t, s.UpdateClient(ctx, "c1", func(c *storage.Client) error { c.Name = "changed"; c.Secrets = nil; return nil }))
			must(t, s.UpdateKeys(ctx, func([]storage.SigningKey) ([]storage.SigningKey, error) {
				return []storage.SigningKey{*newKey("k2", storage.KeyStateNext, base)}, nil
			}))
			must(t, s.RevokeRequestID(ctx, storage.KindRefreshToken, "grant-1"))
			must(t, s.TouchBrowserSession(ctx, "s1", future))
			must(t, s.UpdateAuthFlow(ctx, &storage.AuthFlow{ID: "f1", Subject: "u1"}))
			_, err = s.ConsumeAuthFlow(ctx, "f1")
			must(t, err)
			must(t, s.DeleteConsent(ctx, "u1", "c1"))
			must(t, s.DeleteUser(ctx, "u1"))   // cascades to the session
			must(t, s.DeleteClient(ctx, "c1")) // cascades to the request
			must(t, s.RollbackTx(ctx))

			gotClient, err := s.GetClient(bg, "c1")
			must(t, err)
			equal(t, gotClient, wantClient)
			gotReq, err := s.GetRequest(bg, storage.KindRefreshToken, "rt")
			must(t, err)
			equal(t, gotReq, wantReq)
			gotFlow, err := s.GetAuthFlow(bg, "f1")
			must(t, err)
			equal(t, gotFlow, newFlow("f1", "c1"))
			gotSession, err := s.GetBrowserSession(bg, "s1")
			must(t, err)
			equal(t, gotSession, newSession("s1", "u1"))
			gotConsent, err := s.GetConsent(bg, "u1", "c1")
			must(t, err)
			equal(t, gotConsent, newConsent("u1", "c1"))
			_, err = s.GetUserByUsername(bg, "alice")
			must(t, err)
			keys, err := s.ListKeys(bg)
			must(t, err)
			equal(t, keys, []storage.SigningKey{*wantKey})
		}},
		{"ok/tx/failed-calls-leave-tx-usable", func(t *testing.T, s storage.Store) {
			// Expected failures inside a transaction (a taken key, a missing
			// row, an inactive row, an update function's error) neither end
			// the transaction nor leave half a change behind.
			bg := t.Context()
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindAuthorizeCode, "code", "grant-1", "c1"))
			ctx, err := s.BeginTx(bg)
			must(t, err)
			wantErr(t, s.CreateClient(ctx, newClient("c1")), storage.ErrAlreadyExists)
			wantErr(t, s.CreateRequest(ctx, newRequest(storage.KindAuthorizeCode, "code", "grant-2", "c1")), storage.ErrAlreadyExists)
			_, err = s.GetClient(ctx, "nope")
			wantErr(t, err, storage.ErrNotFound)
			wantErr(t, s.DeleteRequest(ctx, storage.KindAccessToken, "nope"), storage.ErrNotFound)
			must(t, s.DeactivateRequest(ctx, storage.KindAuthorizeCode, "code"))
			err = s.DeactivateRequest(ctx, storage.KindAuthorizeCode, "code")
			exactlyOneWins(t, []error{nil, err}, storage.ErrInactive, storage.ErrConflict)
			wantErr(t, s.UpdateClient(ctx, "c1", func(c *storage.Client) error {
				c.Name = "half"
				return errBoom
			}), errBoom)
			must(t, s.UseJTI(ctx, "jti", future))
			wantErr(t, s.UseJTI(ctx, "jti", future), storage.ErrAlreadyExists)
			must(t, s.CreateClient(ctx, newClient("c2")))
			must(t, s.CommitTx(ctx))

			got, err := s.GetClient(bg, "c1")
			must(t, err)
			equal(t, got, newClient("c1"))
			_, err = s.GetClient(bg, "c2")
			must(t, err)
			_, err = s.GetRequest(bg, storage.KindAuthorizeCode, "code")
			wantErr(t, err, storage.ErrInactive)
		}},
		{"ok/tx/in-tx-commits", func(t *testing.T, s storage.Store) {
			must(t, storage.InTx(t.Context(), s, func(ctx context.Context) error {
				if err := s.CreateClient(ctx, newClient("c1")); err != nil {
					return err
				}
				return s.CreateRequest(ctx, newRequest(storage.KindAccessToken, "at", "grant-1", "c1"))
			}))
			_, err := s.GetRequest(t.Context(), storage.KindAccessToken, "at")
			must(t, err)
		}},
		{"ok/tx/in-tx-error-rolls-back", func(t *testing.T, s storage.Store) {
			err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
				if err := s.CreateClient(ctx, newClient("c1")); err != nil {
					return err
				}
				return errBoom
			})
			wantErr(t, err, errBoom)
			_, err = s.GetClient(t.Context(), "c1")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/tx/nested", func(t *testing.T, s storage.Store) {
			bg := t.Context()
			outer, err := s.BeginTx(bg)
			must(t, err)
			must(t, s.CreateClient(outer, newClient("a")))

			inner, err := s.BeginTx(outer)
			must(t, err)
			must(t, s.CreateClient(inner, newClient("b")))
			must(t, s.RollbackTx(inner))

			must(t, s.CreateClient(outer, newClient("c")))

			inner2, err := s.BeginTx(outer)
			must(t, err)
			must(t, s.CreateClient(inner2, newClient("d")))
			must(t, s.CommitTx(inner2))

			wantErr(t, storage.InTx(outer, s, func(ctx context.Context) error {
				if err := s.CreateClient(ctx, newClient("e")); err != nil {
					return err
				}
				return errBoom
			}), errBoom)
			must(t, s.CommitTx(outer))

			list, err := s.ListClients(bg)
			must(t, err)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			equal(t, ids, []string{"a", "c", "d"})
		}},
		{"fail/tx/without-transaction", func(t *testing.T, s storage.Store) {
			if err := s.CommitTx(t.Context()); err == nil {
				t.Fatal("CommitTx without a transaction succeeded")
			}
			if err := s.RollbackTx(t.Context()); err == nil {
				t.Fatal("RollbackTx without a transaction succeeded")
			}
		}},
		{"fail/tx/finished", func(t *testing.T, s storage.Store) {
			ctx, err := s.BeginTx(t.Context())
			must(t, err)
			must(t, s.CreateClient(ctx, newClient("c1")))
			must(t, s.CommitTx(ctx))
			if err := s.CommitTx(ctx); err == nil {
				t.Fatal("second CommitTx succeeded")
			}
			if err := s.RollbackTx(ctx); err == nil {
				t.Fatal("RollbackTx after CommitTx succeeded")
			}
			if err := s.CreateClient(ctx, newClient("c2")); err == nil {
				t.Fatal("write with a committed transaction's context succeeded")
			}
			_, err = s.GetClient(t.Context(), "c2")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetClient(t.Context(), "c1")
			must(t, err)
		}},
		{"ok/tx/concurrent-transactions", func(t *testing.T, s storage.Store) {
			errs := Race(4, func(i int) error {
				return storage.InTx(t.Context(), s, func(ctx context.Context) error {
					return s.CreateClient(ctx, newClient(string(rune('a'+i)))) // #nosec G115 -- i counts a few goroutines (test)
				})
			})
			for _, err := range errs {
				must(t, err)
			}
			list, err := s.ListClients(t.Context())
			must(t, err)
			if len(list) != 4 {
				t.Fatalf("%d clients after 4 concurrent transactions", len(list))
			}
		}},
	}
}
