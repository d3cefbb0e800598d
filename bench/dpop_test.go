package bench

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// BenchmarkClientCredentialsDPoP: client_credentials with a DPoP proof
// (ES256, a fresh jti each: the proof check, the jti's replay record,
// written in one statement with the token, and token_type DPoP) beside plain
// client_credentials, on one server in the same run, so the cost of DPoP
// reads directly. The proofs are signed before the timer starts (signing
// costs about as much as checking, and on a small machine the client's
// signing would otherwise take CPU from the server); the proof check alone
// is BenchmarkVerifyProof in authz/dpop, the database floors
// BenchmarkFloorPgxInsert and BenchmarkFloorPgxDPoPInserts:
//
//	go test -p 1 -run '^$' -bench 'BenchmarkClientCredentialsDPoP|BenchmarkFloorPgx|BenchmarkVerifyProof' -benchtime 3s ./bench/ ./authz/dpop/
func BenchmarkClientCredentialsDPoP(b *testing.B) {
	env := servertest.Start(b, bigPool)
	c := &storage.Client{Name: "bench", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic}
	secret := env.CreateClient(b, c)
	tokenURL := env.Issuer + "/oauth2/token"
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}}.Encode()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: &key.PublicKey}))
	if err != nil {
		b.Fatal(err)
	}
	proof := func() (string, error) {
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		claims, _ := json.Marshal(map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": "POST", "htu": tokenURL, "iat": time.Now().Unix()})
		sig, err := signer.Sign(claims)
		if err != nil {
			return "", err
		}
		return sig.CompactSerialize()
	}
	post := func(dpopProof string) error {
		req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		want := "bearer"
		if dpopProof != "" {
			req.Header.Set("DPoP", dpopProof)
			want = "dpop"
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &m) != nil || !strings.EqualFold(fmt.Sprint(m["token_type"]), want) {
			return fmt.Errorf("status %d: %s", resp.StatusCode, raw)
		}
		return nil
	}
	for _, run := range []struct {
		name string
		dpop bool
	}{{"plain", false}, {"dpop", true}} {
		b.Run(run.name, func(b *testing.B) {
			// one proof per request, signed now (each is single use)
			proofs := make([]string, b.N+1)
			for i := range proofs {
				if !run.dpop {
					break
				}
				p, err := proof()
				if err != nil {
					b.Fatal(err)
				}
				proofs[i] = p
			}
			if err := post(proofs[b.N]); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := post(proofs[next.Add(1)-1]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
		})
	}
}
