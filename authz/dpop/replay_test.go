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

// TestDeferredReplayLeavesTheRecordToTheCaller: with Request.DeferReplay
// Verify checks everything but records nothing, and hands back the record
// (ReplayKey of the proof's jkt and jti, kept past the proof's lifetime)
// for the caller to write with the token the proof binds; without it the
// proof is recorded and a second use is refused. RecordsInStore tells a
// store-backed cache from any other.
func TestDeferredReplayLeavesTheRecordToTheCaller(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{})
	if !v.RecordsInStore() {
		t.Fatal("a StoreReplayCache verifier does not report it")
	}
	req := request(es256Proof(t, claims("deferred")))
	req.DeferReplay = true
	p, err := v.Verify(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p.ReplayKey != dpop.ReplayKey(p.JKT, "deferred") || !p.ReplayUntil.After(testNow.Add(dpop.DefaultMaxAge)) {
		t.Fatalf("replay record %q until %v", p.ReplayKey, p.ReplayUntil)
	}
	// Nothing was recorded: the same proof verifies again, and then records.
	req.DeferReplay = false
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("the deferred proof was recorded: %v", err)
	}
	_, err = v.Verify(t.Context(), req)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrReplay)
	wantRefused(t, dpop.Replayed(), dpop.CodeInvalidProof, dpop.ErrReplay)

	other, _ := newVerifier(t, dpop.Config{ReplayCache: replayFunc(func(context.Context, string, time.Time) error { return nil })})
	if other.RecordsInStore() {
		t.Fatal("a cache outside the store reports RecordsInStore")
	}
}

// replayFunc is a ReplayCache of one function.
type replayFunc func(ctx context.Context, key string, until time.Time) error

func (f replayFunc) Use(ctx context.Context, key string, until time.Time) error {
	return f(ctx, key, until)
}
