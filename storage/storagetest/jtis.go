package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func jtiTests() []test {
	return []test{
		{"ok/jtis/use", func(t *testing.T, s storage.Store) {
			must(t, s.UseJTI(t.Context(), "jti-1", future))
			must(t, s.UseJTI(t.Context(), "jti-2", future))
		}},
		{"fail/jtis/replay", func(t *testing.T, s storage.Store) {
			must(t, s.UseJTI(t.Context(), "jti-1", future))
			wantErr(t, s.UseJTI(t.Context(), "jti-1", future), storage.ErrAlreadyExists)
			wantErr(t, s.UseJTI(t.Context(), "jti-1", future.AddDate(1, 0, 0)), storage.ErrAlreadyExists)
		}},
		{"ok/jtis/expired-can-be-reused", func(t *testing.T, s storage.Store) {
			must(t, s.UseJTI(t.Context(), "jti-1", past))
			must(t, s.UseJTI(t.Context(), "jti-1", past))
			must(t, s.UseJTI(t.Context(), "jti-1", future))
			wantErr(t, s.UseJTI(t.Context(), "jti-1", future), storage.ErrAlreadyExists)
		}},
		{"ok/jtis/delete-expired", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.UseJTI(ctx, "old", past))
			must(t, s.UseJTI(ctx, "recent", base.Add(-time.Hour)))
			must(t, s.UseJTI(ctx, "live", future))
			n, err := s.DeleteExpiredJTIs(ctx, past.Add(time.Hour))
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d ids expired before %v, want 1", n, past.Add(time.Hour))
			}
			n, err = s.DeleteExpiredJTIs(ctx, base)
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d ids expired before %v, want 1", n, base)
			}
			n, err = s.DeleteExpiredJTIs(ctx, base)
			must(t, err)
			if n != 0 {
				t.Fatalf("deleted %d ids on the second pass, want 0", n)
			}
			// The live record still refuses a replay.
			wantErr(t, s.UseJTI(ctx, "live", future), storage.ErrAlreadyExists)
		}},
		{"ok/jtis/create-request-once", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createClient(t, s, "c1")
			at := newRequest(storage.KindAccessToken, "sig-1", "grant-1", "c1")
			must(t, s.CreateRequestOnce(ctx, at, "dpop:1", future))
			got, err := s.GetRequest(ctx, storage.KindAccessToken, "sig-1")
			must(t, err)
			equal(t, got, at)
			// the jti is recorded: a replay writes nothing, by either method
			wantErr(t, s.UseJTI(ctx, "dpop:1", future), storage.ErrAlreadyExists)
			again := newRequest(storage.KindAccessToken, "sig-2", "grant-2", "c1")
			wantErr(t, s.CreateRequestOnce(ctx, again, "dpop:1", future), storage.ErrJTIUsed)
			_, err = s.GetRequest(ctx, storage.KindAccessToken, "sig-2")
			wantErr(t, err, storage.ErrNotFound)
			must(t, s.UseJTI(ctx, "dpop:2", future))
			wantErr(t, s.CreateRequestOnce(ctx, again, "dpop:2", future), storage.ErrJTIUsed)
			// an expired record is taken over, as by UseJTI
			must(t, s.UseJTI(ctx, "dpop:3", past))
			must(t, s.CreateRequestOnce(ctx, again, "dpop:3", future))
		}},
		{"fail/jtis/create-request-once-taken-signature-writes-nothing-in-a-tx", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createClient(t, s, "c1")
			createRequest(t, s, newRequest(storage.KindAccessToken, "sig-1", "grant-1", "c1"))
			err := storage.InTx(ctx, s, func(ctx context.Context) error {
				return s.CreateRequestOnce(ctx, newRequest(storage.KindAccessToken, "sig-1", "grant-2", "c1"), "dpop:1", future)
			})
			wantErr(t, err, storage.ErrAlreadyExists)
			must(t, s.UseJTI(ctx, "dpop:1", future)) // rolled back with the failed insert
		}},
		{"ok/jtis/create-request-once-concurrent", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			errs := Race(8, func(i int) error {
				return s.CreateRequestOnce(t.Context(), newRequest(storage.KindAccessToken, fmt.Sprintf("sig-%d", i), "grant", "c1"), "dpop:race", future)
			})
			exactlyOneWins(t, errs, storage.ErrJTIUsed)
		}},
		{"ok/jtis/concurrent", func(t *testing.T, s storage.Store) {
			for round := range 5 {
				jti := fmt.Sprintf("jti-%d", round)
				if round%2 == 1 {
					must(t, s.UseJTI(t.Context(), jti, past)) // an expired record to take over
				}
				errs := Race(8, func(int) error { return s.UseJTI(t.Context(), jti, future) })
				exactlyOneWins(t, errs, storage.ErrAlreadyExists)
			}
		}},
	}
}
