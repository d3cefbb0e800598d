package authz

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

func TestSweepExpiredTokens(t *testing.T) {
	for name, store := range map[string]func(t *testing.T) storage.Store{
		"memory":   func(t *testing.T) storage.Store { return newMemoryStore(t) },
		"postgres": func(t *testing.T) storage.Store { return openPostgres(t, pgtest.NewDatabase(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := store(t)
			p := newTestProvider(t, s)
			p.now = time.Now // the stores judge expiry by the real clock
			id := "janitor-" + name + "-" + time.Now().Format("150405.000000000")
			must(t, s.CreateClient(ctx, testClient(id)))
			now := time.Now()
			rows := map[string]time.Time{
				"expired-long-ago": now.Add(-24 * time.Hour),
				"expired-just-now": now.Add(-10 * time.Second), // within the leeway: kept
				"live":             now.Add(time.Hour),
			}
			for sig, exp := range rows {
				must(t, s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: id + sig, RequestID: id,
					ClientID: id, Active: true, RequestedAt: now, ExpiresAt: exp, Data: []byte(`{}`)}))
			}
			n, err := p.SweepExpiredTokens(ctx)
			must(t, err)
			if n < 1 {
				t.Fatalf("swept %d rows, want at least the one expired a day ago", n)
			}
			if _, err := s.GetRequest(ctx, storage.KindAccessToken, id+"live"); err != nil {
				t.Fatalf("fail/live-row-swept: %v", err)
			}
			// The row expired a day ago is gone: creating it again works (a
			// leftover row would hold its key).
			err = s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: id + "expired-long-ago", RequestID: id,
				ClientID: id, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte(`{}`)})
			if errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatal("fail/expired-row-kept")
			}
			must(t, err)
			// Within the leeway the row stays (its key is still taken).
			err = s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: id + "expired-just-now", RequestID: id,
				ClientID: id, Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte(`{}`)})
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatalf("fail/row-in-leeway-swept: %v", err)
			}
		})
	}
}
