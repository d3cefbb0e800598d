package keys

import (
	"cmp"
	"context"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/authz/usererr"
	"github.com/strongroom/strongroom/storage"
)

// Defaults of Policy.
const (
	// DefaultJWKSCacheLifetime is the max-age of the JWKS document.
	DefaultJWKSCacheLifetime = time.Minute
	// DefaultTokenLifetime matches the default ID token and access token lifetimes.
	DefaultTokenLifetime = 10 * time.Minute
	// DefaultLeeway is the clock skew that verifiers are assumed to allow.
	DefaultLeeway = 5 * time.Minute
)

// PropagationDelay bounds how long after a key change commits every node
// serves it: nodes reload on the storage.TopicKeys notification (LISTEN/NOTIFY)
// within about a second; DefaultReloadInterval is the fallback for a lost one.
// A key must be published for the JWKS cache lifetime plus this delay before
// it signs, and a retired key may still sign on a node that has not reloaded
// for this long.
const PropagationDelay = 5 * time.Second

// Audit actions of the key lifecycle.
const (
	ActionRotate = "key.rotate"
	ActionRevoke = "key.revoke"
	ActionRewrap = "key.rewrap"
	ActionRemove = "key.remove"
)

// ActorAutoRotation is the audit actor of automatic rotation (AutoRotate).
const ActorAutoRotation = "system:key-rotation"

// Lifecycle errors. Operations return them wrapped, with the kid and the
// times involved; the key set is unchanged whenever one is returned.
var (
	// ErrKeyNotFound reports a kid that names no stored key.
	ErrKeyNotFound = errors.New("keys: no such key")
	// ErrNextNotReady reports a next key that has not been published for the
	// JWKS cache lifetime yet: relying parties may not have it cached, so
	// tokens it signed would fail to verify. Wait, or force the rotation.
	ErrNextNotReady = errors.New("keys: next key not published long enough to sign")
	// ErrAlreadyRotated reports that the keys of the algorithm changed between
	// reading them and writing: another rotation (on this or another node,
	// or an operator) got there first.
	ErrAlreadyRotated = errors.New("keys: keys changed concurrently (already rotated)")
	// ErrAlreadyRevoked reports a key that is revoked already.
	ErrAlreadyRevoked = errors.New("keys: key already revoked")
	// ErrNoAuditTrail reports a Manager built without WithAuditTrail: key
	// changes are only made together with their audit event.
	ErrNoAuditTrail = errors.New("keys: no audit trail configured")
	// ErrSameKEK reports a rewrap whose new key-encryption key is the old one.
	ErrSameKEK = errors.New("keys: the new key-encryption key is the old one")
)

// Policy bounds the key life cycle by how long relying parties cache the JWKS
// and how long the tokens the keys sign live. Zero fields take the defaults.
type Policy struct {
	// JWKSCacheLifetime is the max-age of the JWKS document (Cache-Control). A
	// next key signs only after it has been published this long plus
	// PropagationDelay, so that every relying party has it cached.
	JWKSCacheLifetime time.Duration
	// TokenLifetime is the longest lifetime of a token these keys sign: the
	// larger of the ID token and JWT access token lifetimes (refresh tokens and
	// opaque access tokens are not signed).
	TokenLifetime time.Duration
	// Leeway is the clock skew verifiers allow past a token's exp. A retired
	// key is removed TokenLifetime + Leeway (+ PropagationDelay) after it
	// stopped signing.
	Leeway time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.JWKSCacheLifetime <= 0 {
		p.JWKSCacheLifetime = DefaultJWKSCacheLifetime
	}
	if p.TokenLifetime <= 0 {
		p.TokenLifetime = DefaultTokenLifetime
	}
	if p.Leeway <= 0 {
		p.Leeway = DefaultLeeway
	}
	return p
}

// PublishLead is how long a next key must be published before it signs.
func (p Policy) PublishLead() time.Duration {
	return p.withDefaults().JWKSCacheLifetime + PropagationDelay
}

// retention is how long a key stays stored after it stopped signing.
func (p Policy) retention() time.Duration {
	p = p.withDefaults()
	return PropagationDelay + p.TokenLifetime + p.Leeway
}

// ReadyAt is when the next key k may start signing.
func (p Policy) ReadyAt(k *storage.SigningKey) time.Time {
	return publishedAt(k).Add(p.PublishLead())
}

// RemoveAt is when a retired or revoked key may be removed: every token it
// signed has expired. It is the zero time for next and active keys.
func (p Policy) RemoveAt(k *storage.SigningKey) time.Time {
	switch {
	case k.State == storage.KeyStateRevoked && k.RevokedAt != nil:
		return k.RevokedAt.Add(p.retention())
	case k.State == storage.KeyStateRetired && k.RetiredAt != nil:
		return k.RetiredAt.Add(p.retention())
	case k.State == storage.KeyStateRetired || k.State == storage.KeyStateRevoked:
		return k.CreatedAt.Add(p.retention()) // no timestamp: judge by age
	}
	return time.Time{}
}

func publishedAt(k *storage.SigningKey) time.Time {
	if k.PublishedAt != nil {
		return *k.PublishedAt
	}
	return k.CreatedAt
}

// AuditTrail is where lifecycle operations record their events: in the same
// transaction as the key change (storage.Store satisfies it).
type AuditTrail interface {
	storage.Audit
	storage.Transactor
}

// WithAuditTrail makes lifecycle operations (Rotate, Revoke, Rewrap,
// AutoRotate) possible: each records an audit event in the transaction that
// changes the keys.
func WithAuditTrail(a AuditTrail) Option {
	return func(m *Manager) { m.audit = a }
}

// WithPolicy sets the lifecycle policy (default: the Policy defaults).
func WithPolicy(p Policy) Option {
	return func(m *Manager) { m.policy = p.withDefaults() }
}

// Policy returns the manager's lifecycle policy, defaults applied.
func (m *Manager) Policy() Policy { return m.policy }

// Origin says who asked for a lifecycle change, for the audit trail.
type Origin struct {
	Actor string // "operator:alice", "client:<id>", ActorAutoRotation
	// Source is the audit event's "source" detail: "cli", "admin-api" or
	// "server" (authz/admin's SourceCLI, SourceAdminAPI, SourceServer).
	Source    string
	SourceIP  string
	UserAgent string
}

// RotateOptions modify Rotate.
type RotateOptions struct {
	// Force activates a next key that has not been published for the JWKS
	// cache lifetime yet, or a fresh key when there is no next key
	// (emergencies: relying parties that cached the JWKS refetch it when they
	// meet the unknown kid, if they do at all).
	Force  bool
	Origin Origin
}

// RotateResult describes what Rotate did.
type RotateResult struct {
	Alg string
	// Activated is the key that signs now ("" when Rotate only published a
	// next key because there was none).
	Activated string
	// Retired is the key that stopped signing ("" if there was none).
	Retired string
	// Next is the key published for the following rotation, and NextReadyAt
	// when it may sign.
	Next        string
	NextReadyAt time.Time
	// Removed lists the retired and revoked keys removed because every
	// token they signed has expired.
	Removed []string
	Forced  bool
}

// algView is what one algorithm's keys look like: its active and next key.
type algView struct{ active, next string }

func viewOf(keys []storage.SigningKey, alg string) algView {
	var v algView
	for _, k := range keys {
		if k.Alg != alg {
			continue
		}
		switch k.State {
		case storage.KeyStateActive:
			if v.active == "" {
				v.active = k.KID
			} else {
				v.active += "," + k.KID // several: any change shows
			}
		case storage.KeyStateNext:
			if v.next == "" {
				v.next = k.KID
			} else {
				v.next += "," + k.KID
			}
		}
	}
	return v
}

// Rotate moves the keys of alg one step: the next key becomes active (if it
// has been published for Policy.PublishLead, unless opts.Force), the active
// key is retired, a fresh next key is published, and retired or revoked keys
// of any algorithm whose tokens have all expired are removed. Without a next
// key it only publishes one (unless forced), so that the following rotation
// can activate it once relying parties have it cached.
//
// Concurrent rotations are safe: the fresh key is generated outside the
// storage transaction and the key set is read again inside it (under
// UpdateKeys' lock); if the algorithm's keys changed meanwhile, Rotate returns
// ErrAlreadyRotated and changes nothing. The change and its audit event
// (ActionRotate) commit together; every node picks the change up through
// storage.TopicKeys.
func (m *Manager) Rotate(ctx context.Context, alg string, opts RotateOptions) (*RotateResult, error) {
	res, err := m.RotateAlgs(ctx, []string{alg}, opts)
	if err != nil {
		return nil, err
	}
	return &res[0], nil
}

// RotateAlgs rotates the keys of every algorithm in algs as Rotate does, in
// one transaction: either every algorithm rotates or none does.
func (m *Manager) RotateAlgs(ctx context.Context, algs []string, opts RotateOptions) ([]RotateResult, error) {
	res, err := m.rotate(ctx, algs, opts, nil)
	if err != nil {
		m.auditFailure(ctx, opts.Origin, ActionRotate, "", err, map[string]string{"alg": strings.Join(algs, ",")})
		return nil, fmt.Errorf("keys: rotate %s: %w", strings.Join(algs, ", "), err)
	}
	return res, nil
}

// rotate is RotateAlgs. expect, when set, holds the views the caller based
// its decision on (AutoRotate): the rotation happens only if they still hold.
func (m *Manager) rotate(ctx context.Context, algs []string, opts RotateOptions, expect map[string]algView) ([]RotateResult, error) {
	if m.audit == nil {
		return nil, ErrNoAuditTrail
	}
	if len(algs) == 0 {
		return nil, errors.New("no algorithm to rotate")
	}
	for i, alg := range algs {
		if _, ok := lookupAlg(alg); !ok {
			return nil, fmt.Errorf("%q: %w", alg, ErrUnsupportedAlg)
		}
		if slices.Contains(algs[:i], alg) {
			return nil, fmt.Errorf("%s named twice", alg)
		}
	}
	rows, err := m.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	observed := make(map[string]algView, len(algs))
	fresh := make(map[string]*storage.SigningKey, len(algs))
	for _, alg := range algs {
		observed[alg] = viewOf(rows, alg)
		if want, ok := expect[alg]; expect != nil && (!ok || want != observed[alg]) {
			return nil, fmt.Errorf("%s: %w", alg, ErrAlreadyRotated)
		}
		// A key generated under a KEK that cannot open the existing keys
		// would be unusable on every server: check the KEK first.
		if err := m.checkKEK(rows, alg); err != nil {
			return nil, err
		}
		// Generate outside the transaction: RSA generation takes tens of ms.
		if fresh[alg], err = generate(m.aead, alg, m.now()); err != nil {
			return nil, err
		}
	}

	var results []RotateResult
	err = storage.InTx(ctx, m.audit, func(ctx context.Context) error {
		err := m.store.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
			results = results[:0] // fn may run again
			now := m.now().UTC()
			out := slices.Clone(keys)
			for _, alg := range algs {
				if viewOf(out, alg) != observed[alg] {
					return nil, fmt.Errorf("%s: %w", alg, ErrAlreadyRotated)
				}
				res, err := m.rotateAlg(out, alg, *fresh[alg], opts.Force, now)
				if err != nil {
					return nil, err
				}
				out = append(out, res.fresh)
				results = append(results, res.RotateResult)
			}
			var removed []string
			out, removed = m.prune(out, now)
			for i := range results {
				results[i].Removed = removed // every result names them, for the caller's convenience
			}
			return out, nil
		})
		if err != nil {
			return err
		}
		for i, res := range results {
			target := cmp.Or(res.Activated, res.Next)
			details := map[string]string{
				"alg": res.Alg, "activated": res.Activated, "retired": res.Retired, "next": res.Next,
				"forced": strconv.FormatBool(res.Forced),
			}
			if i == 0 {
				details["removed"] = strings.Join(res.Removed, ",")
			}
			if err := m.appendAudit(ctx, opts.Origin, &storage.AuditEvent{Action: ActionRotate, Target: target, Details: details}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		m.logger.InfoContext(ctx, "signing keys rotated", "alg", res.Alg, "activated", res.Activated,
			"retired", res.Retired, "next", res.Next, "removed", res.Removed, "forced", res.Forced, "actor", opts.Origin.Actor)
	}
	return results, nil
}

// rotated is one algorithm's rotation inside the transaction.
type rotated struct {
	RotateResult
	fresh storage.SigningKey // the fresh key, in its new state
}

// rotateAlg moves the keys of alg in out one step (in place) and returns the
// fresh key to add.
func (m *Manager) rotateAlg(out []storage.SigningKey, alg string, fresh storage.SigningKey, force bool, now time.Time) (rotated, error) {
	res := rotated{RotateResult: RotateResult{Alg: alg, Forced: force}}
	var next, active *storage.SigningKey
	for i := range out {
		switch k := &out[i]; {
		case k.Alg != alg:
		case k.State == storage.KeyStateNext:
			next = k
		case k.State == storage.KeyStateActive:
			active = k
		}
	}
	fresh.CreatedAt, fresh.PublishedAt = now, &now
	switch {
	case next != nil:
		if readyAt := m.policy.ReadyAt(next); now.Before(readyAt) && !force {
			cause := fmt.Errorf("%w: %s next key %s was published %s ago and may sign from %s (JWKS cache lifetime %s + propagation %s)",
				ErrNextNotReady, alg, next.KID, now.Sub(publishedAt(next)).Round(time.Second),
				readyAt.Format(time.RFC3339), m.policy.JWKSCacheLifetime, PropagationDelay)
			return res, usererr.New(cause,
				fmt.Sprintf("The next %s key %s was published %s ago and may sign from %s (JWKS cache lifetime %s + propagation %s); nothing was changed.",
					alg, next.KID, now.Sub(publishedAt(next)).Round(time.Second), readyAt.Format(time.RFC3339), m.policy.JWKSCacheLifetime, PropagationDelay),
				"Rotate again then, or force the rotation in an emergency.")
		}
		if err := m.canSign(next); err != nil {
			return res, err
		}
		next.State, next.ActivatedAt = storage.KeyStateActive, &now
		res.Activated = next.KID
		fresh.State = storage.KeyStateNext
	case force:
		fresh.State, fresh.ActivatedAt = storage.KeyStateActive, &now
		res.Activated = fresh.KID
	default:
		fresh.State = storage.KeyStateNext
	}
	if res.Activated != "" && active != nil {
		active.State, active.RetiredAt = storage.KeyStateRetired, &now
		res.Retired = active.KID
	}
	if fresh.State == storage.KeyStateNext {
		res.Next, res.NextReadyAt = fresh.KID, m.policy.ReadyAt(&fresh)
	}
	res.fresh = fresh
	return res, nil
}

// prune drops retired and revoked keys whose tokens have all expired.
func (m *Manager) prune(keys []storage.SigningKey, now time.Time) (kept []storage.SigningKey, removed []string) {
	for _, k := range keys {
		if at := m.policy.RemoveAt(&k); !at.IsZero() && !now.Before(at) {
			removed = append(removed, k.KID)
			continue
		}
		kept = append(kept, k)
	}
	return kept, removed
}

// Prune removes retired and revoked keys whose tokens have all expired,
// recording one ActionRemove event per key, and returns their kids.
func (m *Manager) Prune(ctx context.Context, origin Origin) ([]string, error) {
	if m.audit == nil {
		return nil, ErrNoAuditTrail
	}
	var removed []string
	err := storage.InTx(ctx, m.audit, func(ctx context.Context) error {
		removed = nil
		err := m.store.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
			var kept []storage.SigningKey
			kept, removed = m.prune(slices.Clone(keys), m.now().UTC())
			if len(removed) == 0 {
				return nil, errNothingToDo
			}
			return kept, nil
		})
		if err != nil {
			return err
		}
		for _, kid := range removed {
			if err := m.appendAudit(ctx, origin, &storage.AuditEvent{Action: ActionRemove, Target: kid}); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errNothingToDo):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("keys: remove expired keys: %w", err)
	}
	if len(removed) > 0 {
		m.logger.InfoContext(ctx, "expired signing keys removed", "kids", removed)
	}
	return removed, nil
}

// errNothingToDo aborts an UpdateKeys transaction that would change nothing.
var errNothingToDo = errors.New("keys: nothing to do")

// RevokeResult describes what Revoke did.
type RevokeResult struct {
	KID, Alg string
	// PreviousState is the state the key was in.
	PreviousState string
	// Activated is the key that signs for Alg instead, when the revoked key
	// was active: the next key, or a fresh one if there was none.
	Activated string
	// Next is a fresh next key published when the next key was activated.
	Next string
}

// Revoke withdraws a key at once (an emergency: the key is compromised). It
// leaves the JWKS and stops verifying on every node within PropagationDelay,
// so ID tokens and JWT access tokens it signed are refused (introspection
// answers active:false). If it was the active key of its algorithm, the
// next key is activated immediately (or a fresh key if there is none) and a
// fresh next key published, so that signing continues. The row is kept in
// state revoked, for the record, until Policy.RemoveAt. The change and its
// audit event (ActionRevoke) commit together.
func (m *Manager) Revoke(ctx context.Context, kid string, origin Origin) (*RevokeResult, error) {
	res, err := m.revoke(ctx, kid, origin)
	if err != nil {
		m.auditFailure(ctx, origin, ActionRevoke, kid, err, nil)
		return nil, fmt.Errorf("keys: revoke %q: %w", kid, err)
	}
	return res, nil
}

func (m *Manager) revoke(ctx context.Context, kid string, origin Origin) (*RevokeResult, error) {
	if m.audit == nil {
		return nil, ErrNoAuditTrail
	}
	rows, err := m.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	i := slices.IndexFunc(rows, func(k storage.SigningKey) bool { return k.KID == kid })
	if i < 0 {
		return nil, ErrKeyNotFound
	}
	target := rows[i]
	if target.State == storage.KeyStateRevoked {
		return nil, ErrAlreadyRevoked
	}
	// Replacing an active key needs one fresh key (activated when there is
	// no next key, published as the next key otherwise).
	var fresh *storage.SigningKey
	if target.State == storage.KeyStateActive {
		if err := m.checkKEK(rows, target.Alg); err != nil {
			return nil, err
		}
		if fresh, err = generate(m.aead, target.Alg, m.now()); err != nil {
			return nil, err
		}
	}

	var res *RevokeResult
	err = m.inAuditedTx(ctx, func(ctx context.Context) (*storage.AuditEvent, error) {
		err := m.store.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
			out := slices.Clone(keys)
			i := slices.IndexFunc(out, func(k storage.SigningKey) bool { return k.KID == kid })
			switch {
			case i < 0:
				return nil, ErrKeyNotFound
			case out[i].State == storage.KeyStateRevoked:
				return nil, ErrAlreadyRevoked
			case out[i].State != target.State:
				return nil, ErrAlreadyRotated
			}
			now := m.now().UTC()
			k := &out[i]
			res = &RevokeResult{KID: kid, Alg: k.Alg, PreviousState: k.State}
			k.State, k.RevokedAt = storage.KeyStateRevoked, &now
			if res.PreviousState != storage.KeyStateActive {
				return out, nil
			}
			newKey := *fresh
			newKey.CreatedAt, newKey.PublishedAt = now, &now
			j := slices.IndexFunc(out, func(n storage.SigningKey) bool {
				return n.Alg == res.Alg && n.State == storage.KeyStateNext
			})
			if j >= 0 && m.canSign(&out[j]) == nil {
				out[j].State, out[j].ActivatedAt = storage.KeyStateActive, &now
				res.Activated = out[j].KID
				newKey.State = storage.KeyStateNext
				res.Next = newKey.KID
			} else {
				// No usable next key: a fresh key signs at once.
				newKey.State, newKey.ActivatedAt = storage.KeyStateActive, &now
				res.Activated = newKey.KID
			}
			return append(out, newKey), nil
		})
		if err != nil {
			return nil, err
		}
		return &storage.AuditEvent{Action: ActionRevoke, Target: kid, Details: map[string]string{
			"alg": res.Alg, "previous_state": res.PreviousState, "activated": res.Activated, "next": res.Next,
		}}, nil
	}, origin)
	if err != nil {
		return nil, err
	}
	m.logger.WarnContext(ctx, "signing key revoked", "kid", kid, "alg", res.Alg, "previous_state", res.PreviousState,
		"activated", res.Activated, "actor", origin.Actor)
	return res, nil
}

// Rewrap re-encrypts every stored private key from oldKEK to newKEK in one
// transaction: each key is decrypted under oldKEK and checked against its
// public key before anything is written, so a wrong oldKEK (or one corrupted
// row) changes nothing. progress, when set, is called after each key with the
// count done and the total. It returns the number of keys processed. A key
// that already opens under newKEK (generated by a server that runs with the
// new KEK and the previous one, WithPreviousKEK) is left as it is. Servers
// that run with newKEK and oldKEK as the previous KEK keep loading keys
// across a rewrap; servers that run with oldKEK only keep signing from
// memory but their reloads fail (logged) until they are restarted.
func (m *Manager) Rewrap(ctx context.Context, oldKEK, newKEK []byte, origin Origin, progress func(done, total int)) (int, error) {
	n, err := m.rewrap(ctx, oldKEK, newKEK, origin, progress)
	if err != nil {
		m.auditFailure(ctx, origin, ActionRewrap, "", err, nil)
		return 0, fmt.Errorf("keys: rewrap: %w", err)
	}
	return n, nil
}

func (m *Manager) rewrap(ctx context.Context, oldKEK, newKEK []byte, origin Origin, progress func(done, total int)) (int, error) {
	if m.audit == nil {
		return 0, ErrNoAuditTrail
	}
	oldAEAD, err := newAEAD(oldKEK)
	if err != nil {
		return 0, fmt.Errorf("old key-encryption key: %w", err)
	}
	newAEAD, err := newAEAD(newKEK)
	if err != nil {
		return 0, fmt.Errorf("new key-encryption key: %w", err)
	}
	if subtle.ConstantTimeCompare(oldKEK, newKEK) == 1 {
		return 0, ErrSameKEK
	}
	var n int
	err = m.inAuditedTx(ctx, func(ctx context.Context) (*storage.AuditEvent, error) {
		err := m.store.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
			out := slices.Clone(keys)
			already := 0
			for i := range out {
				enc, done, err := reseal(oldAEAD, newAEAD, &out[i])
				if err != nil {
					return nil, err
				}
				if done {
					already++
				}
				out[i].PrivateEnc = enc // unchanged when already under newKEK
				if progress != nil {
					progress(i+1, len(out))
				}
			}
			if len(out) > 0 && already == len(out) {
				// Nothing opens under the old KEK: most likely the two are
				// swapped, and the servers would be told to drop the KEK
				// the keys are actually under.
				return nil, fmt.Errorf("%w: no key is encrypted under the old key-encryption key (old and new swapped, or rewrapped already?)", ErrDecrypt)
			}
			n = len(out)
			return out, nil
		})
		if err != nil {
			return nil, err
		}
		return &storage.AuditEvent{Action: ActionRewrap, Details: map[string]string{"keys": strconv.Itoa(n)}}, nil
	}, origin)
	if err != nil {
		return 0, err
	}
	m.logger.InfoContext(ctx, "signing keys re-encrypted under a new key-encryption key", "keys", n, "actor", origin.Actor)
	return n, nil
}

// reseal decrypts k's private key under from, checks it against the public
// key and encrypts it under to. A key that does not open under from but
// does under to is returned as it is, with already set (generated under the
// new KEK by a server running with both).
func reseal(from, to cipher.AEAD, k *storage.SigningKey) (enc []byte, already bool, err error) {
	pub, err := parsePublicKey(k)
	if err != nil {
		return nil, false, err
	}
	if _, err := openPrivateKey(from, k, pub); err != nil {
		if errors.Is(err, ErrDecrypt) {
			if _, nerr := openPrivateKey(to, k, pub); nerr == nil {
				return k.PrivateEnc, true, nil
			}
		}
		return nil, false, err
	}
	der, err := open(from, k.KID, k.PrivateEnc)
	if err != nil {
		return nil, false, fmt.Errorf("key %s: %w", k.KID, err)
	}
	defer clear(der)
	enc, err = seal(to, k.KID, der)
	if err != nil {
		return nil, false, fmt.Errorf("key %s: %w", k.KID, err)
	}
	check, err := open(to, k.KID, enc)
	if err != nil {
		return nil, false, fmt.Errorf("key %s: re-encrypted key does not decrypt: %w", k.KID, err)
	}
	defer clear(check)
	if subtle.ConstantTimeCompare(check, der) != 1 {
		return nil, false, fmt.Errorf("key %s: re-encrypted key differs", k.KID)
	}
	return enc, false, nil
}

// canSign checks that the manager can use k's private key.
func (m *Manager) canSign(k *storage.SigningKey) error {
	pub, err := parsePublicKey(k)
	if err != nil {
		return err
	}
	_, err = m.openKey(k, pub)
	return err
}

// checkKEK refuses to add keys under the manager's KEK when it cannot open
// the keys of alg that are stored already (a wrong STRONGROOM_KEK).
func (m *Manager) checkKEK(rows []storage.SigningKey, alg string) error {
	for i := range rows {
		k := &rows[i]
		if k.Alg == alg && (k.State == storage.KeyStateActive || k.State == storage.KeyStateNext) {
			if err := m.canSign(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// inAuditedTx runs fn in a transaction and appends the event it returns.
func (m *Manager) inAuditedTx(ctx context.Context, fn func(ctx context.Context) (*storage.AuditEvent, error), origin Origin) error {
	return storage.InTx(ctx, m.audit, func(ctx context.Context) error {
		ev, err := fn(ctx)
		if err != nil {
			return err
		}
		return m.appendAudit(ctx, origin, ev)
	})
}

func (m *Manager) appendAudit(ctx context.Context, origin Origin, ev *storage.AuditEvent) error {
	ev.Time = m.now().UTC()
	ev.Actor, ev.SourceIP, ev.UserAgent = origin.Actor, origin.SourceIP, origin.UserAgent
	if origin.Source != "" {
		if ev.Details == nil {
			ev.Details = map[string]string{}
		}
		ev.Details["source"] = origin.Source
	}
	if ev.Outcome == "" {
		ev.Outcome = storage.OutcomeSuccess
	}
	for k, v := range ev.Details {
		if v == "" {
			delete(ev.Details, k)
		}
	}
	if err := m.audit.AppendAudit(ctx, ev); err != nil {
		return fmt.Errorf("audit %s: %w", ev.Action, err)
	}
	return nil
}

// auditMessage is what an audit event says of a failure: the user-facing
// sentence, never the chain of wrapped errors (which goes to the caller's
// log).
func auditMessage(cause error) string {
	switch ue := Explain(cause); {
	case ue != nil:
		return ue.Message
	case errors.Is(cause, storage.ErrUnavailable):
		return "The database was unavailable; nothing was changed."
	case errors.Is(cause, storage.ErrConflict):
		return "A concurrent change collided with this one; nothing was changed."
	}
	return "The operation failed unexpectedly; nothing was changed (the cause is in the log of the process that ran it)."
}

// auditFailure records a refused operator action (best effort: the refusal
// itself is what the caller reports). Automatic rotation's routine refusals
// are not recorded.
func (m *Manager) auditFailure(ctx context.Context, origin Origin, action, target string, cause error, details map[string]string) {
	if m.audit == nil || origin.Actor == "" || origin.Actor == ActorAutoRotation || errors.Is(cause, ErrNoAuditTrail) {
		return
	}
	d := map[string]string{"error": auditMessage(cause)}
	for k, v := range details {
		d[k] = v
	}
	ev := &storage.AuditEvent{Action: action, Target: target, Outcome: storage.OutcomeFailure, Details: d}
	if err := m.appendAudit(context.WithoutCancel(ctx), origin, ev); err != nil {
		m.logger.WarnContext(ctx, "cannot record failed key operation in the audit trail", "action", action, "err", err)
	}
}
