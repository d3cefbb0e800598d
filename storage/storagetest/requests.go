package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func requestTests() []test {
	return []test{
		{"ok/requests/create-get", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			for _, kind := range []storage.RequestKind{
				storage.KindAuthorizeCode, storage.KindAccessToken, storage.KindRefreshToken,
				storage.KindOIDC, storage.KindPKCE, storage.KindPAR,
			} {
				want := newRequest(kind, "sig-"+string(kind), "grant-1", "c1")
				createRequest(t, s, want)
				got, err := s.GetRequest(t.Context(), kind, want.Signature)
				must(t, err)
				equal(t, got, want)
			}
		}},
		{"ok/requests/minimal", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			in := &storage.Request{Kind: storage.KindPKCE, Signature: "s", ClientID: "c1", Active: true, ExpiresAt: future, Data: []byte{}}
			createRequest(t, s, in)
			got, err := s.GetRequest(t.Context(), storage.KindPKCE, "s")
			must(t, err)
			equal(t, got, &storage.Request{Kind: storage.KindPKCE, Signature: "s", ClientID: "c1", Active: true, ExpiresAt: future})
		}},
		{"ok/requests/same-signature-other-kind", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			at := newRequest(storage.KindAccessToken, "sig", "grant-1", "c1")
			rt := newRequest(storage.KindRefreshToken, "sig", "grant-1", "c1")
			rt.Data = []byte("refresh")
			createRequest(t, s, at)
			createRequest(t, s, rt)
			got, err := s.GetRequest(t.Context(), storage.KindRefreshToken, "sig")
			must(t, err)
			equal(t, got, rt)
			got, err = s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			must(t, err)
			equal(t, got, at)
		}},
		{"fail/requests/create-duplicate", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			want := newRequest(storage.KindAuthorizeCode, "sig", "grant-1", "c1")
			createRequest(t, s, want)
			other := newRequest(storage.KindAuthorizeCode, "sig", "grant-2", "c1")
			other.Data = []byte("other")
			wantErr(t, s.CreateRequest(t.Context(), other), storage.ErrAlreadyExists)
			got, err := s.GetRequest(t.Context(), storage.KindAuthorizeCode, "sig")
			must(t, err)
			equal(t, got, want)
		}},
		{"fail/requests/create-unknown-client", func(t *testing.T, s storage.Store) {
			err := s.CreateRequest(t.Context(), newRequest(storage.KindAccessToken, "sig", "grant-1", "ghost"))
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/requests/get-missing", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindAccessToken, "sig", "grant-1", "c1"))
			_, err := s.GetRequest(t.Context(), storage.KindAccessToken, "other")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetRequest(t.Context(), storage.KindRefreshToken, "sig")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/requests/get-expired", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			r := newRequest(storage.KindAccessToken, "sig", "grant-1", "c1")
			r.ExpiresAt = past
			createRequest(t, s, r)
			got, err := s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			wantErr(t, err, storage.ErrNotFound)
			if got != nil {
				t.Fatal("expired row returned")
			}
		}},
		{"ok/requests/get-inactive-returns-row", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			want := newRequest(storage.KindAuthorizeCode, "sig", "grant-1", "c1")
			want.Active = false
			createRequest(t, s, want)
			got, err := s.GetRequest(t.Context(), storage.KindAuthorizeCode, "sig")
			wantErr(t, err, storage.ErrInactive)
			equal(t, got, want)
		}},
		{"ok/requests/deactivation-records-when", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindRefreshToken, "rotated", "grant-1", "c1"))
			createRequest(t, s, newRequest(storage.KindAccessToken, "revoked", "grant-1", "c1"))
			live, err := s.GetRequest(t.Context(), storage.KindRefreshToken, "rotated")
			must(t, err)
			if !live.DeactivatedAt.IsZero() {
				t.Fatalf("active row has DeactivatedAt %v", live.DeactivatedAt)
			}
			must(t, s.DeactivateRequest(t.Context(), storage.KindRefreshToken, "rotated"))
			must(t, s.RevokeRequestID(t.Context(), storage.KindAccessToken, "grant-1"))
			for kind, sig := range map[storage.RequestKind]string{storage.KindRefreshToken: "rotated", storage.KindAccessToken: "revoked"} {
				got, err := s.GetRequest(t.Context(), kind, sig)
				wantErr(t, err, storage.ErrInactive)
				if d := time.Since(got.DeactivatedAt); got.DeactivatedAt.IsZero() || d < -time.Minute || d > time.Minute {
					t.Fatalf("%s: DeactivatedAt %v, want about now", kind, got.DeactivatedAt)
				}
			}
		}},
		{"ok/requests/delete", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindAccessToken, "sig", "grant-1", "c1"))
			createRequest(t, s, newRequest(storage.KindRefreshToken, "sig", "grant-1", "c1"))
			must(t, s.DeleteRequest(t.Context(), storage.KindAccessToken, "sig"))
			_, err := s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			wantErr(t, err, storage.ErrNotFound)
			_, err = s.GetRequest(t.Context(), storage.KindRefreshToken, "sig")
			must(t, err)
			wantErr(t, s.DeleteRequest(t.Context(), storage.KindAccessToken, "sig"), storage.ErrNotFound)
		}},
		{"ok/requests/delete-inactive", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			r := newRequest(storage.KindAuthorizeCode, "sig", "grant-1", "c1")
			r.Active = false
			createRequest(t, s, r)
			must(t, s.DeleteRequest(t.Context(), storage.KindAuthorizeCode, "sig"))
			_, err := s.GetRequest(t.Context(), storage.KindAuthorizeCode, "sig")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/requests/delete-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.DeleteRequest(t.Context(), storage.KindAccessToken, "nope"), storage.ErrNotFound)
		}},
		{"fail/requests/delete-expired", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			r := newRequest(storage.KindAccessToken, "sig", "grant-1", "c1")
			r.ExpiresAt = past
			createRequest(t, s, r)
			wantErr(t, s.DeleteRequest(t.Context(), storage.KindAccessToken, "sig"), storage.ErrNotFound)
		}},
		{"ok/requests/deactivate", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			want := newRequest(storage.KindAuthorizeCode, "sig", "grant-1", "c1")
			createRequest(t, s, want)
			must(t, s.DeactivateRequest(t.Context(), storage.KindAuthorizeCode, "sig"))
			got, err := s.GetRequest(t.Context(), storage.KindAuthorizeCode, "sig")
			wantErr(t, err, storage.ErrInactive)
			want.Active = false
			want.DeactivatedAt = got.DeactivatedAt // checked in deactivation-records-when
			equal(t, got, want)
		}},
		{"fail/requests/deactivate-twice", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindRefreshToken, "sig", "grant-1", "c1"))
			must(t, s.DeactivateRequest(t.Context(), storage.KindRefreshToken, "sig"))
			err := s.DeactivateRequest(t.Context(), storage.KindRefreshToken, "sig")
			exactlyOneWins(t, []error{nil, err}, storage.ErrInactive, storage.ErrConflict)
		}},
		{"fail/requests/deactivate-missing", func(t *testing.T, s storage.Store) {
			wantErr(t, s.DeactivateRequest(t.Context(), storage.KindRefreshToken, "nope"), storage.ErrNotFound)
		}},
		{"fail/requests/deactivate-expired", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			r := newRequest(storage.KindRefreshToken, "sig", "grant-1", "c1")
			r.ExpiresAt = past
			createRequest(t, s, r)
			wantErr(t, s.DeactivateRequest(t.Context(), storage.KindRefreshToken, "sig"), storage.ErrNotFound)
		}},
		{"ok/requests/deactivate-concurrent-in-tx", func(t *testing.T, s storage.Store) {
			// Refresh token rotation: each caller deactivates the old token in
			// its own transaction and would then issue new tokens. Exactly one
			// may win.
			createClient(t, s, "c1")
			for round := range 5 {
				sig := fmt.Sprintf("rt-%d", round)
				createRequest(t, s, newRequest(storage.KindRefreshToken, sig, "grant-1", "c1"))
				errs := Race(4, func(i int) error {
					return storage.InTx(t.Context(), s, func(ctx context.Context) error {
						if err := s.DeactivateRequest(ctx, storage.KindRefreshToken, sig); err != nil {
							return err
						}
						return s.CreateRequest(ctx, newRequest(storage.KindRefreshToken, fmt.Sprintf("%s-next-%d", sig, i), "grant-1", "c1"))
					})
				})
				exactlyOneWins(t, errs, storage.ErrInactive, storage.ErrConflict)
				_, err := s.GetRequest(t.Context(), storage.KindRefreshToken, sig)
				wantErr(t, err, storage.ErrInactive)
				// Only the winner's successor exists.
				found := 0
				for i := range 4 {
					_, err := s.GetRequest(t.Context(), storage.KindRefreshToken, fmt.Sprintf("%s-next-%d", sig, i))
					if err == nil {
						found++
					}
				}
				if found != 1 {
					t.Fatalf("round %d: %d successor tokens, want 1", round, found)
				}
			}
		}},
		{"ok/requests/deactivate-concurrent", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			for round := range 5 {
				sig := fmt.Sprintf("code-%d", round)
				createRequest(t, s, newRequest(storage.KindAuthorizeCode, sig, "grant-1", "c1"))
				errs := Race(6, func(int) error {
					return s.DeactivateRequest(t.Context(), storage.KindAuthorizeCode, sig)
				})
				exactlyOneWins(t, errs, storage.ErrInactive, storage.ErrConflict)
			}
		}},
		{"ok/requests/revoke-request-id", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindRefreshToken, "rt-a1", "grant-a", "c1"))
			createRequest(t, s, newRequest(storage.KindRefreshToken, "rt-a2", "grant-a", "c1"))
			createRequest(t, s, newRequest(storage.KindAccessToken, "at-a", "grant-a", "c1"))
			createRequest(t, s, newRequest(storage.KindRefreshToken, "rt-b", "grant-b", "c1"))
			must(t, s.RevokeRequestID(ctx, storage.KindRefreshToken, "grant-a"))

			for _, sig := range []string{"rt-a1", "rt-a2"} {
				_, err := s.GetRequest(ctx, storage.KindRefreshToken, sig)
				wantErr(t, err, storage.ErrInactive)
			}
			_, err := s.GetRequest(ctx, storage.KindAccessToken, "at-a")
			must(t, err)
			_, err = s.GetRequest(ctx, storage.KindRefreshToken, "rt-b")
			must(t, err)

			// Again, and for a grant without rows: both succeed.
			must(t, s.RevokeRequestID(ctx, storage.KindRefreshToken, "grant-a"))
			must(t, s.RevokeRequestID(ctx, storage.KindRefreshToken, "grant-none"))
		}},
		{"ok/requests/delete-expired-requests", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createClient(t, s, "c1")
			for sig, exp := range map[string]time.Time{
				"old":    past,
				"older":  past.Add(-24 * time.Hour),
				"recent": base.Add(-time.Hour),
				"live":   future,
			} {
				r := newRequest(storage.KindAccessToken, sig, "grant-1", "c1")
				r.ExpiresAt = exp
				createRequest(t, s, r)
			}
			inactive := newRequest(storage.KindRefreshToken, "inactive-live", "grant-1", "c1")
			inactive.Active = false
			createRequest(t, s, inactive)

			n, err := s.DeleteExpiredRequests(ctx, past.Add(time.Hour))
			must(t, err)
			if n != 2 {
				t.Fatalf("deleted %d rows expired before %v, want 2", n, past.Add(time.Hour))
			}
			n, err = s.DeleteExpiredRequests(ctx, base)
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d rows expired before %v, want 1", n, base)
			}
			n, err = s.DeleteExpiredRequests(ctx, base)
			must(t, err)
			if n != 0 {
				t.Fatalf("deleted %d rows on the second pass, want 0", n)
			}
			_, err = s.GetRequest(ctx, storage.KindAccessToken, "live")
			must(t, err)
			_, err = s.GetRequest(ctx, storage.KindRefreshToken, "inactive-live")
			wantErr(t, err, storage.ErrInactive)
			// The expired signatures are free again.
			createRequest(t, s, newRequest(storage.KindAccessToken, "old", "grant-2", "c1"))
		}},
		{"ok/requests/copies", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			in := newRequest(storage.KindAccessToken, "sig", "grant-1", "c1")
			createRequest(t, s, in)
			in.Data[0] = 'X'
			got, err := s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			must(t, err)
			got.Data[1] = 'X'
			got, err = s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			must(t, err)
			equal(t, got, newRequest(storage.KindAccessToken, "sig", "grant-1", "c1"))
		}},
	}
}
