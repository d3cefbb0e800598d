package replaytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/dpop"
)

// NewBackend prepares a fresh backend for one test and returns how to open a
// node on it: every call of the returned function is another node (its own
// connection or pool) on the same shared backend. Cleanup goes through
// t.Cleanup.
type NewBackend func(t *testing.T) (newNode func() dpop.ReplayCache)

// Run runs the suite, each case on a fresh backend.
func Run(t *testing.T, newBackend NewBackend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newNode func() dpop.ReplayCache)
	}{
		{"SecondUseIsAReplay", secondUseIsAReplay},
		{"KeysAreIndependent", keysAreIndependent},
		{"ExpiredRecordNoLongerBlocks", expiredRecordNoLongerBlocks},
		{"ConcurrentUsesExactlyOneWins", concurrentUsesExactlyOneWins},
		{"ReplayAcrossTwoNodesFails", replayAcrossTwoNodesFails},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newBackend(t))
		})
	}
}

// randomKey returns a replay key no other test uses.
func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return dpop.ReplayKey("test-jkt", hex.EncodeToString(b[:]))
}

func mustUse(t *testing.T, c dpop.ReplayCache, key string, until time.Time) {
	t.Helper()
	if err := c.Use(t.Context(), key, until); err != nil {
		t.Fatalf("Use: %v", err)
	}
}

func wantReplay(t *testing.T, c dpop.ReplayCache, key string, until time.Time) {
	t.Helper()
	err := c.Use(t.Context(), key, until)
	if !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("second Use = %v, want ErrReplay", err)
	}
}

func secondUseIsAReplay(t *testing.T, newNode func() dpop.ReplayCache) {
	c := newNode()
	key, until := randomKey(), time.Now().Add(time.Minute)
	mustUse(t, c, key, until)
	wantReplay(t, c, key, until)
	wantReplay(t, c, key, until.Add(time.Hour))
}

func keysAreIndependent(t *testing.T, newNode func() dpop.ReplayCache) {
	c := newNode()
	until := time.Now().Add(time.Minute)
	a, b := randomKey(), randomKey()
	mustUse(t, c, a, until)
	mustUse(t, c, b, until)
	wantReplay(t, c, a, until)
	wantReplay(t, c, b, until)
}

func expiredRecordNoLongerBlocks(t *testing.T, newNode func() dpop.ReplayCache) {
	c := newNode()
	key := randomKey()
	mustUse(t, c, key, time.Now().Add(300*time.Millisecond))
	wantReplay(t, c, key, time.Now().Add(time.Minute))
	// Past the until, and past a one-second floor a backend may put on
	// expiries (Redis).
	time.Sleep(1500 * time.Millisecond)
	mustUse(t, c, key, time.Now().Add(time.Minute))
	wantReplay(t, c, key, time.Now().Add(time.Minute))
}

func concurrentUsesExactlyOneWins(t *testing.T, newNode func() dpop.ReplayCache) {
	nodes := []dpop.ReplayCache{newNode(), newNode()}
	const callers = 16
	for round := range 5 {
		key, until := randomKey(), time.Now().Add(time.Minute)
		var wins, replays atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			wg.Go(func() {
				<-start
				err := nodes[i%len(nodes)].Use(t.Context(), key, until)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, dpop.ErrReplay):
					replays.Add(1)
				default:
					t.Errorf("Use: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || replays.Load() != callers-1 {
			t.Fatalf("round %d: %d wins and %d replays of %d callers, want exactly one win", round, wins.Load(), replays.Load(), callers)
		}
	}
}

func replayAcrossTwoNodesFails(t *testing.T, newNode func() dpop.ReplayCache) {
	a, b := newNode(), newNode()
	key, until := randomKey(), time.Now().Add(time.Minute)
	mustUse(t, a, key, until)
	wantReplay(t, b, key, until)
	other := randomKey()
	mustUse(t, b, other, until)
	wantReplay(t, a, other, until)
}

// ProofReplayAcrossTwoNodesFails checks DPoP single use end to end: two
// servers (two Verifiers, each with its own node of one fresh backend); a
// proof accepted by one is refused by the other, and of one proof sent to
// both at once exactly one is accepted.
func ProofReplayAcrossTwoNodesFails(t *testing.T, newBackend NewBackend) {
	newNode := newBackend(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	verifiers := make([]*dpop.Verifier, 2)
	for i := range verifiers {
		verifiers[i], err = dpop.NewVerifier(dpop.Config{ReplayCache: newNode()})
		if err != nil {
			t.Fatal(err)
		}
	}
	const uri = "https://as.example.com/oauth2/token"
	req := func() dpop.Request {
		return dpop.Request{Proof: proof(t, key, uri), Method: "POST", URI: uri}
	}

	r := req()
	if _, err := verifiers[0].Verify(t.Context(), r); err != nil {
		t.Fatalf("node 1: %v", err)
	}
	_, err = verifiers[1].Verify(t.Context(), r)
	var de *dpop.Error
	if !errors.As(err, &de) || !errors.Is(err, dpop.ErrReplay) || de.Code != dpop.CodeInvalidProof {
		t.Fatalf("node 2 on the replayed proof: %v, want invalid_dpop_proof (replay)", err)
	}

	r = req()
	var accepted, replayed atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := verifiers[i%2].Verify(t.Context(), r)
			switch {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, dpop.ErrReplay):
				replayed.Add(1)
			default:
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 || replayed.Load() != 7 {
		t.Fatalf("one proof raced on two nodes: %d accepted, %d replays; want exactly one accepted", accepted.Load(), replayed.Load())
	}
}

// proof returns a fresh ES256 proof (random jti, iat now) for POST uri.
func proof(t *testing.T, key *ecdsa.PrivateKey, uri string) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(dpop.ProofType)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	payload, err := json.Marshal(map[string]any{
		"jti": hex.EncodeToString(jti[:]), "htm": "POST", "htu": uri, "iat": time.Now().Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
