package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/storage"
)

type assertionClient struct {
	id  string
	key *ecdsa.PrivateKey
}

func (e *env) privateKeyJWTClient(t *testing.T) *assertionClient {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	raw, _ := json.Marshal(set)
	c := webClient("client_credentials")
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.JWKS = raw
	e.createClient(c)
	return &assertionClient{id: c.ID, key: key}
}

func (a *assertionClient) assertion(t *testing.T, aud string, jti string, ttl time.Duration) string {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: a.key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := josejwt.Signed(sig).Claims(josejwt.Claims{
		Issuer: a.id, Subject: a.id, Audience: josejwt.Audience{aud}, ID: jti,
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(ttl)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (a *assertionClient) form(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	e := start(t)
	a := e.privateKeyJWTClient(t)
	tokenURL := e.issuer + "/oauth2/token"

	for _, aud := range []string{tokenURL, e.issuer} {
		code, m := postForm(t, tokenURL, a.form(a.assertion(t, aud, randString(), time.Minute)), "", "")
		if code != 200 || m["access_token"] == nil {
			t.Fatalf("aud %s: %d %v", aud, code, m)
		}
	}
	cases := map[string]struct {
		assertion string
		code      int
		err       string
	}{
		"fail/wrong-audience":    {a.assertion(t, "https://elsewhere.example", randString(), time.Minute), 401, "invalid_client"},
		"fail/lifetime-too-long": {a.assertion(t, tokenURL, randString(), time.Hour), 401, "invalid_client"},
		"fail/expired":           {a.assertion(t, tokenURL, randString(), -time.Minute), 401, "invalid_client"},
		"fail/garbage":           {"not.a.jwt", 401, "invalid_client"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, m := postForm(t, tokenURL, a.form(tc.assertion), "", "")
			if code != tc.code || m["error"] != tc.err {
				t.Fatalf("%d %v", code, m)
			}
		})
	}
	t.Run("fail/replayed-jti", func(t *testing.T) {
		as := a.assertion(t, tokenURL, randString(), time.Minute)
		if code, m := postForm(t, tokenURL, a.form(as), "", ""); code != 200 {
			t.Fatalf("first use: %d %v", code, m)
		}
		code, m := postForm(t, tokenURL, a.form(as), "", "")
		if code != 401 || m["error"] != "invalid_client" {
			t.Fatalf("replay: %d %v", code, m)
		}
	})
	t.Run("ok/key-without-use-parameter", func(t *testing.T) {
		// RFC 7517: "use" is optional; such a key is accepted for signing.
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		raw, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"}}})
		c := webClient("client_credentials")
		c.TokenEndpointAuthMethod, c.JWKS = storage.AuthMethodPrivateKeyJWT, raw
		e.createClient(c)
		b := &assertionClient{id: c.ID, key: key}
		if code, m := postForm(t, tokenURL, b.form(b.assertion(t, tokenURL, randString(), time.Minute)), "", ""); code != 200 {
			t.Fatalf("%d %v", code, m)
		}
	})
	t.Run("fail/key-of-another-client", func(t *testing.T) {
		other := e.privateKeyJWTClient(t)
		forged := &assertionClient{id: a.id, key: other.key}
		code, m := postForm(t, tokenURL, a.form(forged.assertion(t, tokenURL, randString(), time.Minute)), "", "")
		if code != 401 || m["error"] != "invalid_client" {
			t.Fatalf("%d %v", code, m)
		}
	})
}

func TestPublicClientPKCE(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token")
	c.Public, c.TokenEndpointAuthMethod = true, storage.AuthMethodNone
	c.RedirectURIs = []string{"http://127.0.0.1/callback"}
	e.createClient(c)
	base := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "scope": {"openid"}, "state": {randString()}}
	authorize := func(extra url.Values) *http.Response {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + q.Encode())
		return resp
	}
	verifier, challenge := pkcePair()
	t.Run("fail/no-pkce", func(t *testing.T) {
		resp := authorize(url.Values{"redirect_uri": {"http://127.0.0.1/callback"}})
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") || !strings.Contains(loc, "iss=") {
			t.Fatalf("%d %s", resp.StatusCode, loc)
		}
	})
	t.Run("fail/plain-pkce", func(t *testing.T) {
		resp := authorize(url.Values{"redirect_uri": {"http://127.0.0.1/callback"}, "code_challenge": {verifier}, "code_challenge_method": {"plain"}})
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
			t.Fatalf("%d %s", resp.StatusCode, loc)
		}
	})
	t.Run("fail/unregistered-redirect-is-not-followed", func(t *testing.T) {
		resp := authorize(url.Values{"redirect_uri": {"https://evil.example/cb"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("ok/loopback-port-flexibility-for-native-client", func(t *testing.T) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("redirect_uri", "http://127.0.0.1:53682/callback")
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
		b := newBrowser(t)
		loc := e.login(b, e.issuer+"/oauth2/authorize?"+q.Encode(), "alice", testPassword, true)
		if loc.Host != "127.0.0.1:53682" || loc.Query().Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
		conf := oauth2.Config{ClientID: c.ID, RedirectURL: "http://127.0.0.1:53682/callback",
			Endpoint: oauth2.Endpoint{TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
		if _, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier+"x")); err == nil {
			t.Fatal("wrong code_verifier accepted")
		}
	})
	t.Run("fail/loopback-flexibility-not-for-confidential-clients", func(t *testing.T) {
		cc := webClient("authorization_code")
		cc.RedirectURIs = []string{"http://127.0.0.1/callback"}
		e.createClient(cc)
		q := url.Values{"response_type": {"code"}, "client_id": {cc.ID}, "scope": {"openid"}, "state": {randString()},
			"redirect_uri": {"http://127.0.0.1:8000/callback"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + q.Encode())
		if resp.StatusCode == http.StatusSeeOther && strings.Contains(resp.Header.Get("Location"), "/login") {
			t.Fatalf("confidential client got loopback flexibility: %s", resp.Header.Get("Location"))
		}
	})
}
