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

// signClaims signs arbitrary assertion claims with the client's key (go-jose,
// as a client library would).
func (a *assertionClient) signClaims(t *testing.T, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: a.key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := map[string]any{"iss": a.id, "sub": a.id, "jti": randString(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := josejwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// postWithHeader posts form with extra headers and returns the response
// headers with the decoded JSON body.
func postWithHeader(t *testing.T, u string, form url.Values, header http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil && resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d non-JSON body: %v", u, resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, m
}

// clientAuthEndpoints are the endpoints that authenticate clients, each with
// the parameters of an otherwise well-formed request.
func (e *env) clientAuthEndpoints() map[string]url.Values {
	_, challenge := pkcePair()
	return map[string]url.Values{
		"token": {"grant_type": {"client_credentials"}},
		"par": {"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {randString()},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}},
		"introspect": {"token": {"some-token"}},
		"revoke":     {"token": {"some-token"}},
	}
}

// TestTwoClientAuthenticationMethodsAreInvalidRequest: RFC 6749 §2.3 — at the
// token, PAR, introspection and revocation endpoints a request that
// authenticates in two ways is 400 invalid_request and changes nothing.
func TestTwoClientAuthenticationMethodsAreInvalidRequest(t *testing.T) {
	e := start(t)
	basicClient := webClient("client_credentials", "authorization_code")
	basicSecret := e.createClient(basicClient)
	postClient := webClient("client_credentials", "authorization_code")
	postClient.TokenEndpointAuthMethod = storage.AuthMethodSecretPost
	postSecret := e.createClient(postClient)
	jwtClient := e.privateKeyJWTClient(t)
	basic := http.Header{"Authorization": {"Basic " + basicAuth(basicClient.ID, basicSecret)}}

	cases := map[string]struct {
		form   func() url.Values
		header http.Header
	}{
		"assertion-and-basic-of-another-client": {func() url.Values {
			return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion": {jwtClient.signClaims(t, map[string]any{"aud": e.issuer})}}
		}, basic},
		"secret-post-and-basic": {func() url.Values {
			return url.Values{"client_id": {postClient.ID}, "client_secret": {postSecret}}
		}, basic},
		"client-id-differs-from-basic": {func() url.Values {
			return url.Values{"client_id": {postClient.ID}}
		}, basic},
		"assertion-and-client-secret": {func() url.Values {
			return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion": {jwtClient.signClaims(t, map[string]any{"aud": e.issuer})}, "client_secret": {postSecret}}
		}, nil},
	}
	before := e.rowCounts(t)
	for name, tc := range cases {
		for endpoint, params := range e.clientAuthEndpoints() {
			t.Run(name+"/"+endpoint, func(t *testing.T) {
				form := tc.form()
				for k, v := range params {
					form[k] = v
				}
				code, _, m := postWithHeader(t, e.issuer+"/oauth2/"+endpoint, form, tc.header)
				if code != http.StatusBadRequest || m["error"] != "invalid_request" {
					t.Fatalf("%d %v; want 400 invalid_request", code, m)
				}
			})
		}
	}
	if after := e.rowCounts(t); after["oauth2_requests"] != before["oauth2_requests"] || after["client_assertion_jtis"] != before["client_assertion_jtis"] {
		t.Errorf("refused requests wrote rows: %v -> %v", before, after)
	}
}

// TestInvalidClientAfterBasicCarriesWWWAuthenticate: RFC 6749 §5.2 — a 401
// invalid_client answer to HTTP Basic authentication names the Basic scheme,
// at every endpoint that authenticates clients.
func TestInvalidClientAfterBasicCarriesWWWAuthenticate(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials", "authorization_code")
	secret := e.createClient(c)
	for endpoint, params := range e.clientAuthEndpoints() {
		for name, header := range map[string]http.Header{
			"wrong-secret":   {"Authorization": {"Basic " + basicAuth(c.ID, secret+"x")}},
			"unknown-client": {"Authorization": {"Basic " + basicAuth("ghost", secret)}},
		} {
			t.Run(endpoint+"/"+name, func(t *testing.T) {
				code, h, m := postWithHeader(t, e.issuer+"/oauth2/"+endpoint, params, header)
				if code != http.StatusUnauthorized || m["error"] != "invalid_client" {
					t.Fatalf("%d %v; want 401 invalid_client", code, m)
				}
				if got := h.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="`) {
					t.Fatalf("WWW-Authenticate = %q, want Basic realm=...", got)
				}
			})
		}
	}
}

// TestUnregisteredGrantTypeIsUnauthorizedClient: a grant type the server
// supports but the client is not registered for is 400 unauthorized_client
// (RFC 6749 §5.2), whatever the rest of the request holds.
func TestUnregisteredGrantTypeIsUnauthorizedClient(t *testing.T) {
	e := start(t)
	ccOnly := webClient("client_credentials")
	ccSecret := e.createClient(ccOnly)
	codeOnly := webClient("authorization_code")
	codeSecret := e.createClient(codeOnly)
	public := webClient("authorization_code")
	public.Public, public.TokenEndpointAuthMethod = true, storage.AuthMethodNone
	e.createClient(public)
	tokenURL := e.issuer + "/oauth2/token"
	cases := map[string]struct {
		id, secret string
		form       url.Values
	}{
		"authorization_code":                         {ccOnly.ID, ccSecret, url.Values{"grant_type": {"authorization_code"}, "code": {"garbage"}, "redirect_uri": {redirectURI}, "code_verifier": {randString() + randString()}}},
		"refresh_token":                              {ccOnly.ID, ccSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}}},
		"refresh_token-of-code-client":               {codeOnly.ID, codeSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}}},
		"client_credentials":                         {codeOnly.ID, codeSecret, url.Values{"grant_type": {"client_credentials"}}},
		"client_credentials-with-unregistered-scope": {codeOnly.ID, codeSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}},
		"client_credentials-of-public-client":        {public.ID, "", url.Values{"grant_type": {"client_credentials"}, "client_id": {public.ID}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, m := postForm(t, tokenURL, tc.form, tc.id, tc.secret)
			if code != http.StatusBadRequest || m["error"] != "unauthorized_client" {
				t.Fatalf("%d %v; want 400 unauthorized_client", code, m)
			}
		})
	}
	t.Run("unsupported-grant-type", func(t *testing.T) {
		for _, gt := range []string{"password", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code"} {
			code, m := postForm(t, tokenURL, url.Values{"grant_type": {gt}}, ccOnly.ID, ccSecret)
			if code != http.StatusBadRequest || m["error"] != "unsupported_grant_type" {
				t.Fatalf("%s: %d %v; want 400 unsupported_grant_type", gt, code, m)
			}
		}
	})
}

// TestClientAssertionAudienceAndClockSkew drives the token and PAR endpoints
// with assertions built by go-jose: an aud array with a foreign value next to
// the issuer is refused (CVE-2025-27370/27371), [issuer] is accepted, iat
// up to 10 s ahead is accepted and more than 60 s is refused, and an
// assertion used at PAR cannot be used again at the token endpoint.
func TestClientAssertionAudienceAndClockSkew(t *testing.T) {
	e := start(t)
	a := e.privateKeyJWTClient(t)
	tokenURL, parURL := e.issuer+"/oauth2/token", e.issuer+"/oauth2/par"
	now := time.Now()
	cases := map[string]struct {
		claims map[string]any
		ok     bool
	}{
		"ok/aud-issuer":                   {map[string]any{"aud": e.issuer}, true},
		"ok/aud-issuer-one-element-array": {map[string]any{"aud": []string{e.issuer}}, true},
		"ok/aud-token-url":                {map[string]any{"aud": tokenURL}, true},
		"fail/aud-issuer-and-foreign":     {map[string]any{"aud": []string{e.issuer, "https://evil.example"}}, false},
		"fail/aud-foreign-and-token-url":  {map[string]any{"aud": []string{"https://evil.example", tokenURL}}, false},
		"fail/aud-par-url-at-token":       {map[string]any{"aud": parURL}, false},
		"ok/iat-5s-ahead":                 {map[string]any{"aud": e.issuer, "iat": now.Add(5 * time.Second).Unix()}, true},
		"ok/nbf-5s-ahead":                 {map[string]any{"aud": e.issuer, "nbf": now.Add(5 * time.Second).Unix()}, true},
		"fail/iat-61s-ahead":              {map[string]any{"aud": e.issuer, "iat": now.Add(61 * time.Second).Unix()}, false},
		"fail/exp-missing":                {map[string]any{"aud": e.issuer, "exp": nil}, false},
		"fail/sub-differs-from-iss":       {map[string]any{"aud": e.issuer, "sub": "someone-else"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, m := postForm(t, tokenURL, a.form(a.signClaims(t, tc.claims)), "", "")
			if tc.ok && (code != http.StatusOK || m["access_token"] == nil) {
				t.Fatalf("%d %v; want a token", code, m)
			}
			if !tc.ok && (code != http.StatusUnauthorized || m["error"] != "invalid_client") {
				t.Fatalf("%d %v; want 401 invalid_client", code, m)
			}
		})
	}
	t.Run("fail/replay-from-par-at-token", func(t *testing.T) {
		par := webClient("authorization_code")
		par.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
		raw, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &a.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		par.JWKS = raw
		e.createClient(par)
		b := &assertionClient{id: par.ID, key: a.key}
		as := b.signClaims(t, map[string]any{"aud": e.issuer})
		form := e.clientAuthEndpoints()["par"]
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", as)
		if code, m := postForm(t, parURL, form, "", ""); code != http.StatusCreated {
			t.Fatalf("PAR: %d %v", code, m)
		}
		tok := url.Values{"grant_type": {"authorization_code"}, "code": {"garbage"}, "redirect_uri": {redirectURI},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {as}}
		if code, m := postForm(t, tokenURL, tok, "", ""); code != http.StatusUnauthorized || m["error"] != "invalid_client" {
			t.Fatalf("replay at token: %d %v; want 401 invalid_client", code, m)
		}
	})
}

// TestUnregisteredResponseTypeIsUnauthorizedClient: a response type the
// server serves but the client did not register is unauthorized_client (RFC
// 6749 §4.1.2.1) at the authorization and PAR endpoints; one the server does
// not serve stays unsupported_response_type.
func TestUnregisteredResponseTypeIsUnauthorizedClient(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code") // response types: code
	secret := e.createClient(c)
	_, challenge := pkcePair()
	query := func(rt string) url.Values {
		return url.Values{"response_type": {rt}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"state": {randString()}, "nonce": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	for rt, want := range map[string]string{"code id_token": "unauthorized_client", "id_token code": "unauthorized_client", "token": "unsupported_response_type", "code token": "unsupported_response_type"} {
		t.Run("authorize/"+rt, func(t *testing.T) {
			resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + query(rt).Encode())
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), redirectURI) {
				t.Fatalf("%d %s; want a redirect to the client", resp.StatusCode, loc)
			}
			params := loc.Query()
			if frag, _ := url.ParseQuery(loc.Fragment); frag.Get("error") != "" {
				params = frag
			}
			if params.Get("error") != want || params.Get("iss") != e.issuer {
				t.Fatalf("redirect %s; want error=%s with iss", loc, want)
			}
		})
		t.Run("par/"+rt, func(t *testing.T) {
			code, m := postForm(t, e.issuer+"/oauth2/par", query(rt), c.ID, secret)
			if code != http.StatusBadRequest || m["error"] != want {
				t.Fatalf("%d %v; want 400 %s", code, m, want)
			}
		})
	}
}

// TestClientCredentialsInURLAreRefused: RFC 6749 §2.3.1 — client credentials
// in the request URI are refused (400 invalid_request) at every endpoint that
// authenticates clients; fosite's PAR endpoint used to accept a secret there.
func TestClientCredentialsInURLAreRefused(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials", "authorization_code")
	c.TokenEndpointAuthMethod = storage.AuthMethodSecretPost
	secret := e.createClient(c)
	for endpoint, params := range e.clientAuthEndpoints() {
		t.Run(endpoint, func(t *testing.T) {
			params.Set("client_id", c.ID)
			u := e.issuer + "/oauth2/" + endpoint + "?" + url.Values{"client_secret": {secret}}.Encode()
			code, _, m := postWithHeader(t, u, params, nil)
			if code != http.StatusBadRequest || m["error"] != "invalid_request" {
				t.Fatalf("%d %v; want 400 invalid_request", code, m)
			}
		})
	}
}
