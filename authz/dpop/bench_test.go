package dpop_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/storage/memory"
)

// BenchmarkVerifyProof measures the whole ES256 proof check (parse, typ,
// alg, jwk, thumbprint, signature, claims, htu normalisation, replay record
// in the memory store) beside a bare ES256 signature verification
// (crypto/ecdsa VerifyASN1 is the floor; Verify over big.Int r, s and a
// go-jose JWS parse-and-verify build up to what go-jose does), in the same
// run, so the overhead of the DPoP checks reads directly. Issue 9 wants
// the whole check well under 0.2 ms.
//
//	go test -run '^$' -bench BenchmarkVerifyProof ./authz/dpop/
func BenchmarkVerifyProof(b *testing.B) {
	keys(b)
	b.Run("bare-ecdsa-p256-verify", func(b *testing.B) {
		sum := sha256.Sum256([]byte("signing input"))
		r, s, err := ecdsa.Sign(nil, ecKey, sum[:])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.Verify(&ecKey.PublicKey, sum[:], r, s) {
				b.Fatal("signature does not verify")
			}
		}
	})
	b.Run("bare-ecdsa-p256-verifyasn1", func(b *testing.B) {
		// the floor: crypto/ecdsa's own verification, no big.Int conversion
		sum := sha256.Sum256([]byte("signing input"))
		sig, err := ecdsa.SignASN1(rand.Reader, ecKey, sum[:])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.VerifyASN1(&ecKey.PublicKey, sum[:], sig) {
				b.Fatal("signature does not verify")
			}
		}
	})
	b.Run("bare-jose-es256-jws-verify", func(b *testing.B) {
		proof := es256Proof(b, claims("jti"))
		b.ReportAllocs()
		for b.Loop() {
			jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := jws.Verify(&ecKey.PublicKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole-proof", func(b *testing.B) { benchVerify(b, false) })
	b.Run("whole-proof-with-nonce-and-ath", func(b *testing.B) { benchVerify(b, true) })
}

// benchVerify verifies b.N distinct proofs (each is single use), signed
// before the timer starts.
func benchVerify(b *testing.B, nonceAndATH bool) {
	now := time.Now()
	cfg := dpop.Config{
		ReplayCache: dpop.NewStoreReplayCache(memory.New()),
		Now:         func() time.Time { return now },
	}
	const token = "an-access-token-of-realistic-length-0123456789abcdefghijklmnopqrstuvwxyz"
	if nonceAndATH {
		n, err := dpop.NewHMACNonces([]byte(strings.Repeat("k", 32)), 0)
		if err != nil {
			b.Fatal(err)
		}
		cfg.Nonces = n
	}
	v, err := dpop.NewVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]dpop.Request, b.N)
	for i := range reqs {
		c := claims(fmt.Sprintf("jti-%d", i))
		c["iat"] = now.Unix()
		req := request("")
		if nonceAndATH {
			c["nonce"] = v.Nonce()
			c["ath"] = dpop.AccessTokenHash(token)
			req.AccessToken = token
			req.RequireNonce = true
		}
		req.Proof = es256Proof(b, c)
		reqs[i] = req
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.Verify(b.Context(), reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
}
