package storagetest

import (
	"fmt"
	"testing"

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
		{"ok/jtis/concurrent", func(t *testing.T, s storage.Store) {
			for round := range 5 {
				jti := fmt.Sprintf("jti-%d", round)
				if round%2 == 1 {
					must(t, s.UseJTI(t.Context(), jti, past)) // an expired record to take over
				}
				errs := race(8, func(int) error { return s.UseJTI(t.Context(), jti, future) })
				exactlyOneWins(t, errs, storage.ErrAlreadyExists)
			}
		}},
	}
}
