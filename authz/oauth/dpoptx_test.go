package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// txDepthKey carries how deep in transactions of a txWatchStore a context is.
type txDepthKey struct{}

func txDepth(ctx context.Context) int { d, _ := ctx.Value(txDepthKey{}).(int); return d }

// txWatchStore records, for the DPoP token tests, how the proof's jti and
// the access token were written (on their own, in a transaction, or
// together by CreateRequestOnce), how many top-level transactions
// committed, and can fail the access token's write.
type txWatchStore struct {
	storage.Store
	mu         sync.Mutex
	commits    int
	jtiDepth   []int
	tokenDepth []int
	once       []storage.RequestKind // CreateRequestOnce calls
	failToken  bool
}

func (s *txWatchStore) BeginTx(ctx context.Context) (context.Context, error) {
	next, err := s.Store.BeginTx(ctx)
	return context.WithValue(next, txDepthKey{}, txDepth(ctx)+1), err
}

func (s *txWatchStore) CommitTx(ctx context.Context) error {
	if txDepth(ctx) == 1 {
		s.mu.Lock()
		s.commits++
		s.mu.Unlock()
	}
	return s.Store.CommitTx(ctx)
}

func (s *txWatchStore) UseJTI(ctx context.Context, jti string, exp time.Time) error {
	s.mu.Lock()
	s.jtiDepth = append(s.jtiDepth, txDepth(ctx))
	s.mu.Unlock()
	return s.Store.UseJTI(ctx, jti, exp)
}

func (s *txWatchStore) CreateRequestOnce(ctx context.Context, r *storage.Request, jti string, exp time.Time) error {
	s.mu.Lock()
	s.once = append(s.once, r.Kind)
	fail := s.failToken
	s.mu.Unlock()
	if fail {
		return errors.New("injected: the access token could not be stored")
	}
	return s.Store.CreateRequestOnce(ctx, r, jti, exp)
}

func (s *txWatchStore) CreateRequest(ctx context.Context, r *storage.Request) error {
	if r.Kind == storage.KindAccessToken {
		s.mu.Lock()
		s.tokenDepth = append(s.tokenDepth, txDepth(ctx))
		fail := s.failToken
		s.mu.Unlock()
		if fail {
			return errors.New("injected: the access token could not be stored")
		}
	}
	return s.Store.CreateRequest(ctx, r)
}

// dpopTokenRequest is a client_credentials request of client (secret by
// HTTP Basic) to the test issuer's token endpoint with proof as DPoP.
func dpopTokenRequest(t *testing.T, client, secret, proof string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://as.example"+authz.PathToken, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(client, secret)
	if proof != "" {
		r.Header.Set("DPoP", proof)
	}
	must(t, r.ParseForm())
	return r
}

// es256DPoPProof is an RFC 9449 proof by key for POST to the test token endpoint.
func es256DPoPProof(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	signer, err := josev4.NewSigner(josev4.SigningKey{Algorithm: josev4.ES256, Key: key},
		(&josev4.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", josev4.JSONWebKey{Key: &key.PublicKey}))
	must(t, err)
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims, err := json.Marshal(map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": "POST",
		"htu": "https://as.example" + authz.PathToken, "iat": time.Now().Unix()})
	must(t, err)
	sig, err := signer.Sign(claims)
	must(t, err)
	out, err := sig.CompactSerialize()
	must(t, err)
	return out
}

// TestDPoPProofJTIIsWrittenWithTheAccessToken: at the token endpoint a
// DPoP proof's jti and the access token it binds are written together, in
// one write (storage.JTIs.CreateRequestOnce: one statement, one commit on
// PostgreSQL), not as a write and commit of their own before the token
// (which halved throughput); the proof still works once and only once, and
// a request whose token could not be stored leaves its proof unused. A
// request without DPoP writes its token as before.
func TestDPoPProofJTIIsWrittenWithTheAccessToken(t *testing.T) {
	store := &txWatchStore{Store: newMemoryStore(t)}
	tokens := newTestTokens(t, store)
	secret, err := authz.GenerateSecret()
	must(t, err)
	hash, err := tokens.hasher.Hash(t.Context(), []byte(secret))
	must(t, err)
	c := testClient("dpop-cc")
	c.Secrets = []storage.ClientSecret{{Hash: hash}}
	must(t, store.CreateClient(t.Context(), c))
	key := mustECKey(t)

	proof := es256DPoPProof(t, key)
	_, body, err := tokens.Token(t.Context(), dpopTokenRequest(t, c.ID, secret, proof))
	must(t, err)
	if body["token_type"] != "DPoP" {
		t.Fatalf("token_type %v", body["token_type"])
	}
	if len(store.once) != 1 || store.once[0] != storage.KindAccessToken || len(store.jtiDepth) != 0 || len(store.tokenDepth) != 0 || store.commits != 0 {
		t.Fatalf("written together: %v; jti alone at depths %v; token alone at depths %v; %d commits: want one CreateRequestOnce and nothing else",
			store.once, store.jtiDepth, store.tokenDepth, store.commits)
	}
	_, _, err = tokens.Token(t.Context(), dpopTokenRequest(t, c.ID, secret, proof))
	wantRFC(t, err, "invalid_dpop_proof", http.StatusBadRequest)

	// The token cannot be stored: nothing commits, the proof stays unused.
	store.failToken = true
	proof = es256DPoPProof(t, key)
	if _, body, err := tokens.Token(t.Context(), dpopTokenRequest(t, c.ID, secret, proof)); err == nil {
		t.Fatalf("issued %v although its token was not stored", body)
	}
	store.failToken = false
	_, body, err = tokens.Token(t.Context(), dpopTokenRequest(t, c.ID, secret, proof))
	must(t, err)
	if body["token_type"] != "DPoP" || len(store.once) != 4 || len(store.jtiDepth) != 0 {
		t.Fatalf("retry after the failure: %v, %d joint writes, %d jti writes", body, len(store.once), len(store.jtiDepth))
	}

	// Without DPoP: the token is written on its own, no jti.
	_, body, err = tokens.Token(t.Context(), dpopTokenRequest(t, c.ID, secret, ""))
	must(t, err)
	if body["token_type"] != "bearer" || len(store.once) != 4 || len(store.tokenDepth) != 1 || len(store.jtiDepth) != 0 {
		t.Fatalf("plain request: %v, joint writes %v, tokens alone %v", body, store.once, store.tokenDepth)
	}
}
