package revocation

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/janitor"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func revoked(t *testing.T, l *List, id string) bool {
	t.Helper()
	r, err := l.Revoked(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRevocationListEntriesExpire: an entry leaves memory once its token
// has expired (Prune, a minute of leeway) and the janitor deletes its row;
// an unexpired one stays in both.
func TestRevocationListEntriesExpire(t *testing.T) {
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	store := memory.New(memory.WithClock(c.now))
	l := New(store, c.now, quiet())
	if err := l.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for id, ttl := range map[string]time.Duration{"short": time.Minute, "long": time.Hour} {
		if err := l.Revoke(ctx, storage.RevokedGrant{GrantID: id, ClientID: "c1", ExpiresAt: c.now().Add(ttl)}); err != nil {
			t.Fatal(err)
		}
	}
	if l.Len() != 2 || !revoked(t, l, "short") || !revoked(t, l, "long") {
		t.Fatalf("after revocation: %d entries", l.Len())
	}
	c.add(3 * time.Minute)
	l.Prune()
	if l.Len() != 1 || !revoked(t, l, "long") {
		t.Fatalf("after the short token expired: %d entries, want only the long one", l.Len())
	}
	j := &janitor.Janitor{Store: store, Now: c.now, Log: quiet()}
	removed, err := j.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if removed["revoked_grants"] != 1 {
		t.Fatalf("janitor removed %d revoked grants, want 1", removed["revoked_grants"])
	}
	left, err := store.ListRevokedGrants(ctx)
	if err != nil || len(left) != 1 || left[0].GrantID != "long" {
		t.Fatalf("rows left: %v %v", left, err)
	}
}

// TestRevocationListAppliesOtherNodesRevocations: a revocation recorded by
// another node (another List over the same store) reaches this list through
// the notification, and a full reload (the payload "" after a lost
// connection) picks up one whose notification was missed.
func TestRevocationListAppliesOtherNodesRevocations(t *testing.T) {
	store := memory.New()
	a, b := New(store, nil, quiet()), New(store, nil, quiet())
	for _, l := range []*List{a, b} {
		if err := l.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	exp := time.Now().Add(time.Hour)
	if err := a.Revoke(t.Context(), storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !revoked(t, b, "g1") {
		t.Fatal("node B did not apply node A's revocation")
	}
	// a list that was not listening when g2 was revoked (its notification
	// missed) is told "reload all"
	if err := store.RevokeGrant(context.Background(), storage.RevokedGrant{GrantID: "g2", ClientID: "c1", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	c := New(store, nil, quiet()) // a list that never saw g2's notification
	c.mu.Lock()
	c.subscribed = true
	c.mu.Unlock()
	c.apply("")
	if !c.Current() || !revoked(t, c, "g2") || !revoked(t, c, "g1") {
		t.Fatal("the reload after a possible miss did not load every entry")
	}
}

// failingStore is a store whose revocation list reads fail (an outage).
type failingStore struct {
	*memory.Store
	fail bool
}

var errOutage = errors.New("outage")

func (f *failingStore) ListRevokedGrants(ctx context.Context) ([]storage.RevokedGrant, error) {
	if f.fail {
		return nil, errOutage
	}
	return f.Store.ListRevokedGrants(ctx)
}

func (f *failingStore) IsGrantRevoked(ctx context.Context, id string) (bool, error) {
	if f.fail {
		return false, errOutage
	}
	return f.Store.IsGrantRevoked(ctx, id)
}

// TestRevocationListFailsClosedWhenNotCurrent: a list that is not current
// (never started, or its reload failed) reads the store for a grant it does
// not hold, and answers an error, never "not revoked", when the store
// cannot answer.
func TestRevocationListFailsClosedWhenNotCurrent(t *testing.T) {
	fs := &failingStore{Store: memory.New()}
	if err := fs.RevokeGrant(t.Context(), storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	l := New(fs, nil, quiet())
	if l.Current() || !revoked(t, l, "g1") {
		t.Fatal("a list that was never loaded must read the store")
	}
	fs.fail = true
	if _, err := l.Revoked(t.Context(), "g2"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, errOutage) {
		t.Fatalf("not current, store down: %v, want an error", err)
	}
	// started, then a reload after a possible miss fails: not current again
	fs.fail = false
	if err := l.Start(t.Context()); err != nil || !l.Current() {
		t.Fatalf("start: %v current=%v", err, l.Current())
	}
	if revoked(t, l, "g2") {
		t.Fatal("g2 was never revoked")
	}
	fs.fail = true
	l.apply("")
	if l.Current() {
		t.Fatal("current after a failed reload")
	}
	if _, err := l.Revoked(t.Context(), "g2"); err == nil {
		t.Fatal("a failed reload must not answer from memory alone")
	}
	if !revoked(t, l, "g1") {
		t.Fatal("an entry held in memory is revoked whatever the store says")
	}
}

// deafStore is a store whose subscription the test drives by hand: the
// store's own notifications never reach the list.
type deafStore struct {
	*memory.Store
	fn func(string)
}

func (d *deafStore) Subscribe(_ context.Context, _ string, fn func(string)) error {
	d.fn = fn
	return nil
}

// TestRevocationListFailsClosedWhileNotificationsAreLost: from the moment
// the notification connection is lost until it is back and the list
// reloaded, a revocation made by another node (whose notification this
// node never hears) is still seen, through the database; a periodic reload
// during the outage does not make the list trust itself again.
func TestRevocationListFailsClosedWhileNotificationsAreLost(t *testing.T) {
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	store := &deafStore{Store: memory.New(memory.WithClock(c.now))}
	l := New(store, c.now, quiet())
	ctx := t.Context()
	if err := l.Start(ctx); err != nil || !l.Current() {
		t.Fatalf("start: %v, current %v", err, l.Current())
	}
	store.fn(storage.SubscriptionLost)
	if l.Current() {
		t.Fatal("the list still trusts itself after its notifications were lost")
	}
	// Another node revokes: the row is written, its notification is lost.
	if err := store.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: c.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, l, "g1") {
		t.Fatal("a revocation made while notifications were lost is not seen")
	}
	if err := l.reload(ctx); err != nil || l.Current() {
		t.Fatalf("a reload during the outage: %v, current %v (want not current)", err, l.Current())
	}
	store.fn("") // back: reload
	if !l.Current() || !revoked(t, l, "g1") || l.Len() != 1 {
		t.Fatalf("after the subscription is back: current %v, %d entries", l.Current(), l.Len())
	}
}
