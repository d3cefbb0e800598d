package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// introspectionLoop measures RFC 7662 introspection of one token of a
// client_credentials client registered for format, by that client
// (client_secret_basic), 16 requests in flight per core. It reports; it
// asserts nothing but that every answer is active.
func introspectionLoop(b *testing.B, format string) {
	env := servertest.Start(b, nil)
	c := &storage.Client{Name: "bench", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: format,
		Metadata: storage.ClientMetadata{Introspect: true}}
	secret := env.CreateClient(b, c)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(path string, form url.Values) (map[string]any, error) {
		req, _ := http.NewRequest(http.MethodPost, env.Issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			return nil, err
		}
		return m, nil
	}
	tok, err := do("/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if err != nil || tok["access_token"] == nil {
		b.Fatal(err, tok)
	}
	form := url.Values{"token": {tok["access_token"].(string)}}
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, err := do("/oauth2/introspect", form)
			if err != nil || m["active"] != true {
				b.Errorf("introspect: %v %v", err, m)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "introspections/s")
}

// BenchmarkIntrospectionOpaqueToken: a stored token (one read per call).
func BenchmarkIntrospectionOpaqueToken(b *testing.B) { introspectionLoop(b, storage.TokenFormatOpaque) }

// BenchmarkIntrospectionStatelessJWT: a stateless client_credentials JWT
// (verified in memory: no read).
func BenchmarkIntrospectionStatelessJWT(b *testing.B) { introspectionLoop(b, storage.TokenFormatJWT) }
