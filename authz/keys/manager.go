package keys

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/storage"
)

// DefaultReloadInterval is the fallback reload period Watch uses when it is
// given none: notifications deliver changes within about a second (the
// PropagationDelay path), the interval only bounds how stale a node can get
// if one is lost.
const DefaultReloadInterval = 30 * time.Second

// ErrNoActiveKey reports that no active key can sign with the requested
// algorithm (EnsureActive or Reload has not run, or the algorithm is not
// configured).
var ErrNoActiveKey = errors.New("keys: no active signing key")

// errAlreadyActive aborts an UpdateKeys transaction that found nothing to do
// because another node created the keys first.
var errAlreadyActive = errors.New("keys: active keys already exist")

// ensureAttempts bounds EnsureActive's retries when a concurrent writer wins
// (storage.ErrConflict).
const ensureAttempts = 3

// Manager owns the signing keys of one server node: it creates the first
// keys, decrypts the active ones and serves signing, verification and the
// JWKS document from an immutable in-memory snapshot. It is safe for
// concurrent use.
type Manager struct {
	store storage.Keys
	aead  cipher.AEAD
	// prevAEAD, when set, is the previous key-encryption key: private keys
	// that do not open under aead are tried under it (a KEK change in
	// progress, see WithPreviousKEK). New keys are always sealed under aead.
	prevAEAD cipher.AEAD
	prevKEK  []byte // set by WithPreviousKEK, checked and cleared by NewManager
	logger   *slog.Logger
	now      func() time.Time
	audit    AuditTrail // nil: lifecycle operations refuse (ErrNoAuditTrail)
	policy   Policy

	snap atomic.Pointer[snapshot]
	// reloadMu orders reloads so that a slow one cannot overwrite the
	// snapshot of a newer one. Signing never takes it.
	reloadMu sync.Mutex
}

// Option configures a Manager.
type Option func(*Manager)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(m *Manager) {
		if l != nil {
			m.logger = l
		}
	}
}

// WithClock sets the clock used for key timestamps (default: time.Now).
func WithClock(now func() time.Time) Option {
	return func(m *Manager) {
		if now != nil {
			m.now = now
		}
	}
}

// NewManager returns a Manager over store whose private keys are encrypted
// under kek (32 bytes, see ParseKEK). It holds no keys until Reload.
func NewManager(store storage.Keys, kek []byte, opts ...Option) (*Manager, error) {
	if store == nil {
		return nil, errors.New("keys: nil store")
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		store:  store,
		aead:   aead,
		logger: slog.New(slog.DiscardHandler),
		now:    time.Now,
		policy: Policy{}.withDefaults(),
	}
	for _, opt := range opts {
		opt(m)
	}
	if m.prevKEK != nil {
		prev, err := newAEAD(m.prevKEK)
		clear(m.prevKEK)
		m.prevKEK = nil
		if err != nil {
			return nil, fmt.Errorf("previous key-encryption key: %w", err)
		}
		m.prevAEAD = prev
	}
	m.snap.Store(emptySnapshot())
	return m, nil
}

// WithPreviousKEK lets the manager decrypt private keys that are still
// encrypted under the previous key-encryption key while the KEK changes:
// servers run with the new KEK and the previous one, `strongroom keys
// rewrap` re-encrypts every stored key under the new KEK without a restart,
// then the previous KEK is dropped. Keys the manager generates are always
// encrypted under the current KEK. The KEK must be 32 bytes (NewManager
// fails otherwise); the manager keeps its own copy.
func WithPreviousKEK(kek []byte) Option {
	return func(m *Manager) { m.prevKEK = bytes.Clone(kek) }
}

// openKey decrypts k's private key under the current KEK or, failing that
// with ErrDecrypt, under the previous one (WithPreviousKEK).
func (m *Manager) openKey(k *storage.SigningKey, pub crypto.PublicKey) (crypto.Signer, error) {
	signer, err := openPrivateKey(m.aead, k, pub)
	if err != nil && m.prevAEAD != nil && errors.Is(err, ErrDecrypt) {
		if prev, perr := openPrivateKey(m.prevAEAD, k, pub); perr == nil {
			return prev, nil
		}
	}
	return signer, err
}

// EnsureActive makes sure each of algs has an active key, generating and
// storing one for every algorithm that has none. Several nodes may call it at
// once on first start: keys are generated outside the storage transaction
// and the check is repeated inside UpdateKeys, so exactly one active key per
// algorithm is stored (the others' work is discarded). It does not reload;
// call Reload afterwards.
func (m *Manager) EnsureActive(ctx context.Context, algs ...string) error {
	var want []string
	for _, alg := range algs {
		if _, ok := lookupAlg(alg); !ok {
			return fmt.Errorf("keys: ensure active %q: %w", alg, ErrUnsupportedAlg)
		}
		if !slices.Contains(want, alg) {
			want = append(want, alg)
		}
	}
	existing, err := m.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: ensure active: list keys: %w", err)
	}
	have := activeAlgs(existing)
	var missing []string
	for _, alg := range want {
		if !have[alg] {
			missing = append(missing, alg)
		}
	}
	if len(missing) == 0 {
		return nil
	}

	// Generate outside the transaction: RSA generation takes tens of ms.
	now := m.now().UTC()
	fresh := make(map[string]storage.SigningKey, len(missing))
	for _, alg := range missing {
		k, err := generate(m.aead, alg, now)
		if err != nil {
			return err
		}
		k.State = storage.KeyStateActive
		k.ActivatedAt, k.PublishedAt = &now, &now
		fresh[alg] = *k
	}

	var added []storage.SigningKey
	for attempt := 1; ; attempt++ {
		err = m.store.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
			added = added[:0] // the store may run fn more than once
			have := activeAlgs(keys)
			out := slices.Clone(keys)
			for _, alg := range missing {
				if have[alg] {
					continue // another node won
				}
				out = append(out, fresh[alg])
				added = append(added, fresh[alg])
			}
			if len(added) == 0 {
				return nil, errAlreadyActive
			}
			return out, nil
		})
		if errors.Is(err, storage.ErrConflict) && attempt < ensureAttempts {
			continue
		}
		break
	}
	switch {
	case errors.Is(err, errAlreadyActive):
		m.logger.DebugContext(ctx, "signing keys already created by another node", "algs", missing)
		return nil
	case err != nil:
		return fmt.Errorf("keys: ensure active: %w", err)
	}
	for _, k := range added {
		m.logger.InfoContext(ctx, "created active signing key", "kid", k.KID, "alg", k.Alg)
	}
	return nil
}

func activeAlgs(keys []storage.SigningKey) map[string]bool {
	have := make(map[string]bool)
	for _, k := range keys {
		if k.State == storage.KeyStateActive {
			have[k.Alg] = true
		}
	}
	return have
}

// Reload reads every key from storage and swaps in a new snapshot: the
// active key of each algorithm decrypted for signing, the public keys of all
// next, active and retired keys for verification and the JWKS. Revoked keys
// are left out of both: tokens they signed no longer verify. On error the
// previous snapshot stays in place. A key that does not decrypt (wrong KEK)
// fails the reload with an error naming its kid and wrapping ErrDecrypt.
func (m *Manager) Reload(ctx context.Context) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()

	rows, err := m.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: reload: list keys: %w", err)
	}
	next, err := m.buildSnapshot(ctx, rows)
	if err != nil {
		return fmt.Errorf("keys: reload: %w", err)
	}
	prev := m.snap.Swap(next)
	if !maps.Equal(prev.activeKIDs(), next.activeKIDs()) {
		m.logger.InfoContext(ctx, "signing keys loaded", "active", next.activeKIDs(), "published", len(next.byKID))
	}
	return nil
}

// Watch keeps the snapshot current until ctx ends: it reloads once at the
// start, on every notification on storage.TopicKeys and every interval as a
// fallback (DefaultReloadInterval if interval <= 0). Notifications are
// coalesced and never block the notifier. Reload errors are logged and the
// previous snapshot keeps serving. Run it in its own goroutine.
func (m *Manager) Watch(ctx context.Context, notifier storage.Notifier, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default: // a reload is already pending
		}
	}

	// Subscribe may block for the life of ctx (a LISTEN loop) or return at
	// once (in-process callbacks); run it aside either way. A failed
	// subscription is retried on the next tick.
	subErr := make(chan error, 1)
	subscribe := func() {
		go func() {
			subErr <- notifier.Subscribe(ctx, storage.TopicKeys, func(string) { poke() })
		}()
	}
	subscribing := notifier != nil
	if subscribing {
		subscribe()
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	poke()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-subErr:
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				m.logger.ErrorContext(ctx, "signing keys: subscribe to changes failed; relying on periodic reload", "err", err)
				subscribing = false
			}
		case <-ticker.C:
			if !subscribing && notifier != nil {
				subscribing = true
				subscribe()
			}
			m.reloadLogged(ctx)
		case <-trigger:
			m.reloadLogged(ctx)
		}
	}
}

func (m *Manager) reloadLogged(ctx context.Context) {
	if err := m.Reload(ctx); err != nil && ctx.Err() == nil {
		m.logger.ErrorContext(ctx, "signing keys reload failed; serving previous keys", "err", err)
	}
}

// JWKS returns the JSON Web Key Set document ({"keys":[...]}) with the
// public part of every published key (next, active and retired): kid, alg,
// use "sig" and the key type parameters, never private ones. It is
// serialized at reload; this returns a copy.
func (m *Manager) JWKS() []byte {
	return bytes.Clone(m.snap.Load().jwks)
}

// ActiveKID returns the kid of the active key for alg.
func (m *Manager) ActiveKID(alg string) (string, bool) {
	k, ok := m.snap.Load().active[alg]
	if !ok {
		return "", false
	}
	return k.kid, true
}

// Algorithms lists the algorithms that have an active key, RS256 first: the
// discovery document's id_token_signing_alg_values_supported.
func (m *Manager) Algorithms() []string {
	return slices.Clone(m.snap.Load().algs)
}

// snapshot is an immutable view of the key set. Nothing mutates it after
// buildSnapshot returns.
type snapshot struct {
	active map[string]*signingKey // by alg
	byKID  map[string]*verifyKey  // every published key
	jwks   []byte
	algs   []string
}

type signingKey struct {
	kid         string
	alg         string
	method      josev3.SignatureAlgorithm
	priv        crypto.Signer
	activatedAt time.Time
}

type verifyKey struct {
	alg    string
	method josev3.SignatureAlgorithm
	// key wraps the public key for fosite's parser, which hands it to
	// go-jose v3; the wrapper works for ed25519.PublicKey too, which is
	// not a pointer type.
	key *josev3.JSONWebKey
}

func emptySnapshot() *snapshot {
	return &snapshot{
		active: map[string]*signingKey{},
		byKID:  map[string]*verifyKey{},
		jwks:   []byte(`{"keys":[]}`),
	}
}

func (s *snapshot) activeKIDs() map[string]string {
	out := make(map[string]string, len(s.active))
	for alg, k := range s.active {
		out[alg] = k.kid
	}
	return out
}

var stateRank = map[string]int{
	storage.KeyStateActive:  0,
	storage.KeyStateNext:    1,
	storage.KeyStateRetired: 2,
}

func (m *Manager) buildSnapshot(ctx context.Context, rows []storage.SigningKey) (*snapshot, error) {
	s := &snapshot{
		active: map[string]*signingKey{},
		byKID:  map[string]*verifyKey{},
	}
	type published struct {
		rank int
		jwk  jose.JSONWebKey
	}
	var pubs []published
	for i := range rows {
		row := &rows[i]
		if row.State == storage.KeyStateRevoked {
			continue // neither published nor trusted
		}
		rank, ok := stateRank[row.State]
		if !ok {
			m.logger.WarnContext(ctx, "signing key in unknown state ignored", "kid", row.KID, "state", row.State)
			continue
		}
		if _, dup := s.byKID[row.KID]; dup {
			return nil, fmt.Errorf("key %s: listed twice", row.KID)
		}
		pub, err := parsePublicKey(row)
		if err != nil {
			return nil, err
		}
		spec, _ := lookupAlg(row.Alg) // parsePublicKey checked it
		s.byKID[row.KID] = &verifyKey{
			alg:    row.Alg,
			method: spec.method,
			key:    &josev3.JSONWebKey{Key: pub, KeyID: row.KID, Algorithm: row.Alg, Use: useSig},
		}
		pubs = append(pubs, published{rank, jose.JSONWebKey{Key: pub, KeyID: row.KID, Algorithm: row.Alg, Use: useSig}})

		switch row.State {
		case storage.KeyStateActive:
			priv, err := m.openKey(row, pub)
			if err != nil {
				return nil, err
			}
			k := &signingKey{kid: row.KID, alg: row.Alg, method: spec.method, priv: priv, activatedAt: row.CreatedAt}
			if row.ActivatedAt != nil {
				k.activatedAt = *row.ActivatedAt
			}
			if cur, ok := s.active[row.Alg]; ok {
				m.logger.WarnContext(ctx, "several active signing keys for one algorithm; signing with the newest",
					"alg", row.Alg, "kids", []string{cur.kid, k.kid})
				if !k.activatedAt.After(cur.activatedAt) {
					continue
				}
			}
			s.active[row.Alg] = k
		case storage.KeyStateNext:
			// Not needed yet, but a key that will not decrypt should be
			// found now rather than when a rotation activates it.
			if _, err := m.openKey(row, pub); err != nil {
				m.logger.ErrorContext(ctx, "next signing key is unusable; activating it will fail", "kid", row.KID, "err", err)
			}
		}
	}

	// Active keys first, then next, then retired; storage lists newest first.
	slices.SortStableFunc(pubs, func(a, b published) int { return cmp.Compare(a.rank, b.rank) })
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(pubs))}
	for _, p := range pubs {
		set.Keys = append(set.Keys, p.jwk)
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("marshal JWKS: %w", err)
	}
	s.jwks = jwks

	for _, alg := range algOrder {
		if _, ok := s.active[alg]; ok {
			s.algs = append(s.algs, alg)
		}
	}
	return s, nil
}
