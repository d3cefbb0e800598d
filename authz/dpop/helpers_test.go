package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/storage/memory"
)

// Fixed values every test request uses.
const (
	testMethod = "POST"
	testURI    = "https://as.example.com/oauth2/token"
)

var testNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// Keys are expensive to make (RSA): each is made once per test binary.
var (
	keysOnce sync.Once
	ecKey    *ecdsa.PrivateKey
	ecKey2   *ecdsa.PrivateKey
	rsaKey   *rsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		var e error
		ecKey2, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		rsaKey, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		_, edKey, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		if err != nil {
			panic(err)
		}
	})
}

// claims returns the claims of a proof good for the test request.
func claims(jti string) map[string]any {
	return map[string]any{"jti": jti, "htm": testMethod, "htu": testURI, "iat": testNow.Unix()}
}

// signProof signs claims with key through go-jose, embedding the public jwk
// and typ dpop+jwt, as a well-behaved client does.
func signProof(t testing.TB, alg jose.SignatureAlgorithm, key any, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(dpop.ProofType)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// es256Proof is a valid ES256 proof of ecKey for the test request.
func es256Proof(t testing.TB, c map[string]any) string {
	keys(t)
	return signProof(t, jose.ES256, ecKey, c)
}

// rawProof builds a compact JWS from any header, with sign computing the
// signature over the signing input: for proofs no honest library makes.
func rawProof(t testing.TB, header, c map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

// es256Sign returns a signer for rawProof with an EC P-256 key.
func es256Sign(key *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		sum := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

func hs256Sign(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// publicJWKMap is the public JWK of key as a JSON object.
func publicJWKMap(t testing.TB, key any) map[string]any {
	t.Helper()
	return jwkMap(t, jose.JSONWebKey{Key: key})
}

func jwkMap(t testing.TB, k jose.JSONWebKey) map[string]any {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jktOf is the RFC 7638 thumbprint of key's public part.
func jktOf(t testing.TB, key any) string {
	t.Helper()
	k := jose.JSONWebKey{Key: key}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// clock is a settable clock for verifiers and nonces.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// newVerifier returns a Verifier on a fresh memory store at testNow, with
// cfg's other fields as given.
func newVerifier(t testing.TB, cfg dpop.Config) (*dpop.Verifier, *clock) {
	t.Helper()
	clk := &clock{now: testNow}
	if cfg.ReplayCache == nil {
		cfg.ReplayCache = dpop.NewStoreReplayCache(memory.New(memory.WithClock(clk.Now)))
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	v, err := dpop.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v, clk
}

// request is the test request carrying proof.
func request(proof string) dpop.Request {
	return dpop.Request{Proof: proof, Method: testMethod, URI: testURI}
}

// wantRefused fails unless err is a *dpop.Error with the given code whose
// reason is reason.
func wantRefused(t testing.TB, err error, code string, reason error) *dpop.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("proof accepted; want %s (%v)", code, reason)
	}
	var de *dpop.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v is not a *dpop.Error", err, err)
	}
	if de.Code != code {
		t.Errorf("code = %q, want %q (%v)", de.Code, code, err)
	}
	if !errors.Is(err, reason) {
		t.Errorf("error %v is not %v", err, reason)
	}
	if de.Description == "" {
		t.Errorf("error %v has no description", err)
	}
	return de
}

// smallRSAKey returns a 1024-bit RSA key, below the 2048 bits a proof key needs.
func smallRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
