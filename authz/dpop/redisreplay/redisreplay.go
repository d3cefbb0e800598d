package redisreplay

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/strongroom/strongroom/authz/dpop"
)

// DefaultPrefix is put before every key unless New is given another.
const DefaultPrefix = "strongroom:"

// minTTL is the shortest expiry a record gets, so a key whose until has
// (nearly) passed is still recorded rather than silently not.
const minTTL = time.Second

// Cache is a dpop.ReplayCache in Redis.
type Cache struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// New returns a Cache that records keys in client under prefix
// (DefaultPrefix when empty), so several deployments can share a Redis.
func New(client redis.UniversalClient, prefix string) *Cache {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Cache{client: client, prefix: prefix, now: time.Now}
}

// Use records key until the given time with SET NX PX: atomic in Redis, so
// of several concurrent callers on any nodes exactly one succeeds. The
// expiry is relative (until minus our clock), so Redis's clock does not
// matter. A key already present gives dpop.ErrReplay.
func (c *Cache) Use(ctx context.Context, key string, until time.Time) error {
	ttl := max(until.Sub(c.now()), minTTL)
	ok, err := c.client.SetNX(ctx, c.prefix+key, 1, ttl).Result()
	if err != nil {
		return fmt.Errorf("redisreplay: record proof: %w", err)
	}
	if !ok {
		return fmt.Errorf("redisreplay: %w", dpop.ErrReplay)
	}
	return nil
}

var _ dpop.ReplayCache = (*Cache)(nil)
