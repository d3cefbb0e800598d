package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/redis/go-redis/v9"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/dpop/redisreplay"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// Sender-constrained tokens (issue 9): DPoP (RFC 9449) and certificate-bound
// access tokens (RFC 8705 §3), over the real server and PostgreSQL. Test
// names follow the OpenID conformance-suite modules they mirror.

// dpopKey is a client's DPoP key pair.
type dpopKey struct {
	t   *testing.T
	alg jose.SignatureAlgorithm
	key any // the private key
	jwk jose.JSONWebKey
}

func newDPoPKey(t *testing.T) *dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{t: t, alg: jose.ES256, key: k, jwk: jose.JSONWebKey{Key: &k.PublicKey, Algorithm: "ES256"}}
}

// newRS256DPoPKey is an RSA 2048 DPoP key signing RS256.
func newRS256DPoPKey(t *testing.T) *dpopKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{t: t, alg: jose.RS256, key: k, jwk: jose.JSONWebKey{Key: &k.PublicKey, Algorithm: "RS256"}}
}

// jkt is the key's RFC 7638 thumbprint.
func (k *dpopKey) jkt() string {
	b, err := k.jwk.Thumbprint(cryptoSHA256)
	if err != nil {
		k.t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// proof signs a DPoP proof for method and htu; nonce and token (ath) when set.
func (k *dpopKey) proof(method, htu, nonce, token string) string {
	return k.proofWithJTI(method, htu, nonce, token, randString())
}

func (k *dpopKey) proofWithJTI(method, htu, nonce, token, jti string) string {
	k.t.Helper()
	opts := (&jose.SignerOptions{}).WithType(dpop.ProofType).WithHeader("jwk", k.jwk)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		k.t.Fatal(err)
	}
	claims := map[string]any{"jti": jti, "htm": method, "htu": htu, "iat": time.Now().Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if token != "" {
		claims["ath"] = dpop.AccessTokenHash(token)
	}
	payload, _ := json.Marshal(claims)
	sig, err := signer.Sign(payload)
	if err != nil {
		k.t.Fatal(err)
	}
	s, err := sig.CompactSerialize()
	if err != nil {
		k.t.Fatal(err)
	}
	return s
}

// answer is an HTTP answer: status, headers, decoded JSON body.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// send posts form (or GETs when form is nil) with basic auth and extra headers.
func send(t *testing.T, hc *http.Client, method, u string, form url.Values, user, pass string, header map[string]string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &a.body)
	}
	return a
}

// wantError asserts an OAuth error answer.
func wantError(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["error"] != code {
		t.Fatalf("%s: got %d %v, want %d %s", what, a.status, a.body, status, code)
	}
}

// dpopClient is a confidential client_credentials and code client that
// must use DPoP (dpop_bound_access_tokens); a FAPI 2.0 one authenticates
// with private_key_jwt (fapi2PrivateKeyJWT), as the profile requires.
func dpopClient(fapi2 bool) *storage.Client {
	c := webClient("authorization_code", "client_credentials", "refresh_token")
	c.Metadata.DPoPBoundAccessTokens = true
	if fapi2 {
		c.Metadata.Profile = storage.ProfileFAPI2
	}
	return c
}

// dpopToken runs client_credentials with a proof of k, answering the nonce
// challenge first (the client needs nonces under the default optional
// mode), and returns the successful answer.
func dpopToken(t *testing.T, e *env, id, secret string, k *dpopKey) answer {
	t.Helper()
	tokenURL := e.issuer + authz.PathToken
	form := url.Values{"grant_type": {"client_credentials"}}
	a := send(t, nil, "POST", tokenURL, form, id, secret, map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
	wantError(t, "proof without a nonce", a, http.StatusBadRequest, dpop.CodeUseNonce)
	nonce := a.header.Get(dpop.NonceHeaderName)
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	a = send(t, nil, "POST", tokenURL, form, id, secret, map[string]string{"DPoP": k.proof("POST", tokenURL, nonce, "")})
	if a.status != http.StatusOK {
		t.Fatalf("token with a nonce: %d %v", a.status, a.body)
	}
	return a
}

// TestFAPI2EnsureHolderOfKeyRequired mirrors fapi2-…-ensure-holder-of-key-required:
// a DPoP-bound client's token request without a proof is refused
// (invalid_dpop_proof, RFC 9449 §5), like a FAPI 2.0 client's, and so is a
// certificate-bound client's without a certificate (invalid_request).
func TestFAPI2EnsureHolderOfKeyRequired(t *testing.T) {
	e := start(t)
	c := dpopClient(true)
	auth := fapi2PrivateKeyJWT(t, e, c)
	a := send(t, nil, "POST", e.issuer+authz.PathToken, auth(url.Values{"grant_type": {"client_credentials"}}), "", "", nil)
	wantError(t, "DPoP-bound client without a proof", a, http.StatusBadRequest, dpop.CodeInvalidProof)

	// a FAPI 2.0 client is sender-constrained even without dpop_bound_access_tokens
	fc := webClient("client_credentials")
	fc.Metadata.Profile = storage.ProfileFAPI2
	fauth := fapi2PrivateKeyJWT(t, e, fc)
	a = send(t, nil, "POST", e.issuer+authz.PathToken, fauth(url.Values{"grant_type": {"client_credentials"}}), "", "", nil)
	wantError(t, "FAPI 2.0 client without a proof", a, http.StatusBadRequest, dpop.CodeInvalidProof)

	mc := webClient("client_credentials")
	mc.Metadata.TLSClientCertificateBoundAccessTokens = true
	msecret := e.createClient(mc)
	a = send(t, nil, "POST", e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, mc.ID, msecret, nil)
	wantError(t, "certificate-bound client without a certificate", a, http.StatusBadRequest, "invalid_request")
}

// TestDPoPClientCredentialsBindsToken: a proof (with the server's nonce)
// makes token_type DPoP; the token is bound to the key (cnf.jkt) in the JWT
// access token and at introspection, which says token_type DPoP; every
// success carries a fresh DPoP-Nonce.
func TestDPoPClientCredentialsBindsToken(t *testing.T) {
	e := start(t)
	c := dpopClient(false)
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := e.createClient(c)
	k := newDPoPKey(t)
	a := dpopToken(t, e, c.ID, secret, k)
	if a.body["token_type"] != "DPoP" || a.header.Get(dpop.NonceHeaderName) == "" {
		t.Fatalf("token response: %v (DPoP-Nonce %q)", a.body, a.header.Get(dpop.NonceHeaderName))
	}
	token := a.body["access_token"].(string)
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("want a JWT access token, got %q", token)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(raw, &claims)
	if jkt, ok := dpop.JKTFromClaims(claims); !ok || jkt != k.jkt() {
		t.Fatalf("JWT access token cnf: %v, want jkt %s", claims["cnf"], k.jkt())
	}
	in := send(t, nil, "POST", e.issuer+authz.PathIntrospect, url.Values{"token": {token}}, c.ID, secret, nil)
	cnf, _ := in.body["cnf"].(map[string]any)
	if in.body["active"] != true || in.body["token_type"] != "DPoP" || cnf["jkt"] != k.jkt() {
		t.Fatalf("introspection: %v", in.body)
	}
	// a client that may use DPoP but need not: a plain request stays Bearer
	plain := webClient("client_credentials")
	psecret := e.createClient(plain)
	a = send(t, nil, "POST", e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, plain.ID, psecret, nil)
	if a.status != http.StatusOK || !strings.EqualFold(a.body["token_type"].(string), "bearer") {
		t.Fatalf("plain client_credentials: %d %v", a.status, a.body)
	}
	// ... and an optional proof without a nonce binds its token
	a = send(t, nil, "POST", e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, plain.ID, psecret,
		map[string]string{"DPoP": k.proof("POST", e.issuer+authz.PathToken, "", "")})
	if a.status != http.StatusOK || a.body["token_type"] != "DPoP" {
		t.Fatalf("optional DPoP: %d %v", a.status, a.body)
	}
}

// TestFAPI2EnsureDPoPProofWithWrongHTUFails mirrors
// fapi2-…-ensure-dpop-proof-with-wrong-htu-fails (and the same for htm).
func TestFAPI2EnsureDPoPProofWithWrongHTUFails(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	c := dpopClient(true)
	auth := fapi2PrivateKeyJWT(t, e, c)
	k := newDPoPKey(t)
	form := url.Values{"grant_type": {"client_credentials"}}
	for name, proof := range map[string]string{
		"wrong htu": k.proof("POST", e.issuer+"/oauth2/other", "", ""),
		"wrong htm": k.proof("GET", e.issuer+authz.PathToken, "", ""),
		"garbage":   "not.a.proof",
	} {
		a := send(t, nil, "POST", e.issuer+authz.PathToken, auth(form), "", "", map[string]string{"DPoP": proof})
		wantError(t, name, a, http.StatusBadRequest, dpop.CodeInvalidProof)
	}
	// nonces off: a good proof needs none
	a := send(t, nil, "POST", e.issuer+authz.PathToken, auth(form), "", "", map[string]string{"DPoP": k.proof("POST", e.issuer+authz.PathToken, "", "")})
	if a.status != http.StatusOK || a.body["token_type"] != "DPoP" || a.header.Get(dpop.NonceHeaderName) != "" {
		t.Fatalf("good proof, nonces off: %d %v %v", a.status, a.body, a.header)
	}
}

// TestFAPI2EnsureDPoPProofWithRS256Fails: a FAPI 2.0 client's proof must
// use PS256, ES256 or EdDSA (FAPI 2.0 SP §5.4); RS256 is invalid_dpop_proof
// for it, and accepted from an ordinary client.
func TestFAPI2EnsureDPoPProofWithRS256Fails(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	k := newRS256DPoPKey(t)
	form := url.Values{"grant_type": {"client_credentials"}}
	tokenURL := e.issuer + authz.PathToken
	fc := dpopClient(true)
	fauth := fapi2PrivateKeyJWT(t, e, fc)
	a := send(t, nil, "POST", tokenURL, fauth(form), "", "", map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
	wantError(t, "FAPI 2.0 client, RS256 proof", a, http.StatusBadRequest, dpop.CodeInvalidProof)
	c := webClient("client_credentials")
	secret := e.createClient(c)
	a = send(t, nil, "POST", tokenURL, form, c.ID, secret, map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
	if a.status != http.StatusOK || a.body["token_type"] != "DPoP" {
		t.Fatalf("ordinary client, RS256 proof: %d %v", a.status, a.body)
	}
}

// TestDPoPNonceRequiredForEveryClient: serve --dpop-nonce required asks
// every client, also one that need not use DPoP, for a nonce.
func TestDPoPNonceRequiredForEveryClient(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceRequired })
	c := webClient("client_credentials")
	secret := e.createClient(c)
	a := dpopToken(t, e, c.ID, secret, newDPoPKey(t))
	if a.body["token_type"] != "DPoP" {
		t.Fatalf("token: %v", a.body)
	}
}

// TestDPoPJTIReplayRefusedAcrossNodes: a proof's jti is single use across
// every node on one database: the key and jti accepted by node A are refused
// by node B.
func TestDPoPJTIReplayRefusedAcrossNodes(t *testing.T) {
	dpopJTIReplayRefusedAcrossNodes(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
}

// TestDPoPJTIReplayRefusedAcrossNodesOnRedis: the same with serve
// --redis-url: two nodes on one database keep their proof ids in the real
// Redis (the record is there, under redisreplay's prefix), and a jti
// accepted by node A is refused by node B.
func TestDPoPJTIReplayRefusedAcrossNodesOnRedis(t *testing.T) {
	addr := os.Getenv("STRONGROOM_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	k, jti := dpopJTIReplayRefusedAcrossNodes(t, func(c *server.Config) {
		c.DPoPNonce = dpop.NonceOff
		c.RedisURL = "redis://" + addr + "/0"
	})
	key := redisreplay.DefaultPrefix + dpop.ReplayKey(k.jkt(), jti)
	n, err := rdb.Exists(t.Context(), key).Result()
	if err != nil || n != 1 {
		t.Fatalf("proof record %s in Redis: %d %v", key, n, err)
	}
	_ = rdb.Del(context.Background(), key).Err()
}

// dpopJTIReplayRefusedAcrossNodes starts two nodes on one database with the
// configuration change and shows that a proof's jti accepted by one is
// refused by the other (and by itself); it returns the proof's key and jti.
func dpopJTIReplayRefusedAcrossNodes(t *testing.T, mutate func(*server.Config)) (*dpopKey, string) {
	t.Helper()
	a := startWith(t, mutate)
	b := &env{Env: a.StartPeer(t), t: t}
	b.srv, b.issuer = b.Server, b.Issuer
	c := webClient("client_credentials")
	secret := a.createClient(c)
	k := newDPoPKey(t)
	jti := randString()
	form := url.Values{"grant_type": {"client_credentials"}}
	got := send(t, nil, "POST", a.issuer+authz.PathToken, form, c.ID, secret,
		map[string]string{"DPoP": k.proofWithJTI("POST", a.issuer+authz.PathToken, "", "", jti)})
	if got.status != http.StatusOK || got.body["token_type"] != "DPoP" {
		t.Fatalf("node A: %d %v", got.status, got.body)
	}
	got = send(t, nil, "POST", b.issuer+authz.PathToken, form, c.ID, secret,
		map[string]string{"DPoP": k.proofWithJTI("POST", b.issuer+authz.PathToken, "", "", jti)})
	wantError(t, "the same jti at node B", got, http.StatusBadRequest, dpop.CodeInvalidProof)
	// and on the same node
	got = send(t, nil, "POST", a.issuer+authz.PathToken, form, c.ID, secret,
		map[string]string{"DPoP": k.proofWithJTI("POST", a.issuer+authz.PathToken, "", "", jti)})
	wantError(t, "the same jti at node A", got, http.StatusBadRequest, dpop.CodeInvalidProof)
	return k, jti
}

// codeFlow runs PAR (with extra parameters and headers) and the browser
// login and returns the code and the PKCE verifier.
func codeFlow(t *testing.T, e *env, c *storage.Client, secret string, extra url.Values, header map[string]string) (code, verifier string) {
	t.Helper()
	verifier, challenge := pkcePair()
	params := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid offline_access"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		params[k] = v
	}
	user := c.ID
	if c.Public {
		user, secret = "", ""
	}
	a := send(t, nil, "POST", e.issuer+authz.PathPAR, params, user, secret, header)
	if a.status != http.StatusCreated {
		t.Fatalf("PAR: %d %v", a.status, a.body)
	}
	authURL := e.issuer + authz.PathAuthorize + "?" + url.Values{"client_id": {c.ID}, "request_uri": {a.body["request_uri"].(string)}}.Encode()
	loc := e.login(newBrowser(t), authURL, "alice", testPassword, !c.Metadata.SkipConsent)
	if loc.Query().Get("code") == "" {
		t.Fatalf("authorization response: %s", loc)
	}
	return loc.Query().Get("code"), verifier
}

// redeem exchanges code with a proof of k (nil: no proof).
func redeem(t *testing.T, e *env, c *storage.Client, secret, code, verifier string, k *dpopKey) answer {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	user := c.ID
	if c.Public {
		user, secret = "", ""
		form.Set("client_id", c.ID)
	}
	var h map[string]string
	if k != nil {
		h = map[string]string{"DPoP": k.proof("POST", e.issuer+authz.PathToken, "", "")}
	}
	return send(t, nil, "POST", e.issuer+authz.PathToken, form, user, secret, h)
}

// TestFAPI2EnsureMismatchedDPoPJKTFails mirrors
// fapi2-…-ensure-mismatched-dpop-jkt-fails: a code bound to key A (dpop_jkt
// at PAR) redeemed with a proof of key B is invalid_grant (the proof is
// valid; the grant belongs to another key), and without a proof
// invalid_dpop_proof; a dpop_jkt at PAR that is not the key of the PAR's
// own proof is invalid_dpop_proof.
func TestFAPI2EnsureMismatchedDPoPJKTFails(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	c := webClient("authorization_code", "refresh_token")
	c.Metadata.SkipConsent = true // one login per code
	secret := e.createClient(c)
	ka, kb := newDPoPKey(t), newDPoPKey(t)

	code, verifier := codeFlow(t, e, c, secret, url.Values{"dpop_jkt": {ka.jkt()}}, nil)
	wantError(t, "code bound to A, proof of B", redeem(t, e, c, secret, code, verifier, kb), http.StatusBadRequest, "invalid_grant")
	code, verifier = codeFlow(t, e, c, secret, url.Values{"dpop_jkt": {ka.jkt()}}, nil)
	wantError(t, "code bound to A, no proof", redeem(t, e, c, secret, code, verifier, nil), http.StatusBadRequest, dpop.CodeInvalidProof)
	code, verifier = codeFlow(t, e, c, secret, url.Values{"dpop_jkt": {ka.jkt()}}, nil)
	if a := redeem(t, e, c, secret, code, verifier, ka); a.status != http.StatusOK || a.body["token_type"] != "DPoP" {
		t.Fatalf("code bound to A, proof of A: %d %v", a.status, a.body)
	}

	// a proof at PAR binds the code to its key
	code, verifier = codeFlow(t, e, c, secret, nil, map[string]string{"DPoP": ka.proof("POST", e.issuer+authz.PathPAR, "", "")})
	wantError(t, "code bound by the PAR proof of A, proof of B", redeem(t, e, c, secret, code, verifier, kb), http.StatusBadRequest, "invalid_grant")

	// dpop_jkt and the PAR proof disagree; a malformed dpop_jkt
	params := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}, "dpop_jkt": {kb.jkt()}}
	a := send(t, nil, "POST", e.issuer+authz.PathPAR, params, c.ID, secret, map[string]string{"DPoP": ka.proof("POST", e.issuer+authz.PathPAR, "", "")})
	wantError(t, "PAR dpop_jkt of B with a proof of A", a, http.StatusBadRequest, dpop.CodeInvalidProof)
	params.Set("dpop_jkt", "not-a-thumbprint")
	a = send(t, nil, "POST", e.issuer+authz.PathPAR, params, c.ID, secret, nil)
	wantError(t, "malformed dpop_jkt", a, http.StatusBadRequest, "invalid_request")
}

// TestDPoPBoundTokenAsBearerAtUserinfoFails: a DPoP-bound access token is
// refused at userinfo as Bearer, with the DPoP scheme but no proof, with a
// proof without ath or of another key (401, WWW-Authenticate: DPoP
// error="invalid_token"), and accepted with the DPoP scheme and a proof of
// its key over the request and token.
func TestDPoPBoundTokenAsBearerAtUserinfoFails(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	k, other := newDPoPKey(t), newDPoPKey(t)
	code, verifier := codeFlow(t, e, c, secret, nil, nil)
	tok := redeem(t, e, c, secret, code, verifier, k)
	if tok.status != http.StatusOK || tok.body["token_type"] != "DPoP" {
		t.Fatalf("token: %d %v", tok.status, tok.body)
	}
	at := tok.body["access_token"].(string)
	ui := e.issuer + authz.PathUserinfo
	refused := func(what string, h map[string]string) {
		t.Helper()
		a := send(t, nil, "GET", ui, nil, "", "", h)
		if a.status != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) {
			t.Fatalf("%s: %d %q %v", what, a.status, a.header.Get("WWW-Authenticate"), a.body)
		}
	}
	refused("as Bearer", map[string]string{"Authorization": "Bearer " + at})
	refused("DPoP without a proof", map[string]string{"Authorization": "DPoP " + at})
	refused("proof without ath", map[string]string{"Authorization": "DPoP " + at, "DPoP": k.proof("GET", ui, "", "")})
	refused("proof of another key", map[string]string{"Authorization": "DPoP " + at, "DPoP": other.proof("GET", ui, "", at)})
	refused("proof for another URI", map[string]string{"Authorization": "DPoP " + at, "DPoP": k.proof("GET", e.issuer+"/other", "", at)})
	a := send(t, nil, "GET", ui, nil, "", "", map[string]string{"Authorization": "DPoP " + at, "DPoP": k.proof("GET", ui, "", at)})
	if a.status != http.StatusOK || a.body["sub"] == nil {
		t.Fatalf("userinfo with a good proof: %d %v", a.status, a.body)
	}

	// a confidential client's refresh is not key-bound, but its new access token is bound again
	rt := tok.body["refresh_token"].(string)
	r := send(t, nil, "POST", e.issuer+authz.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret,
		map[string]string{"DPoP": other.proof("POST", e.issuer+authz.PathToken, "", "")})
	if r.status != http.StatusOK || r.body["token_type"] != "DPoP" {
		t.Fatalf("refresh: %d %v", r.status, r.body)
	}
	in := send(t, nil, "POST", e.issuer+authz.PathIntrospect, url.Values{"token": {r.body["access_token"].(string)}}, c.ID, secret, nil)
	if cnf, _ := in.body["cnf"].(map[string]any); cnf["jkt"] != other.jkt() {
		t.Fatalf("refreshed token's cnf: %v", in.body)
	}
}

// TestDPoPUserinfoNonce: with nonces required, userinfo asks for one
// (401 use_dpop_nonce with DPoP-Nonce) and accepts the retry.
func TestDPoPUserinfoNonce(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceRequired })
	c := webClient("authorization_code")
	secret := e.createClient(c)
	k := newDPoPKey(t)
	code, verifier := codeFlow(t, e, c, secret, nil, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	a := send(t, nil, "POST", e.issuer+authz.PathToken, form, c.ID, secret, map[string]string{"DPoP": k.proof("POST", e.issuer+authz.PathToken, "", "")})
	wantError(t, "token without a nonce", a, http.StatusBadRequest, dpop.CodeUseNonce)
	nonce := a.header.Get(dpop.NonceHeaderName)
	a = send(t, nil, "POST", e.issuer+authz.PathToken, form, c.ID, secret, map[string]string{"DPoP": k.proof("POST", e.issuer+authz.PathToken, nonce, "")})
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	at := a.body["access_token"].(string)
	ui := e.issuer + authz.PathUserinfo
	u := send(t, nil, "GET", ui, nil, "", "", map[string]string{"Authorization": "DPoP " + at, "DPoP": k.proof("GET", ui, "", at)})
	if u.status != http.StatusUnauthorized || !strings.HasPrefix(u.header.Get("WWW-Authenticate"), `DPoP error="use_dpop_nonce"`) || u.header.Get(dpop.NonceHeaderName) == "" {
		t.Fatalf("userinfo without a nonce: %d %v %v", u.status, u.header, u.body)
	}
	u = send(t, nil, "GET", ui, nil, "", "", map[string]string{"Authorization": "DPoP " + at, "DPoP": k.proof("GET", ui, u.header.Get(dpop.NonceHeaderName), at)})
	if u.status != http.StatusOK {
		t.Fatalf("userinfo with the nonce: %d %v", u.status, u.body)
	}
}

// TestDPoPPublicClientRefreshTokenBound: a public client's refresh token is
// bound to the key of its code exchange: a refresh with another key is
// invalid_grant, without a proof invalid_dpop_proof, with the key a new
// DPoP-bound token.
func TestDPoPPublicClientRefreshTokenBound(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.DPoPNonce = dpop.NonceOff })
	c := webClient("authorization_code", "refresh_token")
	c.Public, c.TokenEndpointAuthMethod = true, storage.AuthMethodNone
	e.createClient(c)
	k, other := newDPoPKey(t), newDPoPKey(t)
	code, verifier := codeFlow(t, e, c, "", nil, nil)
	tok := redeem(t, e, c, "", code, verifier, k)
	if tok.status != http.StatusOK || tok.body["token_type"] != "DPoP" || tok.body["refresh_token"] == nil {
		t.Fatalf("token: %d %v", tok.status, tok.body)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.body["refresh_token"].(string)}, "client_id": {c.ID}}
	tokenURL := e.issuer + authz.PathToken
	wantError(t, "refresh with another key", send(t, nil, "POST", tokenURL, form, "", "", map[string]string{"DPoP": other.proof("POST", tokenURL, "", "")}), http.StatusBadRequest, "invalid_grant")
	wantError(t, "refresh without a proof", send(t, nil, "POST", tokenURL, form, "", "", nil), http.StatusBadRequest, dpop.CodeInvalidProof)
	r := send(t, nil, "POST", tokenURL, form, "", "", map[string]string{"DPoP": k.proof("POST", tokenURL, "", "")})
	if r.status != http.StatusOK || r.body["token_type"] != "DPoP" {
		t.Fatalf("refresh with the key: %d %v", r.status, r.body)
	}
}

// TestDiscoverySenderConstraint: discovery names the DPoP proof algorithms
// and certificate-bound access tokens.
func TestDiscoverySenderConstraint(t *testing.T) {
	e := start(t)
	a := send(t, nil, "GET", e.issuer+authz.PathOIDCDiscovery, nil, "", "", nil)
	algs, _ := a.body["dpop_signing_alg_values_supported"].([]any)
	if len(algs) == 0 || a.body["tls_client_certificate_bound_access_tokens"] != true {
		t.Fatalf("discovery: %v %v", a.body["dpop_signing_alg_values_supported"], a.body["tls_client_certificate_bound_access_tokens"])
	}
	for _, alg := range algs {
		if alg == "none" || strings.HasPrefix(alg.(string), "HS") {
			t.Fatalf("discovery lists %v", alg)
		}
	}
}

// startTLS runs a server that terminates TLS and requests client
// certificates, and returns it with a TLS client for each certificate.
func startTLS(t *testing.T) (*env, *testCA, func(certs ...tls.Certificate) *http.Client) {
	t.Helper()
	ca := newTestCA(t, "Strongroom test CA")
	serverCert := ca.issue(t, "127.0.0.1", true)
	e := startWith(t, func(c *server.Config) {
		c.TLS = mtls.RequestClientCertificates(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serverCert}}, nil)
		c.ClientCAs = ca.pool()
	})
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), Certificates: certs, MinVersion: tls.VersionTLS12}}}
	}
	return e, ca, client
}

// TestCertificateBoundTokenWithOtherCertificateFails: a
// TLSClientCertificateBoundAccessTokens client presenting a certificate
// gets cnf.x5t#S256 (introspection reports it); at userinfo the token is
// refused (401 invalid_token) without a certificate or with another one,
// and passes the binding check with its own (then 403 insufficient_scope:
// a client_credentials token has no openid scope).
func TestCertificateBoundTokenWithOtherCertificateFails(t *testing.T) {
	e, ca, client := startTLS(t)
	mine, other := ca.issue(t, "client one", false), ca.issue(t, "client two", false)
	c := webClient("client_credentials")
	c.Metadata.TLSClientCertificateBoundAccessTokens = true
	secret := e.createClient(c)
	form := url.Values{"grant_type": {"client_credentials"}}
	wantError(t, "no certificate", send(t, client(), "POST", e.issuer+authz.PathToken, form, c.ID, secret, nil), http.StatusBadRequest, "invalid_request")
	a := send(t, client(mine), "POST", e.issuer+authz.PathToken, form, c.ID, secret, nil)
	if a.status != http.StatusOK {
		t.Fatalf("token with a certificate: %d %v", a.status, a.body)
	}
	at := a.body["access_token"].(string)
	leaf, _ := x509Parse(mine)
	in := send(t, client(), "POST", e.issuer+authz.PathIntrospect, url.Values{"token": {at}}, c.ID, secret, nil)
	if cnf, _ := in.body["cnf"].(map[string]any); cnf["x5t#S256"] != mtls.Thumbprint(leaf) || in.body["token_type"] != "Bearer" {
		t.Fatalf("introspection: %v", in.body)
	}
	ui := e.issuer + authz.PathUserinfo
	h := map[string]string{"Authorization": "Bearer " + at}
	for what, hc := range map[string]*http.Client{"no certificate": client(), "another certificate": client(other)} {
		u := send(t, hc, "GET", ui, nil, "", "", h)
		if u.status != http.StatusUnauthorized || !strings.Contains(u.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("userinfo with %s: %d %v %v", what, u.status, u.header, u.body)
		}
	}
	if u := send(t, client(mine), "GET", ui, nil, "", "", h); u.status != http.StatusForbidden || u.body["error"] != "insufficient_scope" {
		t.Fatalf("userinfo with the bound certificate: %d %v", u.status, u.body)
	}
}

// cryptoSHA256 is the thumbprint hash of RFC 7638 / RFC 9449.
const cryptoSHA256 = crypto.SHA256

// x509Parse returns the leaf of a TLS certificate.
func x509Parse(c tls.Certificate) (*x509.Certificate, error) {
	return x509.ParseCertificate(c.Certificate[0])
}

// TestCertificateBoundTokenThroughTrustedProxy: behind a TLS-terminating
// proxy (serve --client-cert-header from --trusted-proxy) the forwarded
// certificate binds the token, and userinfo compares the certificate the
// proxy forwards with it (another one: 401 invalid_token).
func TestCertificateBoundTokenThroughTrustedProxy(t *testing.T) {
	ca := newTestCA(t, "partner CA")
	mine, other := ca.issue(t, "client one", false), ca.issue(t, "client two", false)
	e := startWith(t, func(c *server.Config) {
		trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		src, err := mtls.NewCertificateSource("X-Client-Cert", trusted)
		if err != nil {
			t.Fatal(err)
		}
		c.TrustedProxies, c.ClientCertificates, c.ClientCAs = trusted, src, ca.pool()
	})
	header := func(c tls.Certificate) string { return base64.StdEncoding.EncodeToString(c.Certificate[0]) }
	c := webClient("client_credentials")
	c.Metadata.TLSClientCertificateBoundAccessTokens = true
	secret := e.createClient(c)
	form := url.Values{"grant_type": {"client_credentials"}}
	wantError(t, "no forwarded certificate", send(t, nil, "POST", e.issuer+authz.PathToken, form, c.ID, secret, nil), http.StatusBadRequest, "invalid_request")
	a := send(t, nil, "POST", e.issuer+authz.PathToken, form, c.ID, secret, map[string]string{"X-Client-Cert": header(mine)})
	if a.status != http.StatusOK {
		t.Fatalf("token with a forwarded certificate: %d %v", a.status, a.body)
	}
	at := a.body["access_token"].(string)
	leaf, _ := x509Parse(mine)
	in := send(t, nil, "POST", e.issuer+authz.PathIntrospect, url.Values{"token": {at}}, c.ID, secret, nil)
	if cnf, _ := in.body["cnf"].(map[string]any); cnf["x5t#S256"] != mtls.Thumbprint(leaf) {
		t.Fatalf("introspection: %v", in.body)
	}
	ui := e.issuer + authz.PathUserinfo
	u := send(t, nil, "GET", ui, nil, "", "", map[string]string{"Authorization": "Bearer " + at, "X-Client-Cert": header(other)})
	if u.status != http.StatusUnauthorized || u.body["error"] != "invalid_token" {
		t.Fatalf("userinfo with another forwarded certificate: %d %v", u.status, u.body)
	}
	u = send(t, nil, "GET", ui, nil, "", "", map[string]string{"Authorization": "Bearer " + at, "X-Client-Cert": header(mine)})
	if u.status != http.StatusForbidden || u.body["error"] != "insufficient_scope" {
		t.Fatalf("userinfo with the bound forwarded certificate: %d %v", u.status, u.body)
	}
}

// TestDiscoveryMTLSEndpointAliases: with serve --mtls-base-url, discovery
// lists the client-authenticating endpoints under the mTLS host (RFC 8705
// §5), and a DPoP proof of a token request that arrives on that host names
// it in htu; without it discovery has no aliases.
func TestDiscoveryMTLSEndpointAliases(t *testing.T) {
	const mtlsHost = "mtls.auth.example.test:8443"
	plain := start(t)
	if a := send(t, nil, "GET", plain.issuer+authz.PathOIDCDiscovery, nil, "", "", nil); a.body["mtls_endpoint_aliases"] != nil {
		t.Fatalf("aliases without --mtls-base-url: %v", a.body["mtls_endpoint_aliases"])
	}

	e := startWith(t, func(c *server.Config) { c.MTLSBaseURL, c.DPoPNonce = "https://"+mtlsHost, dpop.NonceOff })
	a := send(t, nil, "GET", e.issuer+authz.PathOIDCDiscovery, nil, "", "", nil)
	aliases, _ := a.body["mtls_endpoint_aliases"].(map[string]any)
	for key, path := range map[string]string{
		"token_endpoint": authz.PathToken, "pushed_authorization_request_endpoint": authz.PathPAR,
		"introspection_endpoint": authz.PathIntrospect, "revocation_endpoint": authz.PathRevoke, "userinfo_endpoint": authz.PathUserinfo,
	} {
		if aliases[key] != "https://"+mtlsHost+path {
			t.Errorf("mtls_endpoint_aliases.%s = %v", key, aliases[key])
		}
	}
	if len(aliases) != 5 || a.body["token_endpoint"] != e.issuer+authz.PathToken {
		t.Fatalf("discovery: aliases %v, token_endpoint %v", aliases, a.body["token_endpoint"])
	}

	c := webClient("client_credentials")
	secret := e.createClient(c)
	k := newDPoPKey(t)
	aliasToken := "https://" + mtlsHost + authz.PathToken
	token := func(host, htu string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", e.issuer+authz.PathToken, strings.NewReader("grant_type=client_credentials"))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", k.proof("POST", htu, "", ""))
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := token(mtlsHost, aliasToken); resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("on the alias host, htu of the alias: %d %s", resp.StatusCode, body)
	}
	if resp := token(strings.TrimPrefix(e.issuer, "http://"), aliasToken); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("on the issuer's host, htu of the alias: %d", resp.StatusCode)
	}
}
