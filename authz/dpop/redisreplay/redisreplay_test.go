package redisreplay_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/dpop/redisreplay"
	"github.com/strongroom/strongroom/authz/dpop/replaytest"
)

// EnvAddr names the environment variable with the address of the test Redis
// (host:port); DefaultAddr is used when it is unset. A Redis that cannot be
// reached fails the tests: they are never skipped, in CI or elsewhere.
const (
	EnvAddr     = "STRONGROOM_TEST_REDIS_ADDR"
	DefaultAddr = "127.0.0.1:6379"
)

func addr() string {
	if a := os.Getenv(EnvAddr); a != "" {
		return a
	}
	return DefaultAddr
}

// newClient connects to the test Redis (a failure fails the test) and closes
// the client when the test ends.
func newClient(t *testing.T) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr()})
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("the test Redis at %s is not reachable (set %s): %v", addr(), EnvAddr, err)
	}
	return client
}

// uniquePrefix returns a key prefix no other test uses and deletes every key
// under it when the test ends.
func uniquePrefix(t *testing.T) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "strongroom-test:" + hex.EncodeToString(b[:]) + ":"
	client := newClient(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			if err := client.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("clean up %s: %v", iter.Val(), err)
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up: %v", err)
		}
	})
	return prefix
}

// Every node is its own client on the one Redis, under one test prefix.
func TestRedisReplayCache(t *testing.T) {
	replaytest.Run(t, redisBackend)
}

// A proof used on one server is refused by another on the same Redis.
func TestDPoPProofReplayAcrossTwoNodesFails(t *testing.T) {
	replaytest.ProofReplayAcrossTwoNodesFails(t, redisBackend)
}

func redisBackend(t *testing.T) func() dpop.ReplayCache {
	prefix := uniquePrefix(t)
	return func() dpop.ReplayCache { return redisreplay.New(newClient(t), prefix) }
}

func TestRedisReplayCacheRecordsUnderItsPrefixWithAnExpiry(t *testing.T) {
	prefix := uniquePrefix(t)
	client := newClient(t)
	cache := redisreplay.New(client, prefix)
	key := dpop.ReplayKey("jkt", "jti")
	if err := cache.Use(t.Context(), key, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ttl, err := client.PTTL(t.Context(), prefix+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("TTL = %v, want about a minute", ttl)
	}
	// An until already passed is still recorded, briefly.
	late := dpop.ReplayKey("jkt", "late")
	if err := cache.Use(t.Context(), late, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := cache.Use(t.Context(), late, time.Now().Add(-time.Hour)); err == nil {
		t.Error("a key used twice with an until in the past was accepted twice")
	}
}

func TestRedisReplayCacheDownIsAnErrorNotAReplay(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	err := redisreplay.New(client, "").Use(t.Context(), "k", time.Now().Add(time.Minute))
	if err == nil || errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("Use on an unreachable Redis = %v, want a connection error", err)
	}
}
