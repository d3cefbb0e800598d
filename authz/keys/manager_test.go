package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestManager(t testing.TB, store storage.Keys, kek []byte, opts ...Option) *Manager {
	t.Helper()
	opts = append([]Option{WithClock(func() time.Time { return testNow })}, opts...)
	m, err := NewManager(store, kek, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testKey generates a key row in the given state, created age ago.
func testKey(t testing.TB, kek []byte, alg, state string, age time.Duration) storage.SigningKey {
	t.Helper()
	k, err := Generate(kek, alg, testNow.Add(-age))
	if err != nil {
		t.Fatal(err)
	}
	k.State = state
	if state != storage.KeyStateNext {
		at := k.CreatedAt
		k.ActivatedAt = &at
	}
	if state == storage.KeyStateRetired {
		at := testNow
		k.RetiredAt = &at
	}
	return *k
}

func activeByAlg(t *testing.T, store *fakeStore) map[string][]string {
	t.Helper()
	keys, _ := store.ListKeys(context.Background())
	out := map[string][]string{}
	for _, k := range keys {
		if k.State == storage.KeyStateActive {
			out[k.Alg] = append(out[k.Alg], k.KID)
		}
	}
	return out
}

func TestNewManager(t *testing.T) {
	tests := map[string]struct {
		store   storage.Keys
		kek     []byte
		wantErr error
	}{
		"ok/defaults":   {store: newFakeStore(), kek: testKEK(t)},
		"fail/kek-16":   {store: newFakeStore(), kek: make([]byte, 16), wantErr: ErrInvalidKEK},
		"fail/kek-nil":  {store: newFakeStore(), kek: nil, wantErr: ErrInvalidKEK},
		"fail/no-store": {store: nil, kek: testKEK(t)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := NewManager(tc.store, tc.kek)
			if strings.HasPrefix(name, "fail/") {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(m.JWKS()); got != `{"keys":[]}` {
				t.Errorf("JWKS before reload = %s", got)
			}
			if _, ok := m.ActiveKID(RS256); ok || len(m.Algorithms()) != 0 {
				t.Error("keys before reload")
			}
		})
	}
}

func TestEnsureActive(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)

	t.Run("ok/creates-one-per-alg-and-is-idempotent", func(t *testing.T) {
		store := newFakeStore()
		m := newTestManager(t, store, kek)
		if err := m.EnsureActive(ctx, ES256, EdDSA, ES256); err != nil {
			t.Fatal(err)
		}
		first := activeByAlg(t, store)
		if len(first[ES256]) != 1 || len(first[EdDSA]) != 1 || len(first) != 2 {
			t.Fatalf("active keys = %v", first)
		}
		if err := m.EnsureActive(ctx, ES256, EdDSA); err != nil {
			t.Fatal(err)
		}
		keys, _ := store.ListKeys(ctx)
		if len(keys) != 2 {
			t.Fatalf("second call stored more keys: %d", len(keys))
		}
		// Adding an algorithm later keeps the others.
		if err := m.EnsureActive(ctx, ES256, RS256); err != nil {
			t.Fatal(err)
		}
		got := activeByAlg(t, store)
		if !slices.Equal(got[ES256], first[ES256]) || len(got[RS256]) != 1 || !slices.Equal(got[EdDSA], first[EdDSA]) {
			t.Fatalf("active keys = %v (before %v)", got, first)
		}
		for _, k := range keys {
			if k.ActivatedAt == nil || !k.ActivatedAt.Equal(testNow) || !k.CreatedAt.Equal(testNow) {
				t.Errorf("key %s timestamps: created %v activated %v", k.KID, k.CreatedAt, k.ActivatedAt)
			}
		}
	})

	t.Run("ok/next-key-alone-does-not-count", func(t *testing.T) {
		store := newFakeStore()
		next := testKey(t, kek, ES256, storage.KeyStateNext, time.Hour)
		store.set(next)
		m := newTestManager(t, store, kek)
		if err := m.EnsureActive(ctx, ES256); err != nil {
			t.Fatal(err)
		}
		got := activeByAlg(t, store)
		if len(got[ES256]) != 1 || got[ES256][0] == next.KID {
			t.Fatalf("active = %v", got)
		}
	})

	t.Run("ok/concurrent-nodes-create-one-active-key-per-alg", func(t *testing.T) {
		const nodes = 4
		store := newFakeStore()
		// Every node lists the empty store before any writes.
		store.listBarrier = newBarrier(nodes)
		algs := []string{ES256, EdDSA, RS256}
		var wg sync.WaitGroup
		errs := make([]error, nodes)
		for i := range nodes {
			m := newTestManager(t, store, kek)
			wg.Go(func() { errs[i] = m.EnsureActive(ctx, algs...) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
		}
		got := activeByAlg(t, store)
		for _, alg := range algs {
			if len(got[alg]) != 1 {
				t.Errorf("%s: %d active keys, want 1", alg, len(got[alg]))
			}
		}
		keys, _ := store.ListKeys(ctx)
		if len(keys) != len(algs) {
			t.Errorf("stored %d keys, want %d", len(keys), len(algs))
		}
	})

	t.Run("fail/unsupported-alg-writes-nothing", func(t *testing.T) {
		store := newFakeStore()
		m := newTestManager(t, store, kek)
		if err := m.EnsureActive(ctx, ES256, "HS256"); !errors.Is(err, ErrUnsupportedAlg) {
			t.Fatalf("err = %v", err)
		}
		if keys, _ := store.ListKeys(ctx); len(keys) != 0 {
			t.Fatalf("stored %d keys", len(keys))
		}
	})
}

func TestReload(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	active := testKey(t, kek, ES256, storage.KeyStateActive, time.Hour)
	activeRS := testKey(t, kek, RS256, storage.KeyStateActive, time.Hour)
	next := testKey(t, kek, ES256, storage.KeyStateNext, time.Minute)
	retired := testKey(t, kek, ES256, storage.KeyStateRetired, 48*time.Hour)

	t.Run("ok/snapshot", func(t *testing.T) {
		store := newFakeStore()
		store.set(retired, next, active, activeRS)
		m := newTestManager(t, store, kek)
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if kid, ok := m.ActiveKID(ES256); !ok || kid != active.KID {
			t.Errorf("ActiveKID(ES256) = %q, %v", kid, ok)
		}
		if _, ok := m.ActiveKID(EdDSA); ok {
			t.Error("ActiveKID(EdDSA) reported")
		}
		if got := m.Algorithms(); !slices.Equal(got, []string{RS256, ES256}) {
			t.Errorf("Algorithms = %v", got)
		}
		snap := m.snap.Load()
		for _, k := range []storage.SigningKey{active, activeRS, next, retired} {
			if _, ok := snap.byKID[k.KID]; !ok {
				t.Errorf("%s key %s not published", k.State, k.KID)
			}
		}
	})

	t.Run("fail/wrong-kek-names-kid-and-keeps-previous-snapshot", func(t *testing.T) {
		store := newFakeStore()
		store.set(active)
		var logs bytes.Buffer
		m := newTestManager(t, store, testKEK(t), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		err := m.Reload(ctx)
		if !errors.Is(err, ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
		if !strings.Contains(err.Error(), active.KID) {
			t.Errorf("error does not name the kid: %v", err)
		}
		for _, secret := range [][]byte{active.PrivateEnc} {
			for _, s := range []string{base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret)} {
				if strings.Contains(err.Error(), s[:16]) || strings.Contains(logs.String(), s[:16]) {
					t.Error("key material in error or logs")
				}
			}
		}
		if string(m.JWKS()) != `{"keys":[]}` {
			t.Error("failed reload replaced the snapshot")
		}
	})

	t.Run("fail/tampered-private-key", func(t *testing.T) {
		bad := cloneKey(active)
		bad.PrivateEnc[len(bad.PrivateEnc)-1] ^= 1
		store := newFakeStore()
		store.set(bad)
		m := newTestManager(t, store, kek)
		if err := m.Reload(ctx); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
	})

	t.Run("fail/private-key-swapped-between-rows", func(t *testing.T) {
		bad := cloneKey(active)
		other := testKey(t, kek, ES256, storage.KeyStateActive, 0)
		bad.PrivateEnc = other.PrivateEnc // AAD is the kid: must not decrypt
		store := newFakeStore()
		store.set(bad)
		m := newTestManager(t, store, kek)
		if err := m.Reload(ctx); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
	})

	t.Run("fail/public-jwk-of-other-alg", func(t *testing.T) {
		bad := cloneKey(active)
		bad.Alg = RS256
		store := newFakeStore()
		store.set(bad)
		m := newTestManager(t, store, kek)
		if err := m.Reload(ctx); err == nil || !strings.Contains(err.Error(), bad.KID) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("ok/undecryptable-next-key-is-logged-not-fatal", func(t *testing.T) {
		otherNext := testKey(t, testKEK(t), ES256, storage.KeyStateNext, 0)
		store := newFakeStore()
		store.set(active, otherNext)
		var logs bytes.Buffer
		m := newTestManager(t, store, kek, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), otherNext.KID) {
			t.Errorf("no log naming the next key: %s", logs.String())
		}
	})

	t.Run("ok/two-active-keys-signs-with-newest", func(t *testing.T) {
		older := testKey(t, kek, ES256, storage.KeyStateActive, 2*time.Hour)
		store := newFakeStore()
		store.set(older, active)
		m := newTestManager(t, store, kek)
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if kid, _ := m.ActiveKID(ES256); kid != active.KID {
			t.Fatalf("ActiveKID = %s, want newest %s", kid, active.KID)
		}
	})
}

func TestJWKS(t *testing.T) {
	kek := testKEK(t)
	rows := []storage.SigningKey{
		testKey(t, kek, RS256, storage.KeyStateRetired, 72*time.Hour),
		testKey(t, kek, RS256, storage.KeyStateActive, 24*time.Hour),
		testKey(t, kek, RS256, storage.KeyStateNext, time.Hour),
		testKey(t, kek, PS256, storage.KeyStateActive, 24*time.Hour),
		testKey(t, kek, ES256, storage.KeyStateActive, 24*time.Hour),
		testKey(t, kek, EdDSA, storage.KeyStateActive, 24*time.Hour),
	}
	store := newFakeStore()
	store.set(rows...)
	m := newTestManager(t, store, kek)
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}

	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	raw := m.JWKS()
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(doc.Keys) != len(rows) {
		t.Fatalf("JWKS has %d keys, want %d", len(doc.Keys), len(rows))
	}
	wantKty := map[string]string{RS256: "RSA", PS256: "RSA", ES256: "EC", EdDSA: "OKP"}
	byKID := map[string]map[string]any{}
	for _, k := range doc.Keys {
		kid, _ := k["kid"].(string)
		alg, _ := k["alg"].(string)
		byKID[kid] = k
		if kid == "" || alg == "" || k["use"] != "sig" || k["kty"] != wantKty[alg] {
			t.Errorf("key %v: want kid, alg, use=sig, kty", k)
		}
		for _, p := range privateJWKParams {
			if _, ok := k[p]; ok {
				t.Errorf("key %s has private member %q", kid, p)
			}
		}
	}
	for _, r := range rows {
		if k, ok := byKID[r.KID]; !ok || k["alg"] != r.Alg {
			t.Errorf("%s %s key %s missing or with wrong alg", r.State, r.Alg, r.KID)
		}
	}
	// Active keys come first.
	for i, k := range doc.Keys[:4] {
		kid := k["kid"].(string)
		if r := rowByKID(rows, kid); r.State != storage.KeyStateActive {
			t.Errorf("JWKS[%d] is %s, want active keys first", i, r.State)
		}
	}

	// Callers get a copy.
	raw[0] = 'X'
	if m.JWKS()[0] != '{' {
		t.Error("JWKS returned the snapshot's own buffer")
	}
}

func rowByKID(rows []storage.SigningKey, kid string) storage.SigningKey {
	for _, r := range rows {
		if r.KID == kid {
			return r
		}
	}
	return storage.SigningKey{}
}

func TestWatch(t *testing.T) {
	kek := testKEK(t)
	k1 := testKey(t, kek, ES256, storage.KeyStateActive, time.Hour)
	k2 := testKey(t, kek, ES256, storage.KeyStateNext, time.Minute)

	waitFor := func(t *testing.T, m *Manager, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if kid, _ := m.ActiveKID(ES256); kid == want {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		kid, _ := m.ActiveKID(ES256)
		t.Fatalf("active kid = %q, want %q", kid, want)
	}
	rotate := func(store *fakeStore) {
		retired, active := cloneKey(k1), cloneKey(k2)
		retired.State, active.State = storage.KeyStateRetired, storage.KeyStateActive
		store.set(retired, active)
	}

	t.Run("ok/reloads-on-notification", func(t *testing.T) {
		store := newFakeStore()
		store.set(k1, k2)
		m := newTestManager(t, store, kek)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Watch(ctx, store, time.Hour) }()
		waitFor(t, m, k1.KID) // the initial reload
		rotate(store)         // notifies
		waitFor(t, m, k2.KID)
		cancel()
		<-done
	})

	t.Run("ok/reloads-on-interval-without-notifier", func(t *testing.T) {
		store := newFakeStore()
		store.set(k1, k2)
		m := newTestManager(t, store, kek)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Watch(ctx, nil, 10*time.Millisecond) }()
		waitFor(t, m, k1.KID)
		rotate(store)
		waitFor(t, m, k2.KID)
		cancel()
		<-done
	})

	t.Run("ok/failed-reload-keeps-serving-and-logs", func(t *testing.T) {
		store := newFakeStore()
		store.set(k1, k2)
		var mu sync.Mutex
		var logs bytes.Buffer
		m := newTestManager(t, store, kek, WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Watch(ctx, store, time.Hour) }()
		waitFor(t, m, k1.KID)

		bad := cloneKey(k2)
		bad.State = storage.KeyStateActive
		bad.PrivateEnc[0] ^= 1
		retired := cloneKey(k1)
		retired.State = storage.KeyStateRetired
		store.set(retired, bad)

		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			logged := strings.Contains(logs.String(), "reload failed")
			mu.Unlock()
			if logged {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("reload failure not logged")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if kid, _ := m.ActiveKID(ES256); kid != k1.KID {
			t.Fatalf("active kid = %q, want previous %q", kid, k1.KID)
		}
		cancel()
		<-done
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
