package clientauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	fositejose "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/authz/oauth/fositestore"
	"github.com/strongroom/strongroom/storage"
)

// FuzzClientAuthenticationHeaders feeds arbitrary Authorization headers
// (HTTP Basic parsing, several headers) and client credential parameters
// in body and query to the one-method rule. It must never panic, and a
// refusal is always 400 invalid_request or 401 invalid_client.
//
//	go test -run '^$' -fuzz FuzzClientAuthenticationHeaders -fuzztime 30s ./authz/oauth/clientauth/
func FuzzClientAuthenticationHeaders(f *testing.F) {
	for _, seed := range []struct{ auth, auth2, query, body string }{
		{"Basic YzE6czE=", "", "", "grant_type=client_credentials"},
		{"Basic YzE6czE=", "", "", "client_id=c2"},
		{"Basic YzE6czE=", "", "", "client_secret=x"},
		{"Basic !!!", "", "", ""},
		{"Basic JXp6OnM=", "", "", ""}, // "%zz:s"
		{"basic YzE=", "", "", ""},     // no colon
		{"Bearer x", "", "", "client_secret=x&client_assertion=y"},
		{"Basic YzE6czE=", "Basic YzI6czI=", "", ""},
		{"", "", "client_secret=x", ""},
		{"", "", "", "client_assertion_type=" + AssertionType + "&client_secret=s"},
	} {
		f.Add(seed.auth, seed.auth2, seed.query, seed.body)
	}
	f.Fuzz(func(t *testing.T, auth, auth2, query, body string) {
		r := httptest.NewRequest(http.MethodPost, "https://as.example/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.URL.RawQuery = query
		for _, a := range []string{auth, auth2} {
			if a != "" {
				r.Header.Add("Authorization", a)
			}
		}
		if r.ParseForm() != nil {
			return // the API refuses such a body before authentication
		}
		err := checkOneClientAuthMethod(r, r.PostForm)
		if err == nil {
			return
		}
		rfc := authz.ErrorResponse(err)
		switch {
		case rfc.ErrorField == fosite.ErrInvalidRequest.ErrorField && rfc.CodeField == http.StatusBadRequest:
		case rfc.ErrorField == fosite.ErrInvalidClient.ErrorField && rfc.CodeField == http.StatusUnauthorized:
		default:
			t.Fatalf("refusal %s/%d: %v", rfc.ErrorField, rfc.CodeField, err)
		}
	})
}

// FuzzClientAssertion feeds arbitrary client assertions to private_key_jwt
// authentication of a registered client (ES256 key). It must never panic;
// a refusal is an OAuth error (invalid_client, or 503 for storage); and
// nothing but an assertion signed with the client's key is accepted (the
// seed corpus holds one, valid once: its jti is then spent).
//
//	go test -run '^$' -fuzz FuzzClientAssertion -fuzztime 30s ./authz/oauth/clientauth/
func FuzzClientAssertion(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	// an assertion expires: the fuzz clock stands still at a fixed instant
	now := authztest.Now
	sign := func(claims map[string]any, alg jose.SignatureAlgorithm) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			f.Fatal(err)
		}
		payload, _ := json.Marshal(claims)
		jws, err := signer.Sign(payload)
		if err != nil {
			f.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	claims := func(aud any) map[string]any {
		return map[string]any{"iss": "pkj", "sub": "pkj", "aud": aud, "jti": "j1", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}
	}
	valid := sign(claims("https://as.example/oauth2/token"), jose.ES256)
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid,
		sign(claims([]string{"https://as.example/oauth2/token", "https://evil.example"}), jose.ES256),
		sign(claims(42), jose.ES256),
		sign(map[string]any{"iss": "pkj", "sub": "other"}, jose.ES256),
		sign(map[string]any{"iss": "pkj", "sub": "pkj", "aud": "https://as.example", "jti": "j2", "exp": 1e300}, jose.ES256),
		parts[0] + "." + parts[1] + ".",
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		"eyJhbGciOiJIUzI1NiJ9." + parts[1] + ".c2ln",
		"a.b.c",
		"",
	} {
		f.Add(seed)
	}

	store := authztest.NewMemoryStore(f)
	set, _ := json.Marshal(fositejose.JSONWebKeySet{Keys: []fositejose.JSONWebKey{{Key: &key.PublicKey, Algorithm: "ES256", Use: "sig"}}})
	must(f, store.CreateClient(context.Background(), &storage.Client{
		ID: "pkj", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: storage.AuthMethodPrivateKeyJWT,
		JWKS: set, CreatedAt: now, UpdatedAt: now,
	}))
	cfg := authz.Config{Issuer: "https://as.example", SystemSecret: authztest.SystemSecret}
	cfg.ApplyDefaults()
	clock := func() time.Time { return now }
	clients := fositestore.New(store, authz.NewClientCache(store, time.Minute, clock), clock, 0)
	p := New(Deps{Clients: clients, Config: &cfg, Now: clock})

	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"client_assertion_type": {AssertionType}, "client_assertion": {assertion}}
		r := httptest.NewRequest(http.MethodPost, "https://as.example/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		must(t, r.ParseForm())
		c, err := p.verifyClientAssertion(context.Background(), r, r.PostForm)
		if err == nil {
			if c == nil || c.GetID() != "pkj" {
				t.Fatalf("accepted as %v", c)
			}
			if strings.Count(assertion, ".") != 2 {
				t.Fatal("accepted something that is not a compact JWS")
			}
			return
		}
		var rfc *fosite.RFC6749Error
		if !errors.As(authz.MapError(err), &rfc) {
			t.Fatalf("refusal %T %v is not an OAuth error", err, err)
		}
		if rfc.ErrorField != fosite.ErrInvalidClient.ErrorField && rfc.ErrorField != fosite.ErrTemporarilyUnavailable.ErrorField {
			t.Fatalf("refusal %s: %v", rfc.ErrorField, err)
		}
	})
}
