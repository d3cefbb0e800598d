package dpop_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/dpop"
)

// fixedNonce is a NonceSource that hands out and accepts one nonce.
type fixedNonce string

func (n fixedNonce) Nonce(time.Time) string               { return string(n) }
func (n fixedNonce) Valid(nonce string, _ time.Time) bool { return nonce == string(n) }

// Proofs made by a client library we did not write: panva's dpop 2.1.2
// (npm), by the author of oauth4webapi and openid-client. testdata holds
// only public keys and proofs, made with:
//
//	for alg of ['ES256', 'PS256', 'Ed25519', 'RS256']:
//	  kp = await DPoP.generateKeyPair(alg)
//	  token    = DPoP.generateProof(kp, 'https://as.example.com/oauth2/token', 'POST', 'server-nonce')
//	  resource = DPoP.generateProof(kp, 'https://as.example.com/userinfo', 'GET', undefined, 'the-access-token')
//	  jkt      = DPoP.calculateThumbprint(kp.publicKey)
func TestDPoPProofsOfPanvasDPoPLibraryVerify(t *testing.T) {
	raw, err := os.ReadFile("testdata/panva-dpop-2.1.2.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixtures map[string]struct{ Token, Resource, JKT string }
	if err := json.Unmarshal(raw, &fixtures); err != nil {
		t.Fatal(err)
	}
	if len(fixtures) != 4 {
		t.Fatalf("%d fixtures, want 4", len(fixtures))
	}
	for alg, f := range fixtures {
		t.Run(alg, func(t *testing.T) {
			v, clk := newVerifier(t, dpop.Config{Nonces: fixedNonce("server-nonce")})

			clk.Set(issuedAt(t, f.Token))
			p, err := v.Verify(t.Context(), dpop.Request{
				Proof: f.Token, Method: "POST", URI: "https://as.example.com/oauth2/token", RequireNonce: true,
			})
			if err != nil {
				t.Fatalf("token endpoint proof: %v", err)
			}
			if p.JKT != f.JKT || p.Algorithm != alg || p.Nonce != "server-nonce" {
				t.Errorf("proof = %+v, want jkt %s", p, f.JKT)
			}

			clk.Set(issuedAt(t, f.Resource))
			p, err = v.Verify(t.Context(), dpop.Request{
				Proof: f.Resource, Method: "GET", URI: "https://as.example.com/userinfo",
				AccessToken: "the-access-token", BoundJKT: f.JKT,
			})
			if err != nil {
				t.Fatalf("resource proof: %v", err)
			}
			if p.JKT != f.JKT {
				t.Errorf("resource proof jkt = %s, want %s", p.JKT, f.JKT)
			}
		})
	}
}

// issuedAt reads a proof's iat without verifying it (test fixtures only).
func issuedAt(t *testing.T, proof string) time.Time {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(proof, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ IAT int64 }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return time.Unix(c.IAT, 0)
}
