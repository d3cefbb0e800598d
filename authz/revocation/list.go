// Package revocation keeps the grant revocation list of stateless JWT
// access tokens in memory on every node.
//
// A stateless JWT access token (client_credentials, see docs/tokens.md) has
// no row to deactivate: revoking it records its grant id in
// storage.RevokedGrants until the token expires. Every node holds the
// unexpired entries in a List: loaded at start, kept current by the
// storage.TopicRevokedGrants notifications, reloaded whole when the
// subscription reports that changes may have been missed (payload ""). The
// node that revokes applies the entry at once (read-your-writes).
//
// Fail closed: while the list is not known to be current (the subscription
// could not be made, or a reload failed), a grant that is not in memory is
// looked up in the store, and a store outage is an error, never "not
// revoked".
package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Store is what the list needs from storage.
type Store interface {
	storage.RevokedGrants
	storage.Notifier
}

// pruneLeeway keeps an entry in memory a little past its expiry: another
// node's clock may still accept the token for a moment.
const pruneLeeway = time.Minute

// reloadTimeout bounds one reload of the whole list.
const reloadTimeout = 10 * time.Second

// List is the in-memory grant revocation list of one node. Its zero value
// is not usable: call New.
type List struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	mu         sync.RWMutex
	entries    map[string]time.Time // grant id → expiry of its token
	subscribed bool
	// listening is false from a storage.SubscriptionLost until the
	// subscription is back (""): notifications are not arriving.
	listening bool
	current   bool // subscribed, listening, and loaded since the last "changes may have been missed"
}

// New returns a list over store that is not yet current: until Start
// succeeds every check of a grant it does not hold reads the store.
func New(store Store, now func() time.Time, log *slog.Logger) *List {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &List{store: store, now: now, log: log, entries: map[string]time.Time{}}
}

// Start subscribes to revocations from every node, then loads the list. It
// returns the subscription's error, or the load's (the list then stays not
// current: Run retries). Notifications are applied until ctx ends.
func (l *List) Start(ctx context.Context) error {
	if err := l.store.Subscribe(ctx, storage.TopicRevokedGrants, l.apply); err != nil {
		return fmt.Errorf("revocation list: subscribe: %w", err)
	}
	l.mu.Lock()
	l.subscribed, l.listening = true, true
	l.mu.Unlock()
	return l.reload(ctx)
}

// Run keeps the list healthy until ctx ends: every interval it drops the
// expired entries from memory and, while the list is not current, retries
// the subscription or the reload.
func (l *List) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		l.Prune()
		l.mu.RLock()
		subscribed, current := l.subscribed, l.current
		l.mu.RUnlock()
		var err error
		switch {
		case !subscribed:
			err = l.Start(ctx)
		case !current:
			err = l.reload(ctx)
		}
		if err != nil && ctx.Err() == nil {
			l.log.Warn("revocation list not current; checks read the database", "err", err)
		}
	}
}

// apply is the subscription callback: one revocation, or "" (reload all).
func (l *List) apply(payload string) {
	if payload == storage.SubscriptionLost {
		// Revocations by other nodes are not arriving: fail closed (a
		// grant not held in memory is looked up) until the subscription is
		// back and the list reloaded.
		l.mu.Lock()
		l.listening, l.current = false, false
		l.mu.Unlock()
		l.log.Warn("revocation list: notifications lost; checks read the database until they are back")
		return
	}
	if payload == "" {
		l.mu.Lock()
		l.listening, l.current = true, false
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
		defer cancel()
		if err := l.reload(ctx); err != nil {
			l.log.Warn("revocation list reload failed; checks read the database until it succeeds", "err", err)
		}
		return
	}
	id, exp, ok := storage.ParseRevokedGrantPayload(payload)
	if !ok {
		l.log.Warn("revocation list: malformed notification ignored")
		return
	}
	l.add(id, exp)
}

// reload merges every unexpired entry of the store into memory and marks
// the list current. Entries are only ever added (a revocation is never
// undone), so a notification applied while the load runs is kept.
func (l *List) reload(ctx context.Context) error {
	all, err := l.store.ListRevokedGrants(ctx)
	if err != nil {
		return fmt.Errorf("revocation list: load: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, g := range all {
		if old, ok := l.entries[g.GrantID]; !ok || g.ExpiresAt.After(old) {
			l.entries[g.GrantID] = g.ExpiresAt
		}
	}
	l.current = l.subscribed && l.listening
	return nil
}

func (l *List) add(id string, exp time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.entries[id]; !ok || exp.After(old) {
		l.entries[id] = exp
	}
}

// ErrUnavailable is returned (wrapping the store's error, itself matching
// storage.ErrUnavailable on an outage) when the list is not current and the
// store cannot answer.
var ErrUnavailable = errors.New("revocation list unavailable")

// Revoked reports whether the grant was revoked. From memory when the list
// is current; otherwise a grant not in memory is looked up in the store.
func (l *List) Revoked(ctx context.Context, grantID string) (bool, error) {
	l.mu.RLock()
	_, ok := l.entries[grantID]
	current := l.current
	l.mu.RUnlock()
	if ok {
		return true, nil
	}
	if current {
		return false, nil
	}
	revoked, err := l.store.IsGrantRevoked(ctx, grantID)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return revoked, nil
}

// Revoke records the revocation of a grant whose token expires at
// g.ExpiresAt in the store (which tells every node) and applies it here at
// once.
func (l *List) Revoke(ctx context.Context, g storage.RevokedGrant) error {
	if err := l.store.RevokeGrant(ctx, g); err != nil {
		return fmt.Errorf("revocation list: revoke: %w", err)
	}
	l.add(g.GrantID, g.ExpiresAt)
	return nil
}

// Prune drops the entries whose tokens expired (a minute of leeway) from
// memory; the janitor deletes their rows.
func (l *List) Prune() {
	before := l.now().Add(-pruneLeeway)
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, exp := range l.entries {
		if exp.Before(before) {
			delete(l.entries, id)
		}
	}
}

// Len is the number of entries held in memory.
func (l *List) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
}

// Current reports whether the list is known to be current (subscribed and
// loaded since the last possible miss).
func (l *List) Current() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.current
}
