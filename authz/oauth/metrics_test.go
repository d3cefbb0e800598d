package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/storage"
)

// metricsRecorder keeps what the token service counts.
type metricsRecorder struct {
	mu       sync.Mutex
	failures []string
	issued   []string
	reused   int
}

func (m *metricsRecorder) TokenIssued(grantType, format string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.issued = append(m.issued, grantType+"/"+format)
}

func (m *metricsRecorder) ClientAuthFailed(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures = append(m.failures, reason)
}

func (m *metricsRecorder) RefreshReuseDetected() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reused++
}

// TestClientAuthFailuresCountedByReason: every refused client
// authentication is counted once with the reason that tells an operator
// what happened (wrong secret, unknown client, malformed request, bad
// assertion); a successful one is not counted.
func TestClientAuthFailuresCountedByReason(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	rec := &metricsRecorder{}
	p.metrics = rec
	ctx := t.Context()
	secret, err := authz.GenerateSecret()
	must(t, err)
	hash, err := p.hasher.Hash(ctx, []byte(secret))
	must(t, err)
	basic := testClient("basic")
	basic.Secrets = []storage.ClientSecret{{Hash: hash}}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	jwtClient := testClient("jwt")
	jwtClient.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	jwtClient.JWKS = jwks(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"})
	for _, c := range []*storage.Client{basic, jwtClient} {
		must(t, store.CreateClient(ctx, c))
	}
	forged := &assertionSigner{t: t, client: "jwt", alg: jose.ES256, key: other, kid: "k1"}

	for _, c := range []struct {
		name         string
		form         url.Values
		user, secret string
		want         string // "" : authenticated, nothing counted
	}{
		{"fail/wrong-secret", url.Values{}, "basic", "not-the-secret", clientauth.ReasonInvalidSecret},
		{"fail/unknown-client", url.Values{}, "ghost", secret, clientauth.ReasonUnknownClient},
		{"fail/two-methods", url.Values{"client_secret": {secret}}, "basic", secret, clientauth.ReasonMalformed},
		{"fail/credentials-in-url", nil, "basic", secret, clientauth.ReasonMalformed},
		{"fail/forged-assertion", assertionForm(forged.sign(nil)), "", "", clientauth.ReasonInvalidAssertion},
		{"ok/basic", url.Values{}, "basic", secret, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec.failures = nil
			form := c.form
			if form == nil {
				form = url.Values{}
			}
			r := authRequest(t, authz.PathToken, form, c.user, c.secret)
			if c.form == nil {
				r.URL.RawQuery = url.Values{"client_secret": {secret}}.Encode()
			}
			_, err := p.provider.AuthenticateClient(t.Context(), r, r.PostForm)
			if (c.want == "") != (err == nil) {
				t.Fatalf("err %v, want a refusal: %v", err, c.want != "")
			}
			var want []string
			if c.want != "" {
				want = []string{c.want}
			}
			if !slices.Equal(rec.failures, want) {
				t.Fatalf("counted %q, want %q", rec.failures, want)
			}
		})
	}
	// a database outage is the server's failure, not a refusal of the client
	down := newTestProvider(t, outageStore{store})
	down.metrics = rec
	rec.failures = nil
	r := authRequest(t, authz.PathToken, url.Values{}, "basic", secret)
	if _, err := down.provider.AuthenticateClient(t.Context(), r, r.PostForm); err == nil {
		t.Fatal("authenticated with the database down")
	}
	if len(rec.failures) != 0 {
		t.Fatalf("an outage counted as %q", rec.failures)
	}
}
