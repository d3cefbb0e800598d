package dpop_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/dpop"
)

func TestDPoPProofWithEveryDefaultAlgorithmSucceeds(t *testing.T) {
	keys(t)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
		pub any
	}{
		{jose.ES256, ecKey, &ecKey.PublicKey},
		{jose.PS256, rsaKey, &rsaKey.PublicKey},
		{jose.RS256, rsaKey, &rsaKey.PublicKey},
		{jose.EdDSA, edKey, edKey.Public()},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			p, err := v.Verify(t.Context(), request(signProof(t, tc.alg, tc.key, claims("jti-"+string(tc.alg)))))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want := jktOf(t, tc.pub); p.JKT != want {
				t.Errorf("JKT = %q, want %q", p.JKT, want)
			}
			if p.Algorithm != string(tc.alg) || p.JTI != "jti-"+string(tc.alg) || p.Method != testMethod ||
				p.URI != testURI || !p.IssuedAt.Equal(testNow) || p.Nonce != "" {
				t.Errorf("proof = %+v", p)
			}
			if !p.Key.IsPublic() {
				t.Error("returned key is not public")
			}
		})
	}
}

// RFC 7638 §3.1: the thumbprint of the example RSA key.
func TestDPoPJKTIsTheRFC7638Thumbprint(t *testing.T) {
	const example = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(example)); err != nil {
		t.Fatal(err)
	}
	if got := jktOf(t, k.Key); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint = %q", got)
	}
}

func TestDPoPProofWithWrongHTUFails(t *testing.T) {
	for _, htu := range []string{
		"https://as.example.com/oauth2/userinfo",
		"https://evil.example.com/oauth2/token",
		"http://as.example.com/oauth2/token",
		"https://as.example.com:8443/oauth2/token",
		"https://as.example.com/oauth2/token/",
		"https://as.example.com/OAUTH2/token",
		"as.example.com/oauth2/token",
		"https://user@as.example.com/oauth2/token",
		"",
	} {
		t.Run(htu, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			c := claims("jti")
			c["htu"] = htu
			_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrURI)
		})
	}
}

func TestDPoPProofHTUMatchesAfterRFC3986Normalisation(t *testing.T) {
	for _, htu := range []string{
		"HTTPS://AS.Example.COM/oauth2/token",
		"https://as.example.com:443/oauth2/token",
		"https://as.example.com:/oauth2/token",
		"https://as.example.com/oauth2/./token",
		"https://as.example.com/oauth2/x/../token",
		"https://as.example.com/%6Fauth2/token",
		"https://as.example.com/%6fauth2/tok%65n",
		"https://as.example.com/oauth2/token?x=1",
		"https://as.example.com/oauth2/token#frag",
	} {
		t.Run(htu, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			c := claims("jti")
			c["htu"] = htu
			if _, err := v.Verify(t.Context(), request(es256Proof(t, c))); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestDPoPProofHTUIgnoresTheRequestQuery(t *testing.T) {
	v, _ := newVerifier(t, dpop.Config{})
	req := request(es256Proof(t, claims("jti")))
	req.URI = testURI + "?foo=bar#x"
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNormalizeHTU(t *testing.T) {
	for in, want := range map[string]string{
		"https://EXAMPLE.com":                  "https://example.com/",
		"http://example.com:80/a":              "http://example.com/a",
		"http://example.com:443/a":             "http://example.com:443/a",
		"https://example.com:80/a":             "https://example.com:80/a",
		"https://example.com/a/b/../../c/./d":  "https://example.com/c/d",
		"https://example.com/../a":             "https://example.com/a",
		"https://example.com/a%2fb":            "https://example.com/a%2Fb",
		"https://example.com/%7Euser/%41%42":   "https://example.com/~user/AB",
		"https://[::1]:443/x":                  "https://[::1]/x",
		"https://[2001:DB8::1]:8443/x":         "https://[2001:db8::1]:8443/x",
		"https://example.com/a?b=c#d":          "https://example.com/a",
		"https://example.com/%2e%2E/a":         "https://example.com/a",
		"https://example.com/a/%2E/b":          "https://example.com/a/b",
		"https://example.com/a/b/..":           "https://example.com/a/",
		"https://example.com/caf%C3%A9":        "https://example.com/caf%C3%A9",
		"https://example.com/caf%c3%a9":        "https://example.com/caf%C3%A9",
		"https://example.com/token?x=%zz":      "https://example.com/token",
		"https://example.com/a#%zz":            "https://example.com/a",
		"https://example.com/a//b":             "https://example.com/a//b",
		"https://example.com/a/./b/../c/":      "https://example.com/a/c/",
		"https://example.com/oauth2/token/../": "https://example.com/oauth2/",
	} {
		got, err := dpop.NormalizeHTU(in)
		if err != nil || got != want {
			t.Errorf("NormalizeHTU(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"", "/token", "example.com/token", "ftp://example.com/x", "https://", "https:///x",
		"https://u:p@example.com/x", "https://example.com/%zz", "https://example.com/%4",
		"mailto:a@example.com", "https:opaque", strings.Repeat("a", 5000),
	} {
		if got, err := dpop.NormalizeHTU(bad); err == nil {
			t.Errorf("NormalizeHTU(%q) = %q, want an error", bad, got)
		}
	}
}

func TestDPoPProofWithWrongHTMFails(t *testing.T) {
	for _, htm := range []string{"GET", "post", "POST ", ""} {
		v, _ := newVerifier(t, dpop.Config{})
		c := claims("jti")
		c["htm"] = htm
		_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
		wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMethod)
	}
}

func TestDPoPProofWithPrivateKeyInJWKFails(t *testing.T) {
	keys(t)
	for name, jwk := range map[string]map[string]any{
		"EC d":      jwkMap(t, jose.JSONWebKey{Key: ecKey}),
		"RSA d":     jwkMap(t, jose.JSONWebKey{Key: rsaKey}),
		"OKP d":     jwkMap(t, jose.JSONWebKey{Key: edKey}),
		"oct k":     {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
		"EC with p": func() map[string]any { m := publicJWKMap(t, &ecKey.PublicKey); m["p"] = "AQAB"; return m }(),
	} {
		t.Run(name, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			h := map[string]any{"typ": dpop.ProofType, "alg": "ES256", "jwk": jwk}
			_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), es256Sign(ecKey))))
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrPrivateKey)
		})
	}
}

func TestDPoPProofSignedWithHS256Fails(t *testing.T) {
	keys(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, _ := newVerifier(t, dpop.Config{})
	for name, jwk := range map[string]map[string]any{
		"with an EC jwk": publicJWKMap(t, &ecKey.PublicKey),
		"without jwk":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			h := map[string]any{"typ": dpop.ProofType, "alg": "HS256"}
			if jwk != nil {
				h["jwk"] = jwk
			}
			_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), hs256Sign(secret))))
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAlgorithm)
		})
	}
}

func TestDPoPProofWithAlgNoneFails(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{})
	h := map[string]any{"typ": dpop.ProofType, "alg": "none", "jwk": publicJWKMap(t, &ecKey.PublicKey)}
	proof := rawProof(t, h, claims("jti"), func([]byte) []byte { return nil })
	_, err := v.Verify(t.Context(), request(proof))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAlgorithm)
}

func TestDPoPProofWithAlgorithmOutsideTheAllowListFails(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{Algorithms: []string{"ES256"}})
	_, err := v.Verify(t.Context(), request(signProof(t, jose.PS256, rsaKey, claims("jti"))))
	de := wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAlgorithm)
	if !strings.Contains(de.Description, "ES256") {
		t.Errorf("description %q does not name the accepted algorithms", de.Description)
	}
	if got := v.Algorithms(); len(got) != 1 || got[0] != "ES256" {
		t.Errorf("Algorithms() = %v", got)
	}
}

func TestNewVerifierRefusesSymmetricOrUnknownAlgorithms(t *testing.T) {
	rc := dpop.NewStoreReplayCache(nil)
	for _, alg := range []string{"HS256", "none", "", "ES256K", "RSA-OAEP"} {
		if _, err := dpop.NewVerifier(dpop.Config{Algorithms: []string{alg}, ReplayCache: rc}); err == nil {
			t.Errorf("NewVerifier accepted algorithm %q", alg)
		}
	}
	if _, err := dpop.NewVerifier(dpop.Config{}); err == nil {
		t.Error("NewVerifier accepted a config without a ReplayCache")
	}
	v, err := dpop.NewVerifier(dpop.Config{ReplayCache: rc})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Algorithms(), " "); got != "ES256 PS256 EdDSA Ed25519 RS256" {
		t.Errorf("default algorithms = %q", got)
	}
}

func TestDPoPProofWithWrongTypFails(t *testing.T) {
	keys(t)
	for _, typ := range []any{"JWT", "dpop+JWT", "application/dpop+jwt", "", nil, 7} {
		v, _ := newVerifier(t, dpop.Config{})
		h := map[string]any{"alg": "ES256", "jwk": publicJWKMap(t, &ecKey.PublicKey)}
		if typ != nil {
			h["typ"] = typ
		}
		_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), es256Sign(ecKey))))
		if typ == 7 {
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMalformed)
			continue
		}
		wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrType)
	}
}

func TestDPoPProofWithoutJWKFails(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{})
	for _, jwk := range []any{nil, "a string", map[string]any{}, map[string]any{"kty": "EC"}} {
		h := map[string]any{"typ": dpop.ProofType, "alg": "ES256"}
		if jwk != nil {
			h["jwk"] = jwk
		}
		_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), es256Sign(ecKey))))
		wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrKey)
	}
}

func TestDPoPProofWithKeyNotOfItsAlgorithmFails(t *testing.T) {
	keys(t)
	small := smallRSAKey(t)
	for name, tc := range map[string]struct {
		alg  string
		jwk  any
		sign func([]byte) []byte
	}{
		"ES256 with an RSA key": {"ES256", &rsaKey.PublicKey, es256Sign(ecKey)},
		"RS256 with an EC key":  {"RS256", &ecKey.PublicKey, es256Sign(ecKey)},
		"EdDSA with an EC key":  {"EdDSA", &ecKey.PublicKey, es256Sign(ecKey)},
		"RS256 with 1024 bits": {"RS256", &small.PublicKey, func(in []byte) []byte {
			return rs256Sign(t, small, in)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			h := map[string]any{"typ": dpop.ProofType, "alg": tc.alg, "jwk": publicJWKMap(t, tc.jwk)}
			_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), tc.sign)))
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrKey)
		})
	}
}

// rs256Sign signs input with key (RSASSA-PKCS1-v1_5 over SHA-256), for
// rawProof headers that go-jose would not write.
func rs256Sign(t testing.TB, key *rsa.PrivateKey, input []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(input)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestDPoPProofWithBadSignatureFails(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{})
	// Signed by ecKey2 but carrying ecKey's public key.
	h := map[string]any{"typ": dpop.ProofType, "alg": "ES256", "jwk": publicJWKMap(t, &ecKey.PublicKey)}
	_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), es256Sign(ecKey2))))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrSignature)

	// A valid proof with its claims swapped after signing.
	proof := es256Proof(t, claims("jti"))
	parts := strings.Split(proof, ".")
	other := claims("jti")
	other["htu"] = "https://as.example.com/other"
	b, _ := json.Marshal(other)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	_, err = v.Verify(t.Context(), request(strings.Join(parts, ".")))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrSignature)
}

func TestDPoPProofMissingClaimsFail(t *testing.T) {
	for _, name := range []string{"jti", "htm", "htu", "iat"} {
		t.Run(name, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			c := claims("jti")
			delete(c, name)
			_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
			de := wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMissingClaim)
			if !strings.Contains(de.Description, name) {
				t.Errorf("description %q does not name %s", de.Description, name)
			}
		})
	}
}

func TestDPoPProofWithClaimsOfWrongTypesFail(t *testing.T) {
	for name, value := range map[string]any{"jti": 5, "htm": true, "htu": []string{testURI}, "iat": "1700000000"} {
		t.Run(name, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			c := claims("jti")
			c[name] = value
			_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMalformed)
		})
	}
}

func TestDPoPProofWithEmptyOrLongJTIFails(t *testing.T) {
	for _, jti := range []string{"", strings.Repeat("j", 257)} {
		v, _ := newVerifier(t, dpop.Config{})
		_, err := v.Verify(t.Context(), request(es256Proof(t, claims(jti))))
		wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrJTI)
	}
}

func TestDPoPProofIATWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration
		ok     bool
	}{
		{"now", 0, true},
		{"59 s old", -59 * time.Second, true},
		{"60 s old", -60 * time.Second, true},
		{"61 s old", -61 * time.Second, false},
		{"an hour old", -time.Hour, false},
		{"10 s ahead", 10 * time.Second, true},
		{"11 s ahead", 11 * time.Second, false},
		{"61 s ahead", 61 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			c := claims("jti")
			c["iat"] = testNow.Add(tc.offset).Unix()
			_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
			if tc.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tc.ok {
				wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrIssuedAt)
			}
		})
	}
	t.Run("configured window", func(t *testing.T) {
		v, _ := newVerifier(t, dpop.Config{MaxAge: 5 * time.Minute, FutureSkew: time.Second})
		c := claims("old")
		c["iat"] = testNow.Add(-4 * time.Minute).Unix()
		if _, err := v.Verify(t.Context(), request(es256Proof(t, c))); err != nil {
			t.Fatalf("4 minutes old within a 5-minute window: %v", err)
		}
		c = claims("ahead")
		c["iat"] = testNow.Add(2 * time.Second).Unix()
		_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
		wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrIssuedAt)
	})
	t.Run("fractional and absurd iat", func(t *testing.T) {
		v, _ := newVerifier(t, dpop.Config{})
		c := claims("frac")
		c["iat"] = float64(testNow.Unix()) + 0.5
		if _, err := v.Verify(t.Context(), request(es256Proof(t, c))); err != nil {
			t.Fatalf("fractional iat: %v", err)
		}
		for _, iat := range []any{-1, 1e300, 0} {
			c := claims("absurd")
			c["iat"] = iat
			_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
			wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrIssuedAt)
		}
	})
}

func TestDPoPProofReplayedFails(t *testing.T) {
	v, clk := newVerifier(t, dpop.Config{})
	proof := es256Proof(t, claims("once"))
	if _, err := v.Verify(t.Context(), request(proof)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := v.Verify(t.Context(), request(proof))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrReplay)

	// The same jti from another key is another proof.
	keys(t)
	if _, err := v.Verify(t.Context(), request(signProof(t, jose.ES256, ecKey2, claims("once")))); err != nil {
		t.Fatalf("same jti, other key: %v", err)
	}
	// Still refused at the end of its window, and then by its age.
	clk.Set(testNow.Add(dpop.DefaultMaxAge))
	_, err = v.Verify(t.Context(), request(proof))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrReplay)
	clk.Set(testNow.Add(dpop.DefaultMaxAge + time.Second))
	_, err = v.Verify(t.Context(), request(proof))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrIssuedAt)
}

func TestDPoPProofNotRecordedWhenRefused(t *testing.T) {
	// A proof refused for its htu must not burn its jti.
	v, _ := newVerifier(t, dpop.Config{})
	proof := es256Proof(t, claims("jti"))
	req := request(proof)
	req.URI = "https://as.example.com/other"
	_, err := v.Verify(t.Context(), req)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrURI)
	if _, err := v.Verify(t.Context(), request(proof)); err != nil {
		t.Fatalf("proof after a refusal: %v", err)
	}
}

type failingCache struct{}

func (failingCache) Use(context.Context, string, time.Time) error {
	return errors.New("connection refused")
}

func TestDPoPProofRefusedWhenTheReplayCacheFails(t *testing.T) {
	v, _ := newVerifier(t, dpop.Config{ReplayCache: failingCache{}})
	_, err := v.Verify(t.Context(), request(es256Proof(t, claims("jti"))))
	de := wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrReplayCache)
	if !de.ServerFault() {
		t.Error("ServerFault() = false for a cache failure")
	}
	if strings.Contains(de.Description, "connection refused") {
		t.Error("description leaks the cache error")
	}
}

func TestDPoPProofWithWrongATHFails(t *testing.T) {
	const token = "access-token-value"
	v, _ := newVerifier(t, dpop.Config{})
	for name, ath := range map[string]any{
		"other token":   dpop.AccessTokenHash("another-token"),
		"plain token":   token,
		"padded base64": dpop.AccessTokenHash(token) + "=",
		"missing":       nil,
	} {
		t.Run(name, func(t *testing.T) {
			c := claims("jti-" + name)
			if ath != nil {
				c["ath"] = ath
			}
			req := request(es256Proof(t, c))
			req.AccessToken = token
			_, err := v.Verify(t.Context(), req)
			if ath == nil {
				wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMissingClaim)
				return
			}
			de := wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAccessTokenHash)
			if strings.Contains(de.Error(), token) {
				t.Error("error repeats the access token")
			}
		})
	}
	t.Run("right ath", func(t *testing.T) {
		c := claims("jti-ok")
		c["ath"] = dpop.AccessTokenHash(token)
		req := request(es256Proof(t, c))
		req.AccessToken = token
		if _, err := v.Verify(t.Context(), req); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// RFC 9449 §7.1 example: ath of the token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
func TestAccessTokenHashMatchesTheRFCExample(t *testing.T) {
	if got := dpop.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Errorf("ath = %q", got)
	}
}

func TestDPoPProofWithMismatchedJKTFails(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{})
	req := request(es256Proof(t, claims("jti")))
	req.BoundJKT = jktOf(t, &ecKey2.PublicKey)
	_, err := v.Verify(t.Context(), req)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrKeyMismatch)

	req = request(es256Proof(t, claims("jti-2")))
	req.BoundJKT = jktOf(t, &ecKey.PublicKey)
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("bound to its own key: %v", err)
	}
}

func TestCheckBinding(t *testing.T) {
	if err := dpop.CheckBinding("abc", "abc"); err != nil {
		t.Errorf("same jkt: %v", err)
	}
	for _, tc := range [][2]string{{"abc", "abd"}, {"abc", ""}, {"", ""}, {"", "abc"}, {"abc", "abcd"}} {
		wantRefused(t, dpop.CheckBinding(tc[0], tc[1]), dpop.CodeInvalidProof, dpop.ErrKeyMismatch)
	}
}

func TestConfirmationClaim(t *testing.T) {
	b, err := json.Marshal(map[string]any{"cnf": dpop.NewConfirmation("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}` {
		t.Errorf("cnf JSON = %s", b)
	}
	var decoded map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	for name, claims := range map[string]map[string]any{
		"decoded JSON": decoded,
		"Claim()":      {"cnf": dpop.NewConfirmation("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I").Claim()},
		"struct":       {"cnf": dpop.NewConfirmation("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")},
	} {
		if jkt, ok := dpop.JKTFromClaims(claims); !ok || jkt != "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" {
			t.Errorf("%s: JKTFromClaims = %q, %v", name, jkt, ok)
		}
	}
	for _, unbound := range []map[string]any{nil, {}, {"cnf": "x"}, {"cnf": map[string]any{"x5t#S256": "y"}}, {"cnf": map[string]any{"jkt": ""}}} {
		if jkt, ok := dpop.JKTFromClaims(unbound); ok {
			t.Errorf("JKTFromClaims(%v) = %q, true", unbound, jkt)
		}
	}
}

func TestProofFromHeader(t *testing.T) {
	h := http.Header{}
	_, err := dpop.ProofFromHeader(h)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrNoProof)

	h.Set("DPoP", " a.b.c ")
	if got, err := dpop.ProofFromHeader(h); err != nil || got != "a.b.c" {
		t.Errorf("one header: %q, %v", got, err)
	}
	h.Add("Dpop", "d.e.f")
	_, err = dpop.ProofFromHeader(h)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMultipleProofs)

	h = http.Header{"Dpop": {"a.b.c, d.e.f"}}
	_, err = dpop.ProofFromHeader(h)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMultipleProofs)
}

func TestResourceChallenge(t *testing.T) {
	algs := []string{"ES256", "PS256"}
	if got := dpop.ResourceChallenge(nil, algs); got != `DPoP algs="ES256 PS256"` {
		t.Errorf("bare challenge = %s", got)
	}
	v, _ := newVerifier(t, dpop.Config{})
	c := claims("jti")
	c["htm"] = "GET"
	_, err := v.Verify(t.Context(), request(es256Proof(t, c)))
	want := `DPoP error="invalid_token", error_description="The DPoP proof htm does not match the HTTP method of the request.", algs="ES256 PS256"`
	if got := dpop.ResourceChallenge(err, algs); got != want {
		t.Errorf("challenge = %s\nwant        %s", got, want)
	}
	nonceErr := &dpop.Error{Code: dpop.CodeUseNonce, Description: `say "hi"`, Nonce: "n"}
	if got := dpop.ResourceChallenge(nonceErr, nil); got != `DPoP error="use_dpop_nonce", error_description="say hi"` {
		t.Errorf("nonce challenge = %s", got)
	}
	if got := dpop.ResourceChallenge(errors.New("x"), nil); got != `DPoP error="invalid_token"` {
		t.Errorf("other error challenge = %s", got)
	}
}

// Garbage never panics and always gives a typed refusal.
func TestDPoPGarbageProofsFailWithTypedErrors(t *testing.T) {
	valid := es256Proof(t, claims("jti"))
	parts := strings.Split(valid, ".")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, tc := range map[string]struct {
		proof  string
		reason error
	}{
		"empty":                {"", dpop.ErrNoProof},
		"one part":             {"abc", dpop.ErrMalformed},
		"two parts":            {parts[0] + "." + parts[1], dpop.ErrMalformed},
		"four parts":           {valid + ".x", dpop.ErrMalformed},
		"truncated":            {valid[:len(valid)/2], dpop.ErrMalformed},
		"truncated signature":  {valid[:len(valid)-10], dpop.ErrSignature},
		"no signature":         {parts[0] + "." + parts[1] + ".", dpop.ErrSignature},
		"empty header":         {"." + parts[1] + "." + parts[2], dpop.ErrMalformed},
		"header not base64":    {"!!!." + parts[1] + "." + parts[2], dpop.ErrMalformed},
		"header padded":        {parts[0] + "==." + parts[1] + "." + parts[2], dpop.ErrMalformed},
		"header not JSON":      {b64("not json") + "." + parts[1] + "." + parts[2], dpop.ErrMalformed},
		"header a JSON array":  {b64(`["typ"]`) + "." + parts[1] + "." + parts[2], dpop.ErrMalformed},
		"header JSON null":     {b64(`null`) + "." + parts[1] + "." + parts[2], dpop.ErrType},
		"claims not base64":    {parts[0] + ".%%%." + parts[2], dpop.ErrMalformed},
		"claims not JSON":      {parts[0] + "." + b64("{") + "." + parts[2], dpop.ErrSignature},
		"huge":                 {strings.Repeat("A", 1<<20), dpop.ErrTooLarge},
		"huge header":          {strings.Repeat("A", 7000) + "." + parts[1] + "." + parts[2], dpop.ErrTooLarge},
		"JWE-shaped":           {"a.b.c.d.e", dpop.ErrMalformed},
		"crit header":          {rawProofT(t, map[string]any{"crit": []string{"exp"}}), dpop.ErrMalformed},
		"unsigned claims JSON": {rawClaimsProof(t, "[]"), dpop.ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			v, _ := newVerifier(t, dpop.Config{})
			_, err := v.Verify(t.Context(), request(tc.proof))
			de := wantRefused(t, err, dpop.CodeInvalidProof, tc.reason)
			if tc.proof != "" && strings.Contains(de.Description, tc.proof) {
				t.Error("description repeats the proof")
			}
		})
	}
}

// rawProofT is a proof of ecKey with extra protected header members.
func rawProofT(t testing.TB, extra map[string]any) string {
	keys(t)
	h := map[string]any{"typ": dpop.ProofType, "alg": "ES256", "jwk": publicJWKMap(t, &ecKey.PublicKey)}
	for k, v := range extra {
		h[k] = v
	}
	return rawProof(t, h, claims("jti"), es256Sign(ecKey))
}

// rawClaimsProof is a correctly signed proof whose claims are claimsJSON.
func rawClaimsProof(t testing.TB, claimsJSON string) string {
	keys(t)
	h := map[string]any{"typ": dpop.ProofType, "alg": "ES256", "jwk": publicJWKMap(t, &ecKey.PublicKey)}
	hb, _ := json.Marshal(h)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString([]byte(claimsJSON))
	return input + "." + base64.RawURLEncoding.EncodeToString(es256Sign(ecKey)([]byte(input)))
}

func TestNewRequestFromAnHTTPRequest(t *testing.T) {
	v, _ := newVerifier(t, dpop.Config{})
	r, err := http.NewRequest(testMethod, "http://internal:8080/oauth2/token?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("DPoP", es256Proof(t, claims("jti")))
	req, err := dpop.NewRequest(r, "https://as.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if req.URI != testURI || req.Method != testMethod {
		t.Errorf("request = %+v", req)
	}
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r.Header.Del("DPoP")
	_, err = dpop.NewRequest(r, "https://as.example.com")
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrNoProof)
}

func TestDPoPProofWithAHugeAccessTokenFails(t *testing.T) {
	v, _ := newVerifier(t, dpop.Config{})
	token := strings.Repeat("t", 17<<10)
	c := claims("jti")
	c["ath"] = dpop.AccessTokenHash(token)
	req := request(es256Proof(t, c))
	req.AccessToken = token
	_, err := v.Verify(t.Context(), req)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAccessTokenHash)
}

func TestValidJKT(t *testing.T) {
	keys(t)
	if jkt := jktOf(t, &ecKey.PublicKey); !dpop.ValidJKT(jkt) {
		t.Errorf("ValidJKT(%q) = false", jkt)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 42), strings.Repeat("A", 44),
		strings.Repeat("A", 42) + "=", strings.Repeat("A", 42) + "+", strings.Repeat("A", 42) + "B"} {
		if dpop.ValidJKT(bad) {
			t.Errorf("ValidJKT(%q) = true", bad)
		}
	}
}

// Member names are case-sensitive and duplicates are refused, as go-jose
// reads them: a proof means one thing to every JOSE library.
func TestDPoPProofWithMisCasedOrDuplicateMembersFails(t *testing.T) {
	keys(t)
	jwk := publicJWKMap(t, &ecKey.PublicKey)
	v, _ := newVerifier(t, dpop.Config{})

	h := map[string]any{"TYP": dpop.ProofType, "alg": "ES256", "jwk": jwk}
	_, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), es256Sign(ecKey))))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrType)

	c := claims("jti")
	c["HTU"] = c["htu"]
	delete(c, "htu")
	_, err = v.Verify(t.Context(), request(es256Proof(t, c)))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMissingClaim)

	dup := `{"jti":"a","jti":"b","htm":"POST","htu":"` + testURI + `","iat":` + strconv.FormatInt(testNow.Unix(), 10) + `}`
	_, err = v.Verify(t.Context(), request(rawClaimsProof(t, dup)))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrMalformed)
}

func TestDPoPProofWithRS256FailsForAClientNarrowedToFAPIAlgorithms(t *testing.T) {
	keys(t)
	v, _ := newVerifier(t, dpop.Config{})
	fapi := []string{"PS256", "ES256", "EdDSA"}
	req := request(signProof(t, jose.RS256, rsaKey, claims("jti-rs")))
	req.Algorithms = fapi
	_, err := v.Verify(t.Context(), req)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAlgorithm)

	req = request(signProof(t, jose.PS256, rsaKey, claims("jti-ps")))
	req.Algorithms = fapi
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("PS256 for a FAPI client: %v", err)
	}
	// Narrowing never widens: HS256 stays refused whatever the list says.
	req = request(rawProof(t, map[string]any{"typ": dpop.ProofType, "alg": "HS256", "jwk": publicJWKMap(t, &ecKey.PublicKey)},
		claims("jti-hs"), hs256Sign([]byte("0123456789abcdef0123456789abcdef"))))
	req.Algorithms = []string{"HS256"}
	_, err = v.Verify(t.Context(), req)
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAlgorithm)
}

// "Ed25519" (RFC 9864), the name current clients give EdDSA over Ed25519.
func TestDPoPProofWithFullySpecifiedEd25519Succeeds(t *testing.T) {
	keys(t)
	edSign := func(key ed25519.PrivateKey) func([]byte) []byte {
		return func(in []byte) []byte { return ed25519.Sign(key, in) }
	}
	pub := edKey.Public()
	h := map[string]any{"typ": dpop.ProofType, "alg": "Ed25519", "jwk": publicJWKMap(t, pub)}

	v, _ := newVerifier(t, dpop.Config{})
	p, err := v.Verify(t.Context(), request(rawProof(t, h, claims("jti"), edSign(edKey))))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.JKT != jktOf(t, pub) || p.Algorithm != "Ed25519" {
		t.Errorf("proof = %+v", p)
	}

	_, other, _ := ed25519.GenerateKey(nil)
	_, err = v.Verify(t.Context(), request(rawProof(t, h, claims("jti-2"), edSign(other))))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrSignature)

	hEC := map[string]any{"typ": dpop.ProofType, "alg": "Ed25519", "jwk": publicJWKMap(t, &ecKey.PublicKey)}
	_, err = v.Verify(t.Context(), request(rawProof(t, hEC, claims("jti-3"), es256Sign(ecKey))))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrKey)

	vNo, _ := newVerifier(t, dpop.Config{Algorithms: []string{"ES256", "EdDSA"}})
	_, err = vNo.Verify(t.Context(), request(rawProof(t, h, claims("jti-4"), edSign(edKey))))
	wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrAlgorithm)
}
