package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// ClientCache keeps parsed clients in memory so the token path does not read
// the database for every request. Entries live for a TTL and are dropped at
// once when any node changes the client (storage.Notifier); the TTL is the
// fallback for a lost notification.
type ClientCache struct {
	store storage.Clients
	ttl   time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	entries map[string]clientEntry
	gen     uint64 // bumped on every invalidation, so a load racing one is not cached
	// lost: the change notifications are not arriving (storage.SubscriptionLost
	// until the next ""): every Get reads the store, nothing is cached.
	lost bool
}

type clientEntry struct {
	client  *Client
	expires time.Time
}

// NewClientCache returns a cache over store.
func NewClientCache(store storage.Clients, ttl time.Duration, now func() time.Time) *ClientCache {
	if now == nil {
		now = time.Now
	}
	return &ClientCache{store: store, ttl: ttl, now: now, entries: map[string]clientEntry{}}
}

// Get returns the client, from memory when fresh. Disabled clients are
// reported as storage.ErrNotFound: they cannot authenticate.
func (cc *ClientCache) Get(ctx context.Context, id string) (*Client, error) {
	now := cc.now()
	cc.mu.RLock()
	e, ok := cc.entries[id]
	gen, lost := cc.gen, cc.lost
	cc.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.client, nil
	}
	sc, err := cc.store.GetClient(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	if sc.Disabled {
		return nil, fmt.Errorf("client is disabled: %w", storage.ErrNotFound)
	}
	c, err := NewClient(sc)
	if err != nil {
		return nil, err
	}
	c.now = cc.now
	cc.mu.Lock()
	if cc.gen == gen && !lost {
		cc.entries[id] = clientEntry{client: c, expires: now.Add(cc.ttl)}
	}
	cc.mu.Unlock()
	return c, nil
}

// Invalidate drops one client, or every client when id is empty (and then
// caches again). storage.SubscriptionLost drops every client and caches
// nothing until the next "": while changes cannot be heard of, every lookup
// reads the store.
func (cc *ClientCache) Invalidate(id string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	switch id {
	case storage.SubscriptionLost:
		cc.lost = true
		cc.entries = map[string]clientEntry{}
		return
	case "":
		cc.lost = false
		cc.entries = map[string]clientEntry{}
		return
	}
	delete(cc.entries, id)
}

// Watch subscribes to client changes from every node until ctx ends.
func (cc *ClientCache) Watch(ctx context.Context, n storage.Notifier) error {
	err := n.Subscribe(ctx, storage.TopicClients, cc.Invalidate)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("watch clients: %w", err)
	}
	return nil
}
