package gateway

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/strongroom/strongroom/authz/oauth"
)

// tokenCache keeps the lookups of opaque access tokens for a short TTL,
// keyed by the SHA-256 of the token (the token itself is never kept). Only
// accepted tokens are cached: a refused token is looked up again every
// time, so a token becomes usable the moment it is issued, and an entry
// never outlives its token. Sender constraints are checked on every
// request, never cached.
type tokenCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	grant   *oauth.AccessGrant
	expires time.Time
}

func newTokenCache(ttl time.Duration, maxEntries int) *tokenCache {
	return &tokenCache{ttl: ttl, max: maxEntries, entries: map[[sha256.Size]byte]cacheEntry{}}
}

// get returns the cached grant of token, if still fresh at now.
func (c *tokenCache) get(token string, now time.Time) (*oauth.AccessGrant, bool) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return nil, false
	}
	return e.grant, true
}

// put caches g for the TTL, or until the token expires if sooner. A full
// cache first drops its stale entries, then, if still full, everything: a
// flood of distinct valid tokens costs lookups, never memory.
func (c *tokenCache) put(token string, g *oauth.AccessGrant, now time.Time) {
	expires := now.Add(c.ttl)
	if !g.ExpiresAt.IsZero() && g.ExpiresAt.Before(expires) {
		expires = g.ExpiresAt
	}
	if !now.Before(expires) {
		return
	}
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[key] = cacheEntry{grant: g, expires: expires}
}
