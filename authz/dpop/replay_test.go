package dpop_test

import (
	"context"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/dpop/replaytest"
	"github.com/strongroom/strongroom/storage/memory"
	"github.com/strongroom/strongroom/storage/pgtest"
	"github.com/strongroom/strongroom/storage/postgres"
)

// The memory store: every node shares the one store (one process).
func TestStoreReplayCacheOnMemory(t *testing.T) {
	replaytest.Run(t, func(t *testing.T) func() dpop.ReplayCache {
		store := memory.New()
		return func() dpop.ReplayCache { return dpop.NewStoreReplayCache(store) }
	})
}

// PostgreSQL: every node is its own pool on one fresh database, as two
// servers of one deployment are.
func TestStoreReplayCacheOnPostgres(t *testing.T) {
	replaytest.Run(t, postgresBackend(pgtest.NewRecycler(t)))
}

// A proof used on one server is refused by another on the same database.
func TestDPoPProofReplayAcrossTwoNodesFails(t *testing.T) {
	replaytest.ProofReplayAcrossTwoNodesFails(t, postgresBackend(pgtest.NewRecycler(t)))
}

func postgresBackend(databases *pgtest.Recycler) replaytest.NewBackend {
	return func(t *testing.T) func() dpop.ReplayCache {
		dbURL := databases.Database(t)
		return func() dpop.ReplayCache {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			store, err := postgres.Open(ctx, dbURL, nil)
			if err != nil {
				t.Fatalf("open store: %v", err)
			}
			t.Cleanup(store.Close)
			return dpop.NewStoreReplayCache(store)
		}
	}
}

// DPoP records share the client-assertion table but never its keys.
func TestStoreReplayCacheKeysAreNamespaced(t *testing.T) {
	store := memory.New()
	until := time.Now().Add(time.Minute)
	key := dpop.ReplayKey("jkt", "jti")
	if len(key) != len("dpop:")+64 || key[:5] != "dpop:" {
		t.Fatalf("ReplayKey = %q", key)
	}
	if err := store.UseJTI(t.Context(), "jti", until); err != nil {
		t.Fatal(err)
	}
	if err := dpop.NewStoreReplayCache(store).Use(t.Context(), key, until); err != nil {
		t.Fatalf("a DPoP jti collides with a client-assertion jti: %v", err)
	}
	if dpop.ReplayKey("jkt", "jti") == dpop.ReplayKey("jkt2", "jti") || dpop.ReplayKey("a", "b|c") == dpop.ReplayKey("a|b", "c") {
		t.Error("ReplayKey collides across keys")
	}
}
