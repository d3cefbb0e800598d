package storagetest

import (
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
