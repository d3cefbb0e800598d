package keys

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// privateJWKParams are the JWK members that carry private key material
// (RFC 7518 sections 6.2.2 and 6.3.2, RFC 8037 section 2).
var privateJWKParams = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func TestGenerate(t *testing.T) {
	kek := testKEK(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))

	tests := map[string]struct {
		alg     string
		kty     string
		wantErr error
	}{
		"ok/RS256":    {alg: RS256, kty: "RSA"},
		"ok/PS256":    {alg: PS256, kty: "RSA"},
		"ok/ES256":    {alg: ES256, kty: "EC"},
		"ok/EdDSA":    {alg: EdDSA, kty: "OKP"},
		"fail/HS256":  {alg: "HS256", wantErr: ErrUnsupportedAlg},
		"fail/none":   {alg: "none", wantErr: ErrUnsupportedAlg},
		"fail/empty":  {alg: "", wantErr: ErrUnsupportedAlg},
		"fail/es256":  {alg: "es256", wantErr: ErrUnsupportedAlg},
		"fail/RS512":  {alg: "RS512", wantErr: ErrUnsupportedAlg},
		"fail/ES384":  {alg: "ES384", wantErr: ErrUnsupportedAlg},
		"fail/Ed448":  {alg: "Ed448", wantErr: ErrUnsupportedAlg},
		"fail/RSA1_5": {alg: "RSA1_5", wantErr: ErrUnsupportedAlg},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k, err := Generate(kek, tc.alg, now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if k.Alg != tc.alg || k.State != "" || !k.CreatedAt.Equal(now) || k.CreatedAt.Location() != time.UTC {
				t.Errorf("row = alg %q state %q created %v", k.Alg, k.State, k.CreatedAt)
			}
			if len(k.KID) != 43 {
				t.Errorf("kid %q: want a 43-character base64url thumbprint", k.KID)
			}

			var members map[string]any
			if err := json.Unmarshal(k.PublicJWK, &members); err != nil {
				t.Fatal(err)
			}
			if members["kid"] != k.KID || members["alg"] != tc.alg || members["use"] != "sig" || members["kty"] != tc.kty {
				t.Errorf("public JWK = %s", k.PublicJWK)
			}
			for _, p := range privateJWKParams {
				if _, ok := members[p]; ok {
					t.Errorf("public JWK has private member %q", p)
				}
			}

			var jwk jose.JSONWebKey
			if err := jwk.UnmarshalJSON(k.PublicJWK); err != nil {
				t.Fatal(err)
			}
			thumb, err := jwk.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if got := base64.RawURLEncoding.EncodeToString(thumb); got != k.KID {
				t.Errorf("kid %q is not the RFC 7638 thumbprint %q", k.KID, got)
			}

			aead, _ := newAEAD(kek)
			der, err := open(aead, k.KID, k.PrivateEnc)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatalf("not PKCS#8: %v", err)
			}
			if !priv.(interface{ Public() crypto.PublicKey }).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(jwk.Key) {
				t.Error("private key does not match the public JWK")
			}
			if _, err := openPrivateKey(aead, k, jwk.Key); err != nil {
				t.Errorf("openPrivateKey: %v", err)
			}
		})
	}

	t.Run("fail/wrong-length-kek", func(t *testing.T) {
		if _, err := Generate(kek[:31], ES256, now); !errors.Is(err, ErrInvalidKEK) {
			t.Fatalf("err = %v, want ErrInvalidKEK", err)
		}
	})
	t.Run("ok/distinct-kids", func(t *testing.T) {
		a, err := Generate(kek, ES256, now)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(kek, ES256, now)
		if err != nil {
			t.Fatal(err)
		}
		if a.KID == b.KID {
			t.Fatal("two keys share a kid")
		}
	})
}
