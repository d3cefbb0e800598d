package authz

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

// countingClients counts the reads that reach the store. hook, when set
// before use, runs inside every read after the store answered; err, when
// set, fails the read.
type countingClients struct {
	storage.Clients
	calls atomic.Int64
	hook  func(id string)
	err   error
}

func (c *countingClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c.calls.Add(1)
	if c.err != nil {
		return nil, c.err
	}
	sc, err := c.Clients.GetClient(ctx, id)
	if c.hook != nil {
		c.hook(id)
	}
	return sc, err
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cacheFixture is a cache over a counting memory store holding c1 and c2.
type cacheFixture struct {
	store   storage.Store
	counter *countingClients
	clock   *fakeClock
	cache   *ClientCache
}

const cacheTTL = 30 * time.Second

func newCacheFixture(t *testing.T) *cacheFixture {
	t.Helper()
	store := newMemoryStore(t)
	for _, id := range []string{"c1", "c2"} {
		must(t, store.CreateClient(t.Context(), testClient(id)))
	}
	f := &cacheFixture{store: store, counter: &countingClients{Clients: store}, clock: &fakeClock{t: testNow}}
	f.cache = NewClientCache(f.counter, cacheTTL, f.clock.Now)
	return f
}

func (f *cacheFixture) get(t *testing.T, id string) *Client {
	t.Helper()
	c, err := f.cache.Get(t.Context(), id)
	must(t, err)
	if c.GetID() != id {
		t.Fatalf("Get(%q) returned client %q", id, c.GetID())
	}
	return c
}

func (f *cacheFixture) wantCalls(t *testing.T, n int64) {
	t.Helper()
	if got := f.counter.calls.Load(); got != n {
		t.Fatalf("store read %d times, want %d", got, n)
	}
}

func rename(t *testing.T, s storage.Clients, id, name string) {
	t.Helper()
	must(t, s.UpdateClient(t.Context(), id, func(c *storage.Client) error {
		c.Name = name
		return nil
	}))
}

func TestClientCache(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *cacheFixture)
	}{
		{"ok/cached-read-does-not-hit-store", func(t *testing.T, f *cacheFixture) {
			first := f.get(t, "c1")
			for range 5 {
				if f.get(t, "c1") != first {
					t.Fatal("cached read returned another client")
				}
			}
			f.wantCalls(t, 1)
			f.get(t, "c2")
			f.wantCalls(t, 2)
		}},
		{"ok/fresh-until-ttl", func(t *testing.T, f *cacheFixture) {
			f.get(t, "c1")
			f.clock.Add(cacheTTL - time.Nanosecond)
			f.get(t, "c1")
			f.wantCalls(t, 1)
		}},
		{"ok/ttl-expiry-reloads", func(t *testing.T, f *cacheFixture) {
			f.get(t, "c1")
			rename(t, f.store, "c1", "renamed")
			f.clock.Add(cacheTTL)
			if got := f.get(t, "c1").Registration().Name; got != "renamed" {
				t.Fatalf("name after TTL = %q, want renamed", got)
			}
			f.wantCalls(t, 2)
			f.get(t, "c1") // cached again
			f.wantCalls(t, 2)
		}},
		{"ok/invalidate-one", func(t *testing.T, f *cacheFixture) {
			f.get(t, "c1")
			f.get(t, "c2")
			rename(t, f.store, "c1", "renamed")
			f.cache.Invalidate("c1")
			if got := f.get(t, "c1").Registration().Name; got != "renamed" {
				t.Fatalf("name after Invalidate = %q, want renamed", got)
			}
			f.wantCalls(t, 3)
			f.get(t, "c2") // untouched
			f.wantCalls(t, 3)
		}},
		{"ok/invalidate-all", func(t *testing.T, f *cacheFixture) {
			f.get(t, "c1")
			f.get(t, "c2")
			f.cache.Invalidate("")
			f.get(t, "c1")
			f.get(t, "c2")
			f.wantCalls(t, 4)
		}},
		{"ok/invalidate-unknown-is-harmless", func(t *testing.T, f *cacheFixture) {
			f.get(t, "c1")
			f.cache.Invalidate("ghost")
			f.get(t, "c1")
			f.wantCalls(t, 1)
		}},
		{"ok/load-racing-invalidation-is-not-cached", func(t *testing.T, f *cacheFixture) {
			inStore := make(chan struct{})
			release := make(chan struct{})
			var once sync.Once
			f.counter.hook = func(string) {
				once.Do(func() {
					close(inStore)
					<-release
				})
			}
			done := make(chan *Client)
			go func() {
				c, err := f.cache.Get(context.Background(), "c1")
				if err != nil {
					t.Error(err)
				}
				done <- c
			}()
			<-inStore // the load has read the old registration...
			rename(t, f.store, "c1", "renamed")
			f.cache.Invalidate("c1") // ...and the change notification arrives before it is cached
			close(release)
			if stale := <-done; stale.Registration().Name == "renamed" {
				t.Fatal("test setup: the racing load should have read the old registration")
			}
			if got := f.get(t, "c1").Registration().Name; got != "renamed" {
				t.Fatalf("name after the race = %q: the stale load was cached", got)
			}
			f.wantCalls(t, 2)
		}},
		{"fail/disabled-client", func(t *testing.T, f *cacheFixture) {
			must(t, f.store.UpdateClient(t.Context(), "c1", func(c *storage.Client) error {
				c.Disabled = true
				return nil
			}))
			_, err := f.cache.Get(t.Context(), "c1")
			wantErr(t, err, storage.ErrNotFound)
			// Re-enabling takes effect at once: the refusal was not cached.
			must(t, f.store.UpdateClient(t.Context(), "c1", func(c *storage.Client) error {
				c.Disabled = false
				return nil
			}))
			f.get(t, "c1")
		}},
		{"fail/unknown-client", func(t *testing.T, f *cacheFixture) {
			_, err := f.cache.Get(t.Context(), "ghost")
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/store-error-is-kept-and-not-cached", func(t *testing.T, f *cacheFixture) {
			f.counter.err = storage.ErrUnavailable
			_, err := f.cache.Get(t.Context(), "c1")
			wantErr(t, err, storage.ErrUnavailable)
			f.counter.err = nil
			f.get(t, "c1")
			f.wantCalls(t, 2)
		}},
		{"fail/unparsable-jwks", func(t *testing.T, f *cacheFixture) {
			c := testClient("c3")
			c.JWKS = []byte(`{"keys":`)
			must(t, f.store.CreateClient(t.Context(), c))
			if _, err := f.cache.Get(t.Context(), "c3"); err == nil {
				t.Fatal("client with a broken JWK Set served")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newCacheFixture(t))
		})
	}
}

// TestClientCacheWatch checks that a change made on one node reaches the
// caches of every node through storage.Notifier. On PostgreSQL the writer is
// a second store on the same database (another node); the TTL is an hour, so
// only the notification can explain the reload.
func TestClientCacheWatch(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name string
		open func(t *testing.T) (reader, writer storage.Store)
	}{
		{"memory", func(t *testing.T) (storage.Store, storage.Store) {
			s := newMemoryStore(t)
			return s, s
		}},
		{"postgres", func(t *testing.T) (storage.Store, storage.Store) {
			url := pgtest.NewDatabase(t)
			return openPostgres(t, url), openPostgres(t, url)
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			node1, node2 := b.open(t)
			for _, id := range []string{"c1", "c2", "c3"} {
				must(t, node2.CreateClient(t.Context(), testClient(id)))
			}
			counter := &countingClients{Clients: node1}
			cache := NewClientCache(counter, time.Hour, nil)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			must(t, cache.Watch(ctx, node1))

			for _, id := range []string{"c1", "c2", "c3"} {
				if _, err := cache.Get(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := cache.Get(t.Context(), "c1"); err != nil {
				t.Fatal(err)
			}
			if n := counter.calls.Load(); n != 3 {
				t.Fatalf("store read %d times, want 3 (cached)", n)
			}

			t.Run("ok/update-on-other-node", func(t *testing.T) {
				rename(t, node2, "c1", "renamed")
				eventually(t, 3*time.Second, "the rename reaches the cache", func() bool {
					c, err := cache.Get(t.Context(), "c1")
					return err == nil && c.Registration().Name == "renamed"
				})
			})
			t.Run("fail/disabled-on-other-node", func(t *testing.T) {
				must(t, node2.UpdateClient(t.Context(), "c2", func(c *storage.Client) error {
					c.Disabled = true
					return nil
				}))
				eventually(t, 3*time.Second, "disabling reaches the cache", func() bool {
					_, err := cache.Get(t.Context(), "c2")
					return errors.Is(err, storage.ErrNotFound)
				})
			})
			t.Run("fail/deleted-on-other-node", func(t *testing.T) {
				must(t, node2.DeleteClient(t.Context(), "c3"))
				eventually(t, 3*time.Second, "the deletion reaches the cache", func() bool {
					_, err := cache.Get(t.Context(), "c3")
					return errors.Is(err, storage.ErrNotFound)
				})
			})
		})
	}
}

// TestClientCacheReadsThroughWhileNotificationsAreLost: while the change
// notifications are not arriving (storage.SubscriptionLost until ""), a
// client changed by another node is never served from memory: every lookup
// reads the store, and caching resumes once the subscription is back.
func TestClientCacheReadsThroughWhileNotificationsAreLost(t *testing.T) {
	f := newCacheFixture(t)
	f.get(t, "c1")
	f.wantCalls(t, 1)
	f.cache.Invalidate(storage.SubscriptionLost)
	rename(t, f.store, "c1", "renamed elsewhere") // its notification is lost
	for range 3 {
		if c := f.get(t, "c1"); c.Registration().Name != "renamed elsewhere" {
			t.Fatalf("served %q from memory while notifications were lost", c.Registration().Name)
		}
	}
	f.wantCalls(t, 4)
	f.cache.Invalidate("") // back: changes may have been missed, caching resumes
	f.get(t, "c1")
	f.get(t, "c1")
	f.wantCalls(t, 5)
}
