package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// testPolicy: a next key may sign 1 min + PropagationDelay after it is
// published; a retired key is removed 5 s + 10 min + 1 min after it retired.
var testPolicy = Policy{JWKSCacheLifetime: time.Minute, TokenLifetime: 10 * time.Minute, Leeway: time.Minute}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testNow} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// listBarrierStore makes the first calls to ListKeys wait for each other in
// groups of n after reading, so that concurrent operations all read before
// any writes.
type listBarrierStore struct {
	storage.Store
	n        int
	calls    atomic.Int64
	barriers []*barrier
}

func withListBarriers(s storage.Store, n, groups int) *listBarrierStore {
	b := &listBarrierStore{Store: s, n: n}
	for range groups {
		b.barriers = append(b.barriers, newBarrier(n))
	}
	return b
}

func (s *listBarrierStore) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	keys, err := s.Store.ListKeys(ctx)
	if i := int(s.calls.Add(1)-1) / s.n; i < len(s.barriers) {
		s.barriers[i].wait()
	}
	return keys, err
}

// lifecycleManager returns a manager with an audit trail over store.
func lifecycleManager(t testing.TB, store storage.Store, kek []byte, clk *clock, opts ...Option) *Manager {
	t.Helper()
	opts = append([]Option{WithAuditTrail(store), WithPolicy(testPolicy), WithClock(clk.now)}, opts...)
	return newTestManager(t, store, kek, opts...)
}

var operator = Origin{Actor: "operator:test", UserAgent: "strongroom-cli"}

func listKeys(t testing.TB, s storage.Keys) []storage.SigningKey {
	t.Helper()
	keys, err := s.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func keyByKID(t testing.TB, keys []storage.SigningKey, kid string) storage.SigningKey {
	t.Helper()
	for _, k := range keys {
		if k.KID == kid {
			return k
		}
	}
	t.Fatalf("no key %q in %v", kid, kidsOf(keys))
	return storage.SigningKey{}
}

func kidsOf(keys []storage.SigningKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.KID+"/"+k.Alg+"/"+k.State)
	}
	return out
}

// sameKeys fails unless the key sets are identical (private ciphertexts included).
func sameKeys(t testing.TB, got, want []storage.SigningKey) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keys changed:\n got %v\nwant %v", kidsOf(got), kidsOf(want))
	}
}

func auditEvents(t testing.TB, s storage.Audit, action string) []storage.AuditEvent {
	t.Helper()
	evs, err := s.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// seed stores rows in the memory store.
func seed(t testing.TB, s storage.Store, rows ...storage.SigningKey) {
	t.Helper()
	for i := range rows {
		if err := s.CreateKey(context.Background(), &rows[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// signWith signs an ID token with the active key of alg.
func signWith(t testing.TB, m *Manager, alg string) string {
	t.Helper()
	token, _, err := m.Signer(alg).Generate(context.Background(), idTokenClaims(time.Now().Add(time.Hour)), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func reload(t testing.TB, m *Manager) {
	t.Helper()
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func jwksKIDs(t testing.TB, m *Manager) []string {
	t.Helper()
	var doc struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(m.JWKS(), &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range doc.Keys {
		out = append(out, k.KID)
	}
	slices.Sort(out)
	return out
}

func TestPolicy(t *testing.T) {
	p := Policy{}.withDefaults()
	if p.JWKSCacheLifetime != DefaultJWKSCacheLifetime || p.TokenLifetime != DefaultTokenLifetime || p.Leeway != DefaultLeeway {
		t.Fatalf("defaults %+v", p)
	}
	at := testNow
	k := storage.SigningKey{CreatedAt: at.Add(-time.Hour), PublishedAt: &at, State: storage.KeyStateNext}
	if got := testPolicy.ReadyAt(&k); !got.Equal(at.Add(time.Minute + PropagationDelay)) {
		t.Errorf("ReadyAt = %v", got)
	}
	k.PublishedAt = nil // legacy row: published when created
	if got := testPolicy.ReadyAt(&k); !got.Equal(at.Add(-time.Hour + time.Minute + PropagationDelay)) {
		t.Errorf("ReadyAt without PublishedAt = %v", got)
	}
	if !testPolicy.RemoveAt(&k).IsZero() {
		t.Error("a next key has a removal time")
	}
	k.State, k.RetiredAt = storage.KeyStateRetired, &at
	if got := testPolicy.RemoveAt(&k); !got.Equal(at.Add(PropagationDelay + 11*time.Minute)) {
		t.Errorf("RemoveAt(retired) = %v", got)
	}
	k.State, k.RevokedAt = storage.KeyStateRevoked, ptrTime(at.Add(time.Hour))
	if got := testPolicy.RemoveAt(&k); !got.Equal(at.Add(time.Hour + PropagationDelay + 11*time.Minute)) {
		t.Errorf("RemoveAt(revoked) = %v", got)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestRotate(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)

	// setup: a store with one active ES256 key, made by EnsureActive.
	setup := func(t *testing.T) (*memory.Store, *Manager, *clock, string) {
		store, clk := memory.New(), newClock()
		m := lifecycleManager(t, store, kek, clk)
		if err := m.EnsureActive(ctx, ES256); err != nil {
			t.Fatal(err)
		}
		reload(t, m)
		active, _ := m.ActiveKID(ES256)
		return store, m, clk, active
	}

	t.Run("ok/without-next-publishes-one-and-keeps-active", func(t *testing.T) {
		store, m, _, active := setup(t)
		res, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		if res.Activated != "" || res.Retired != "" || res.Next == "" || !res.NextReadyAt.Equal(testNow.Add(time.Minute+PropagationDelay)) {
			t.Fatalf("result %+v", res)
		}
		keys := listKeys(t, store)
		if len(keys) != 2 || keyByKID(t, keys, active).State != storage.KeyStateActive {
			t.Fatalf("keys %v", kidsOf(keys))
		}
		next := keyByKID(t, keys, res.Next)
		if next.State != storage.KeyStateNext || next.PublishedAt == nil || !next.PublishedAt.Equal(testNow) || next.ActivatedAt != nil {
			t.Fatalf("next key %+v", next)
		}
		reload(t, m)
		if kid, _ := m.ActiveKID(ES256); kid != active {
			t.Error("publishing a next key changed the signing key")
		}
		if got := jwksKIDs(t, m); !slices.Equal(got, slices.Sorted(slices.Values([]string{active, res.Next}))) {
			t.Errorf("JWKS %v, want the active and the next key", got)
		}
		evs := auditEvents(t, store, ActionRotate)
		if len(evs) != 1 || evs[0].Actor != operator.Actor || evs[0].Target != res.Next || evs[0].Outcome != storage.OutcomeSuccess ||
			evs[0].Details["alg"] != ES256 || evs[0].Details["next"] != res.Next || evs[0].UserAgent != operator.UserAgent {
			t.Fatalf("audit %+v", evs)
		}
	})

	t.Run("fail/next-not-published-long-enough-changes-nothing", func(t *testing.T) {
		store, m, clk, _ := setup(t)
		if _, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator}); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Minute) // 5 s short of the lead
		before := listKeys(t, store)
		_, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator})
		if !errors.Is(err, ErrNextNotReady) {
			t.Fatalf("err = %v, want ErrNextNotReady", err)
		}
		if !strings.Contains(err.Error(), testNow.Add(time.Minute+PropagationDelay).Format(time.RFC3339)) {
			t.Errorf("error does not say when the key may sign: %v", err)
		}
		sameKeys(t, listKeys(t, store), before)
		evs := auditEvents(t, store, ActionRotate)
		if len(evs) != 2 || evs[0].Outcome != storage.OutcomeFailure || !strings.Contains(evs[0].Details["error"], "published") {
			t.Fatalf("refusal not audited as a failure: %+v", evs)
		}
	})

	t.Run("ok/one-step-for-each-state", func(t *testing.T) {
		store, m, clk, oldActive := setup(t)
		oldToken := signWith(t, m, ES256)
		prep, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Minute + PropagationDelay)
		res, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		now := clk.now()
		if res.Activated != prep.Next || res.Retired != oldActive || res.Next == "" || res.Next == prep.Next || len(res.Removed) != 0 {
			t.Fatalf("result %+v (prepared %s, old active %s)", res, prep.Next, oldActive)
		}
		keys := listKeys(t, store)
		if len(keys) != 3 {
			t.Fatalf("keys %v", kidsOf(keys))
		}
		if k := keyByKID(t, keys, oldActive); k.State != storage.KeyStateRetired || k.RetiredAt == nil || !k.RetiredAt.Equal(now) {
			t.Errorf("old active key %+v", k)
		}
		if k := keyByKID(t, keys, res.Activated); k.State != storage.KeyStateActive || k.ActivatedAt == nil || !k.ActivatedAt.Equal(now) {
			t.Errorf("activated key %+v", k)
		}
		if k := keyByKID(t, keys, res.Next); k.State != storage.KeyStateNext || !k.PublishedAt.Equal(now) {
			t.Errorf("new next key %+v", k)
		}

		reload(t, m)
		if kid, _ := m.ActiveKID(ES256); kid != res.Activated {
			t.Fatalf("signing with %s, want %s", kid, res.Activated)
		}
		if kid := tokenHeader(t, signWith(t, m, ES256))["kid"]; kid != res.Activated {
			t.Errorf("new token kid %v", kid)
		}
		if _, err := m.Signer(ES256).Validate(ctx, oldToken); err != nil {
			t.Errorf("token signed before the rotation no longer verifies: %v", err)
		}
		if got := jwksKIDs(t, m); len(got) != 3 {
			t.Errorf("JWKS %v, want retired, active and next", got)
		}
	})

	t.Run("ok/force-activates-a-young-next-key", func(t *testing.T) {
		store, m, _, oldActive := setup(t)
		prep, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		if res.Activated != prep.Next || res.Retired != oldActive || !res.Forced {
			t.Fatalf("result %+v", res)
		}
		if evs := auditEvents(t, store, ActionRotate); evs[0].Details["forced"] != "true" {
			t.Errorf("audit does not say forced: %+v", evs[0])
		}
	})

	t.Run("ok/force-without-next-activates-a-fresh-key", func(t *testing.T) {
		store, m, _, oldActive := setup(t)
		res, err := m.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		if res.Activated == "" || res.Activated == oldActive || res.Retired != oldActive || res.Next != "" {
			t.Fatalf("result %+v", res)
		}
		if k := keyByKID(t, listKeys(t, store), res.Activated); k.State != storage.KeyStateActive {
			t.Fatalf("fresh key %+v", k)
		}
	})

	t.Run("ok/removes-retired-keys-once-their-tokens-expired", func(t *testing.T) {
		store, m, clk, first := setup(t)
		if _, err := m.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator}); err != nil {
			t.Fatal(err)
		}
		// first retired now; removable after 5 s + 10 min + 1 min.
		clk.advance(11 * time.Minute)
		res, err := m.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Removed) != 0 {
			t.Fatalf("removed %v before every token it signed expired", res.Removed)
		}
		keyByKID(t, listKeys(t, store), first)
		clk.advance(PropagationDelay)
		res, err = m.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Removed, []string{first}) {
			t.Fatalf("removed %v, want %s", res.Removed, first)
		}
		for _, k := range listKeys(t, store) {
			if k.KID == first {
				t.Fatal("expired retired key still stored")
			}
		}
	})

	t.Run("ok/other-algorithms-untouched", func(t *testing.T) {
		store, m, _, _ := setup(t)
		if err := m.EnsureActive(ctx, EdDSA); err != nil {
			t.Fatal(err)
		}
		before := listKeys(t, store)
		if _, err := m.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator}); err != nil {
			t.Fatal(err)
		}
		ed := firstInState(before, EdDSA, storage.KeyStateActive)
		if got := keyByKID(t, listKeys(t, store), ed.KID); !reflect.DeepEqual(got, *ed) {
			t.Errorf("EdDSA key changed: %+v", got)
		}
	})

	t.Run("ok/several-algorithms-all-or-nothing", func(t *testing.T) {
		store, m, clk, _ := setup(t)
		if err := m.EnsureActive(ctx, EdDSA); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Rotate(ctx, ES256, RotateOptions{Origin: operator}); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Hour)
		if _, err := m.Rotate(ctx, EdDSA, RotateOptions{Origin: operator}); err != nil {
			t.Fatal(err)
		}
		// ES256's next key is ready, EdDSA's is not: neither rotates.
		before := listKeys(t, store)
		if _, err := m.RotateAlgs(ctx, []string{ES256, EdDSA}, RotateOptions{Origin: operator}); !errors.Is(err, ErrNextNotReady) {
			t.Fatalf("err = %v, want ErrNextNotReady", err)
		}
		sameKeys(t, listKeys(t, store), before)
		clk.advance(testPolicy.PublishLead())
		res, err := m.RotateAlgs(ctx, []string{ES256, EdDSA}, RotateOptions{Origin: operator})
		if err != nil || len(res) != 2 || res[0].Alg != ES256 || res[1].Alg != EdDSA || res[0].Activated == "" || res[1].Activated == "" {
			t.Fatalf("RotateAlgs = %+v, %v", res, err)
		}
		if _, err := m.RotateAlgs(ctx, []string{ES256, ES256}, RotateOptions{Origin: operator}); err == nil {
			t.Error("an algorithm named twice was accepted")
		}
	})

	t.Run("fail/bad-input-changes-nothing", func(t *testing.T) {
		for name, tc := range map[string]struct {
			alg     string
			manager func(store *memory.Store, clk *clock) *Manager
			want    error
		}{
			"unsupported-alg": {alg: "HS256", want: ErrUnsupportedAlg},
			"wrong-kek": {alg: ES256, want: ErrDecrypt, manager: func(store *memory.Store, clk *clock) *Manager {
				return lifecycleManager(t, store, testKEK(t), clk)
			}},
			"no-audit-trail": {alg: ES256, want: ErrNoAuditTrail, manager: func(store *memory.Store, clk *clock) *Manager {
				return newTestManager(t, store, kek, WithClock(clk.now))
			}},
		} {
			t.Run(name, func(t *testing.T) {
				store, m, clk, _ := setup(t)
				if tc.manager != nil {
					m = tc.manager(store, clk)
				}
				before := listKeys(t, store)
				if _, err := m.Rotate(ctx, tc.alg, RotateOptions{Force: true, Origin: operator}); !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				sameKeys(t, listKeys(t, store), before)
			})
		}
	})

	t.Run("ok/concurrent-rotations-exactly-one-wins", func(t *testing.T) {
		const nodes = 4
		base, m0, clk, _ := setup(t)
		if _, err := m0.Rotate(ctx, ES256, RotateOptions{Origin: operator}); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Hour)
		// Every rotation reads the keys before any writes: the loser can only
		// notice inside the transaction.
		store := withListBarriers(base, nodes, 1)
		var wg sync.WaitGroup
		errs := make([]error, nodes)
		results := make([]*RotateResult, nodes)
		for i := range nodes {
			m := lifecycleManager(t, store, kek, clk)
			wg.Go(func() { results[i], errs[i] = m.Rotate(ctx, ES256, RotateOptions{Origin: operator}) })
		}
		wg.Wait()
		var winner *RotateResult
		for i, err := range errs {
			switch {
			case err == nil:
				if winner != nil {
					t.Fatalf("two rotations succeeded: %+v and %+v", winner, results[i])
				}
				winner = results[i]
			case !errors.Is(err, ErrAlreadyRotated):
				t.Fatalf("loser %d: %v, want ErrAlreadyRotated", i, err)
			}
		}
		if winner == nil {
			t.Fatal("no rotation succeeded")
		}
		keys := listKeys(t, base)
		if len(keys) != 3 || keyByKID(t, keys, winner.Activated).State != storage.KeyStateActive ||
			keyByKID(t, keys, winner.Next).State != storage.KeyStateNext {
			t.Fatalf("keys %v after the winning rotation %+v", kidsOf(keys), winner)
		}
		ok := 0
		for _, ev := range auditEvents(t, base, ActionRotate) {
			if ev.Outcome == storage.OutcomeSuccess {
				ok++
			}
		}
		if ok != 2 { // the preparation and the winner
			t.Errorf("%d successful rotations audited, want 2", ok)
		}
	})
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)

	// setup: active A (1 day old) and next N (1 hour old) for ES256.
	setup := func(t *testing.T, withNext bool) (*memory.Store, *Manager, storage.SigningKey, storage.SigningKey) {
		store, clk := memory.New(), newClock()
		a := testKey(t, kek, ES256, storage.KeyStateActive, 24*time.Hour)
		n := testKey(t, kek, ES256, storage.KeyStateNext, time.Hour)
		seed(t, store, a)
		if withNext {
			seed(t, store, n)
		}
		m := lifecycleManager(t, store, kek, clk)
		reload(t, m)
		return store, m, a, n
	}

	t.Run("ok/active-key-next-takes-over-and-its-tokens-stop-verifying", func(t *testing.T) {
		store, m, a, n := setup(t, true)
		token := signWith(t, m, ES256)
		if _, err := m.Signer(ES256).Validate(ctx, token); err != nil {
			t.Fatal(err)
		}
		res, err := m.Revoke(ctx, a.KID, operator)
		if err != nil {
			t.Fatal(err)
		}
		if res.PreviousState != storage.KeyStateActive || res.Activated != n.KID || res.Next == "" || res.Alg != ES256 {
			t.Fatalf("result %+v", res)
		}
		keys := listKeys(t, store)
		if k := keyByKID(t, keys, a.KID); k.State != storage.KeyStateRevoked || k.RevokedAt == nil || !k.RevokedAt.Equal(testNow) {
			t.Errorf("revoked row %+v", k)
		}
		if k := keyByKID(t, keys, res.Next); k.State != storage.KeyStateNext {
			t.Errorf("fresh next key %+v", k)
		}

		reload(t, m)
		if slices.Contains(jwksKIDs(t, m), a.KID) {
			t.Error("revoked key still in the JWKS")
		}
		if kid, _ := m.ActiveKID(ES256); kid != n.KID {
			t.Errorf("signing with %q, want the former next key %s", kid, n.KID)
		}
		for name, verify := range map[string]func() error{
			"Validate": func() error { _, err := m.Signer(ES256).Validate(ctx, token); return err },
			"Decode":   func() error { _, err := m.Signer(ES256).Decode(ctx, token); return err },
		} {
			err := verify()
			var ve *jwt.ValidationError
			if !errors.As(err, &ve) || !errors.Is(ve.Inner, ErrUnknownKey) {
				t.Errorf("%s of a token signed by the revoked key: %v, want ErrUnknownKey", name, err)
			}
		}
		if _, err := m.Signer(ES256).Validate(ctx, signWith(t, m, ES256)); err != nil {
			t.Errorf("new tokens do not verify: %v", err)
		}
		evs := auditEvents(t, store, ActionRevoke)
		if len(evs) != 1 || evs[0].Target != a.KID || evs[0].Details["activated"] != n.KID || evs[0].Actor != operator.Actor {
			t.Fatalf("audit %+v", evs)
		}
	})

	t.Run("ok/active-key-without-next-a-fresh-key-signs", func(t *testing.T) {
		store, m, a, _ := setup(t, false)
		res, err := m.Revoke(ctx, a.KID, operator)
		if err != nil {
			t.Fatal(err)
		}
		if res.Activated == "" || res.Activated == a.KID || res.Next != "" {
			t.Fatalf("result %+v", res)
		}
		if k := keyByKID(t, listKeys(t, store), res.Activated); k.State != storage.KeyStateActive {
			t.Fatalf("fresh key %+v", k)
		}
		reload(t, m)
		if kid, _ := m.ActiveKID(ES256); kid != res.Activated {
			t.Errorf("signing with %q", kid)
		}
	})

	t.Run("ok/next-and-retired-keys-promote-nothing", func(t *testing.T) {
		store, m, a, n := setup(t, true)
		retired := testKey(t, kek, ES256, storage.KeyStateRetired, 48*time.Hour)
		seed(t, store, retired)
		for _, kid := range []string{n.KID, retired.KID} {
			res, err := m.Revoke(ctx, kid, operator)
			if err != nil {
				t.Fatal(err)
			}
			if res.Activated != "" || res.Next != "" {
				t.Fatalf("result %+v", res)
			}
		}
		keys := listKeys(t, store)
		if len(keys) != 3 || keyByKID(t, keys, a.KID).State != storage.KeyStateActive {
			t.Fatalf("keys %v", kidsOf(keys))
		}
		reload(t, m)
		if got := jwksKIDs(t, m); !slices.Equal(got, []string{a.KID}) {
			t.Errorf("JWKS %v, want only the active key", got)
		}
	})

	t.Run("fail/bad-input-changes-nothing", func(t *testing.T) {
		store, m, a, _ := setup(t, true)
		if _, err := m.Revoke(ctx, a.KID, operator); err != nil {
			t.Fatal(err)
		}
		before := listKeys(t, store)
		for name, tc := range map[string]struct {
			kid  string
			want error
		}{
			"unknown-kid":     {kid: "no-such-kid", want: ErrKeyNotFound},
			"empty-kid":       {kid: "", want: ErrKeyNotFound},
			"already-revoked": {kid: a.KID, want: ErrAlreadyRevoked},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := m.Revoke(ctx, tc.kid, operator)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				sameKeys(t, listKeys(t, store), before)
			})
		}
		if evs := auditEvents(t, store, ActionRevoke); len(evs) != 4 || evs[0].Outcome != storage.OutcomeFailure {
			t.Errorf("refusals not audited: %+v", evs)
		}
	})

	t.Run("ok/revoked-key-removed-after-retention", func(t *testing.T) {
		store, clk := memory.New(), newClock()
		a := testKey(t, kek, ES256, storage.KeyStateActive, 24*time.Hour)
		n := testKey(t, kek, ES256, storage.KeyStateNext, time.Hour)
		seed(t, store, a, n)
		m := lifecycleManager(t, store, kek, clk)
		if _, err := m.Revoke(ctx, n.KID, operator); err != nil {
			t.Fatal(err)
		}
		if removed, err := m.Prune(ctx, operator); err != nil || len(removed) != 0 {
			t.Fatalf("Prune = %v, %v", removed, err)
		}
		clk.advance(testPolicy.retention())
		removed, err := m.Prune(ctx, operator)
		if err != nil || !slices.Equal(removed, []string{n.KID}) {
			t.Fatalf("Prune = %v, %v", removed, err)
		}
		if evs := auditEvents(t, store, ActionRemove); len(evs) != 1 || evs[0].Target != n.KID {
			t.Errorf("audit %+v", evs)
		}
	})
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	oldKEK, newKEK := testKEK(t), testKEK(t)

	setup := func(t *testing.T) *memory.Store {
		store := memory.New()
		for i, alg := range SupportedAlgorithms() {
			seed(t, store, testKey(t, oldKEK, alg, storage.KeyStateActive, time.Duration(i)*time.Hour))
		}
		seed(t, store,
			testKey(t, oldKEK, ES256, storage.KeyStateNext, time.Minute),
			testKey(t, oldKEK, ES256, storage.KeyStateRetired, 48*time.Hour))
		return store
	}

	t.Run("ok/every-key-under-the-new-kek", func(t *testing.T) {
		store := setup(t)
		before := listKeys(t, store)
		m := lifecycleManager(t, store, oldKEK, newClock())
		var calls [][2]int
		n, err := m.Rewrap(ctx, oldKEK, newKEK, operator, func(done, total int) { calls = append(calls, [2]int{done, total}) })
		if err != nil {
			t.Fatal(err)
		}
		if n != len(before) || len(calls) != n || calls[0] != [2]int{1, n} || calls[n-1] != [2]int{n, n} {
			t.Fatalf("rewrapped %d, progress %v", n, calls)
		}
		after := listKeys(t, store)
		for i := range after {
			if bytes.Equal(after[i].PrivateEnc, before[i].PrivateEnc) {
				t.Errorf("key %s not re-encrypted", after[i].KID)
			}
			after[i].PrivateEnc = before[i].PrivateEnc
		}
		sameKeys(t, after, before) // nothing but the ciphertexts changed

		fresh := lifecycleManager(t, store, newKEK, newClock())
		reload(t, fresh)
		for _, alg := range SupportedAlgorithms() {
			if _, err := fresh.Signer(alg).Validate(ctx, signWith(t, fresh, alg)); err != nil {
				t.Errorf("%s after rewrap: %v", alg, err)
			}
		}
		if err := newTestManager(t, store, oldKEK).Reload(ctx); !errors.Is(err, ErrDecrypt) {
			t.Errorf("old KEK still opens the keys: %v", err)
		}
		evs := auditEvents(t, store, ActionRewrap)
		if len(evs) != 1 || evs[0].Details["keys"] != "6" || evs[0].Outcome != storage.OutcomeSuccess {
			t.Fatalf("audit %+v", evs)
		}
		for _, k := range after {
			if s := string(mustJSON(t, evs[0])); strings.Contains(s, string(k.PrivateEnc[:8])) {
				t.Error("audit event carries key material")
			}
		}
	})

	t.Run("fail/bad-input-changes-nothing", func(t *testing.T) {
		corrupt := func(store *memory.Store) {
			_ = store.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				keys[len(keys)-1].PrivateEnc[20] ^= 1
				return keys, nil
			})
		}
		for name, tc := range map[string]struct {
			old, new []byte
			prepare  func(*memory.Store)
			want     error
		}{
			"wrong-old-kek":       {old: testKEK(t), new: newKEK, want: ErrDecrypt},
			"old-kek-16-bytes":    {old: oldKEK[:16], new: newKEK, want: ErrInvalidKEK},
			"new-kek-31-bytes":    {old: oldKEK, new: newKEK[:31], want: ErrInvalidKEK},
			"new-kek-empty":       {old: oldKEK, new: nil, want: ErrInvalidKEK},
			"same-kek":            {old: oldKEK, new: bytes.Clone(oldKEK), want: ErrSameKEK},
			"one-corrupt-row":     {old: oldKEK, new: newKEK, prepare: corrupt, want: ErrDecrypt},
			"old-and-new-swapped": {old: newKEK, new: oldKEK, want: ErrDecrypt},
		} {
			t.Run(name, func(t *testing.T) {
				store := setup(t)
				if tc.prepare != nil {
					tc.prepare(store)
				}
				before := listKeys(t, store)
				m := lifecycleManager(t, store, oldKEK, newClock())
				_, err := m.Rewrap(ctx, tc.old, tc.new, operator, nil)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				sameKeys(t, listKeys(t, store), before)
				evs := auditEvents(t, store, ActionRewrap)
				if len(evs) != 1 || evs[0].Outcome != storage.OutcomeFailure {
					t.Errorf("failure not audited: %+v", evs)
				}
			})
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAutoRotate(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	const interval = 24 * time.Hour

	t.Run("ok/publishes-next-then-rotates-when-due", func(t *testing.T) {
		store, clk := memory.New(), newClock()
		m := lifecycleManager(t, store, kek, clk)
		if err := m.EnsureActive(ctx, ES256); err != nil {
			t.Fatal(err)
		}
		first := firstInState(listKeys(t, store), ES256, storage.KeyStateActive).KID
		done, err := m.autoRotateOnce(ctx, interval, []string{ES256})
		if err != nil || len(done) != 1 || done[0].Activated != "" || done[0].Next == "" {
			t.Fatalf("first round: %+v, %v", done, err)
		}
		clk.advance(interval - time.Second)
		if done, err := m.autoRotateOnce(ctx, interval, []string{ES256}); err != nil || len(done) != 0 {
			t.Fatalf("rotated before due: %+v, %v", done, err)
		}
		clk.advance(time.Second)
		done2, err := m.autoRotateOnce(ctx, interval, []string{ES256})
		if err != nil || len(done2) != 1 || done2[0].Activated != done[0].Next || done2[0].Retired != first {
			t.Fatalf("due round: %+v, %v", done2, err)
		}
		evs := auditEvents(t, store, ActionRotate)
		if len(evs) != 2 || evs[0].Actor != ActorAutoRotation {
			t.Fatalf("audit %+v", evs)
		}
		// The retired key goes once its tokens have expired.
		clk.advance(testPolicy.retention())
		if _, err := m.autoRotateOnce(ctx, interval, []string{ES256}); err != nil {
			t.Fatal(err)
		}
		for _, k := range listKeys(t, store) {
			if k.KID == first {
				t.Fatal("expired retired key not removed")
			}
		}
	})

	t.Run("ok/waits-for-a-young-next-key", func(t *testing.T) {
		store, clk := memory.New(), newClock()
		seed(t, store,
			testKey(t, kek, ES256, storage.KeyStateActive, 2*interval),
			testKey(t, kek, ES256, storage.KeyStateNext, 0))
		m := lifecycleManager(t, store, kek, clk)
		before := listKeys(t, store)
		if done, err := m.autoRotateOnce(ctx, interval, []string{ES256}); err != nil || len(done) != 0 {
			t.Fatalf("rotated with a young next key: %+v, %v", done, err)
		}
		sameKeys(t, listKeys(t, store), before)
		clk.advance(testPolicy.PublishLead())
		if done, err := m.autoRotateOnce(ctx, interval, []string{ES256}); err != nil || len(done) != 1 {
			t.Fatalf("no rotation once ready: %+v, %v", done, err)
		}
	})

	t.Run("ok/several-nodes-exactly-one-rotates", func(t *testing.T) {
		const nodes = 3
		base, clk := memory.New(), newClock()
		seed(t, base,
			testKey(t, kek, ES256, storage.KeyStateActive, 2*interval),
			testKey(t, kek, ES256, storage.KeyStateNext, time.Hour))
		// Both reads (the due check and Rotate's) happen on every node
		// before any node writes.
		store := withListBarriers(base, nodes, 2)
		var wg sync.WaitGroup
		var rotations atomic.Int64
		for range nodes {
			m := lifecycleManager(t, store, kek, clk)
			wg.Go(func() {
				done, err := m.autoRotateOnce(ctx, interval, []string{ES256})
				if err != nil {
					t.Error(err)
				}
				rotations.Add(int64(len(done)))
			})
		}
		wg.Wait()
		if n := rotations.Load(); n != 1 {
			t.Fatalf("%d nodes rotated, want exactly 1", n)
		}
		if keys := listKeys(t, base); len(keys) != 3 {
			t.Fatalf("keys %v", kidsOf(keys))
		}
	})
}

// TestLifecycleReachesWatchingNodes: a rotation or revocation made through one
// manager reaches another node's watching manager through the store's
// notification, well before the fallback interval.
func TestLifecycleReachesWatchingNodes(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	store, clk := memory.New(), newClock()
	seed(t, store,
		testKey(t, kek, ES256, storage.KeyStateActive, 24*time.Hour),
		testKey(t, kek, ES256, storage.KeyStateNext, time.Hour))
	operatorNode := lifecycleManager(t, store, kek, clk)
	node := lifecycleManager(t, store, kek, clk)
	watchCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); node.Watch(watchCtx, store, time.Hour) }()
	t.Cleanup(func() { cancel(); <-done })

	waitActive := func(want string) {
		t.Helper()
		deadline := time.Now().Add(PropagationDelay)
		for kid, _ := node.ActiveKID(ES256); kid != want; kid, _ = node.ActiveKID(ES256) {
			if time.Now().After(deadline) {
				t.Fatalf("watching node signs with %q, want %q", kid, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	first := firstInState(listKeys(t, store), ES256, storage.KeyStateActive).KID
	waitActive(first)

	res, err := operatorNode.Rotate(ctx, ES256, RotateOptions{Origin: operator})
	if err != nil {
		t.Fatal(err)
	}
	waitActive(res.Activated)
	token := signWith(t, node, ES256)

	rev, err := operatorNode.Revoke(ctx, res.Activated, operator)
	if err != nil {
		t.Fatal(err)
	}
	waitActive(rev.Activated)
	if _, err := node.Signer(ES256).Validate(ctx, token); !errors.Is(err, ErrUnknownKey) {
		var ve *jwt.ValidationError
		if !errors.As(err, &ve) || !errors.Is(ve.Inner, ErrUnknownKey) {
			t.Fatalf("token of the revoked key on the watching node: %v", err)
		}
	}
}
