package clientauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
)

// Helpers shared by the tests of the authz packages (authztest).
var (
	testNow = authztest.Now
	must    = authztest.Must
	wantRFC = authztest.WantRFC
)

// claimsOf decodes a JSON claims set as verifyClientAssertion does.
func claimsOf(t *testing.T, payload string) assertionClaims {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	var c assertionClaims
	must(t, dec.Decode(&c))
	return c
}

// TestClientAssertionLifetimeAndClockSkew: exp is required, in the future and
// at most ClientAssertionMaxLifetime ahead; iat and nbf may lie up to 10 s in
// the future (FAPI 2.0 SP §5.3.2.1 clock skew), not more.
func TestClientAssertionLifetimeAndClockSkew(t *testing.T) {
	cfg := authz.Config{Issuer: "https://as.example", SystemSecret: authztest.SystemSecret}
	cfg.ApplyDefaults()
	p := New(Deps{Config: &cfg, Now: func() time.Time { return testNow }})
	max := p.cfg.ClientAssertionMaxLifetime
	at := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	exp := func(d time.Duration) string { return fmt.Sprintf(`{"exp":%d}`, at(d)) }
	with := func(claim string, d time.Duration) string {
		return fmt.Sprintf(`{"exp":%d,%q:%d}`, at(time.Minute), claim, at(d))
	}
	tests := []struct {
		name   string
		claims string
		ok     bool
	}{
		{"ok/one-minute", exp(time.Minute), true},
		{"ok/exactly-max", exp(max), true},
		{"ok/fractional-exp", fmt.Sprintf(`{"exp":%d.5}`, at(time.Minute)), true},
		{"fail/already-expired", exp(-time.Minute), false},
		{"fail/expires-now", exp(0), false},
		{"fail/max-plus-one-second", exp(max + time.Second), false},
		{"fail/one-hour", exp(time.Hour), false},
		{"fail/far-future", `{"exp":9999999999}`, false},
		{"fail/beyond-year-9999", `{"exp":1e300}`, false},
		{"fail/negative", `{"exp":-1}`, false},
		{"fail/no-exp", `{"iss":"c1","sub":"c1"}`, false},
		{"fail/exp-null", `{"exp":null}`, false},
		{"ok/iat-now", with("iat", 0), true},
		{"ok/iat-past", with("iat", -time.Minute), true},
		{"ok/iat-5s-ahead", with("iat", 5*time.Second), true},
		{"ok/iat-10s-ahead", with("iat", 10*time.Second), true},
		{"fail/iat-11s-ahead", with("iat", 11*time.Second), false},
		{"fail/iat-61s-ahead", with("iat", 61*time.Second), false},
		{"ok/nbf-10s-ahead", with("nbf", 10*time.Second), true},
		{"fail/nbf-11s-ahead", with("nbf", 11*time.Second), false},
		{"fail/nbf-61s-ahead", with("nbf", 61*time.Second), false},
		{"fail/iat-negative", with("iat", -time.Duration(testNow.Unix()+1)*time.Second), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.checkAssertionTimes(claimsOf(t, tc.claims))
			if tc.ok {
				must(t, err)
				return
			}
			wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
		})
	}
}

// TestClientAssertionAudience: aud is one value naming this server, as a
// string or a one-element array; an array with a second value is refused.
func TestClientAssertionAudience(t *testing.T) {
	accepted := []string{"https://as.example", "https://as.example/oauth2/token"}
	tests := []struct {
		name string
		aud  string
		ok   bool
	}{
		{"ok/issuer-string", `"https://as.example"`, true},
		{"ok/token-url-string", `"https://as.example/oauth2/token"`, true},
		{"ok/issuer-one-element-array", `["https://as.example"]`, true},
		{"fail/issuer-and-foreign", `["https://as.example","https://evil.example"]`, false},
		{"fail/foreign-and-issuer", `["https://evil.example","https://as.example"]`, false},
		{"fail/issuer-and-token-url", `["https://as.example","https://as.example/oauth2/token"]`, false},
		{"fail/issuer-twice", `["https://as.example","https://as.example"]`, false},
		{"fail/foreign", `"https://evil.example"`, false},
		{"fail/issuer-trailing-slash", `"https://as.example/"`, false},
		{"fail/issuer-other-case", `"https://AS.example"`, false},
		{"fail/empty-array", `[]`, false},
		{"fail/empty-string", `""`, false},
		{"fail/missing", ``, false},
		{"fail/null", `null`, false},
		{"fail/number", `1`, false},
		{"fail/array-of-number", `[1]`, false},
		{"fail/nested-array", `[["https://as.example"]]`, false},
		{"fail/object", `{"aud":"https://as.example"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAssertionAudience(json.RawMessage(tc.aud), accepted)
			if tc.ok {
				must(t, err)
				return
			}
			wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
		})
	}
}
