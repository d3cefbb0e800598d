package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.Store = (*Store)(nil)

// Store is the in-memory implementation of storage.Store.
type Store struct {
	now func() time.Time

	// txSem is held by the running transaction and by each write made
	// outside a transaction (see the package comment).
	txSem chan struct{}

	mu        sync.Mutex // guards everything below
	clients   map[string]storage.Client
	users     map[string]storage.User
	usernames map[string]string // username → user id
	keys      map[string]storage.SigningKey
	requests  map[requestKey]storage.Request
	jtis      map[string]time.Time // jti → expiry
	flows     map[string]storage.AuthFlow
	sessions  map[string]storage.BrowserSession
	consents  map[consentKey]storage.Consent
	authTypes map[string]storage.AuthorizationType // authorization details types (RFC 9396)
	mfa       mfaState                             // second factors, pending logins, login throttles (mfa.go)
	logout    logoutState                          // session clients and the back-channel logout outbox (logout.go)
	audit     auditState                           // events, chain head, checkpoints (audit.go)
	revoked   map[string]storage.RevokedGrant      // grant revocation list (revocations.go)
	subs      map[*subscription]struct{}
	closed    bool
	subsDone  sync.WaitGroup
}

type requestKey struct {
	kind      storage.RequestKind
	signature string
}

type consentKey struct{ userID, clientID string }

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store judge expiry by now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:       time.Now,
		txSem:     make(chan struct{}, 1),
		clients:   map[string]storage.Client{},
		users:     map[string]storage.User{},
		usernames: map[string]string{},
		keys:      map[string]storage.SigningKey{},
		requests:  map[requestKey]storage.Request{},
		jtis:      map[string]time.Time{},
		flows:     map[string]storage.AuthFlow{},
		sessions:  map[string]storage.BrowserSession{},
		consents:  map[consentKey]storage.Consent{},
		authTypes: map[string]storage.AuthorizationType{},
		mfa:       newMFAState(),
		logout:    newLogoutState(),
		audit:     newAuditState(),
		revoked:   map[string]storage.RevokedGrant{},
		subs:      map[*subscription]struct{}{},
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Ping always succeeds: memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Close ends every subscription and waits for their goroutines. The data
// stays readable.
func (s *Store) Close() {
	s.mu.Lock()
	s.closed = true
	subs := make([]*subscription, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		sub.cancel()
	}
	s.subsDone.Wait()
}

// live reports whether a row expiring at exp is still valid now.
func (s *Store) live(exp time.Time) bool { return exp.After(s.now()) }

// ---------------------------------------------------------------- transactions

// txn is a transaction, a nested transaction (parent set), or one write
// call's own statement. Its undo log restores the maps when it rolls back;
// on commit a nested txn hands its log and events to its parent.
type txn struct {
	store  *Store
	parent *txn
	undo   []func()
	events []event // notifications to publish when the outermost txn commits
	done   bool
}

type event struct{ topic, payload string }

type txKey struct{}

// txFrom returns the transaction of s carried by ctx, or nil.
func (s *Store) txFrom(ctx context.Context) *txn {
	if t, ok := ctx.Value(txKey{}).(*txn); ok && t.store == s {
		return t
	}
	return nil
}

// finished reports whether t or one of its ancestors has ended (false for
// nil: no transaction).
func (t *txn) finished() bool {
	for ; t != nil; t = t.parent {
		if t.done {
			return true
		}
	}
	return false
}

var errTxDone = errors.New("transaction already committed or rolled back")

// lockTx takes the transaction lock, giving up when ctx ends.
func (s *Store) lockTx(ctx context.Context) error {
	select {
	case s.txSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("memory: waiting for a running transaction: %w", ctx.Err())
	}
}

func (s *Store) unlockTx() { <-s.txSem }

// BeginTx starts a transaction, or a nested one when ctx carries a
// transaction, and returns a context carrying it.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	parent := s.txFrom(ctx)
	if parent != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if parent.finished() {
			return ctx, fmt.Errorf("memory: begin: %w", errTxDone)
		}
		return context.WithValue(ctx, txKey{}, &txn{store: s, parent: parent}), nil
	}
	if err := s.lockTx(ctx); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, txKey{}, &txn{store: s}), nil
}

// CommitTx commits the transaction carried by ctx. Notifications are
// published when the outermost transaction commits.
func (s *Store) CommitTx(ctx context.Context) error {
	t := s.txFrom(ctx)
	if t == nil {
		return errors.New("memory: commit: no transaction in context")
	}
	s.mu.Lock()
	if t.finished() {
		s.mu.Unlock()
		return fmt.Errorf("memory: commit: %w", errTxDone)
	}
	t.done = true
	if t.parent != nil {
		t.parent.undo = append(t.parent.undo, t.undo...)
		t.parent.events = append(t.parent.events, t.events...)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	s.publish(t.events)
	s.unlockTx()
	return nil
}

// RollbackTx undoes every change made in the transaction carried by ctx.
func (s *Store) RollbackTx(ctx context.Context) error {
	t := s.txFrom(ctx)
	if t == nil {
		return errors.New("memory: rollback: no transaction in context")
	}
	s.mu.Lock()
	if t.finished() {
		s.mu.Unlock()
		return fmt.Errorf("memory: rollback: %w", errTxDone)
	}
	t.rollback()
	t.done = true
	s.mu.Unlock()
	if t.parent == nil {
		s.unlockTx()
	}
	return nil
}

// rollback applies the undo log in reverse. The caller holds s.mu.
func (t *txn) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
	t.events = nil
}

// write runs fn under the data lock as one all-or-nothing statement: in the
// transaction carried by ctx, or else under the transaction lock and
// committed at once. When fn fails (or panics) its changes are undone.
func (s *Store) write(ctx context.Context, fn func(t *txn) error) (err error) {
	parent := s.txFrom(ctx)
	if parent == nil {
		if err := s.lockTx(ctx); err != nil {
			return err
		}
		defer s.unlockTx()
	}
	st := &txn{store: s, parent: parent}
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if parent.finished() {
			err = errTxDone
			return
		}
		ok := false
		defer func() {
			if !ok {
				st.rollback()
			}
		}()
		if err = fn(st); err != nil {
			return
		}
		if parent != nil {
			parent.undo = append(parent.undo, st.undo...)
			parent.events = append(parent.events, st.events...)
			st.events = nil
		}
		ok = true
	}()
	if err == nil {
		s.publish(st.events) // nothing when inside a transaction
	}
	return err
}

// read runs fn under the data lock. It does not wait for a running
// transaction.
func (s *Store) read(ctx context.Context, fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txFrom(ctx).finished() {
		return errTxDone
	}
	return fn()
}

// put sets m[k] = v, recording how to undo it.
func put[K comparable, V any](t *txn, m map[K]V, k K, v V) {
	remember(t, m, k)
	m[k] = v
}

// del deletes m[k], recording how to undo it.
func del[K comparable, V any](t *txn, m map[K]V, k K) {
	remember(t, m, k)
	delete(m, k)
}

func remember[K comparable, V any](t *txn, m map[K]V, k K) {
	old, had := m[k]
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

// notify queues a notification, published when the change commits.
func (t *txn) notify(topic, payload string) {
	t.events = append(t.events, event{topic, payload})
}
