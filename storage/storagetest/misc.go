package storagetest

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func miscTests() []test {
	return []test{
		{"ok/ping", func(t *testing.T, s storage.Store) {
			must(t, s.Ping(t.Context()))
		}},
		{"ok/times/utc-microseconds", func(t *testing.T, s storage.Store) {
			// Times come back in UTC, truncated to microseconds (PostgreSQL's
			// precision), whatever zone they went in with.
			zone := time.FixedZone("UTC+3", 3*3600)
			at := time.Date(2031, 5, 6, 7, 8, 9, 123456789, zone)
			createClient(t, s, "c1")
			r := newRequest(storage.KindAccessToken, "sig", "grant-1", "c1")
			r.RequestedAt = at
			createRequest(t, s, r)
			got, err := s.GetRequest(t.Context(), storage.KindAccessToken, "sig")
			must(t, err)
			want := time.Date(2031, 5, 6, 4, 8, 9, 123456000, time.UTC)
			if got.RequestedAt != want || got.RequestedAt.Location() != time.UTC {
				t.Fatalf("RequestedAt = %v (%v), want %v", got.RequestedAt, got.RequestedAt.Location(), want)
			}
		}},
	}
}
