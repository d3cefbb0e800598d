package metrics

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/storage"
)

// TestMetricsLabelsAreBounded: a grant type, reason, method, scope, step or
// status the recorders do not know is counted as "other", never as a series
// of its own, so that hostile input cannot grow the registry.
func TestMetricsLabelsAreBounded(t *testing.T) {
	m := New()
	m.TokenIssued("urn:evil:"+strings.Repeat("x", 100), FormatJWT)
	m.TokenIssued("client_credentials", "weird-format") // counted as opaque
	m.ClientAuthFailed("made-up")
	m.LoginAttempt("login.password", "failure", "free text from somewhere")
	m.LoginAttempt("login.evil", "maybe", "")
	m.RateLimitRejected("scope-" + strings.Repeat("y", 50))
	h := m.HTTP("public")
	h.ObserveRequest("/oauth2/token", "BREW", 999, time.Millisecond)
	m.JanitorSwept(map[string]int64{"tokens": 3, "evil_table": 2}, nil)

	for _, c := range []struct {
		name string
		got  float64
	}{
		{"token other/jwt", testutil.ToFloat64(m.tokensIssued.WithLabelValues(Other, FormatJWT))},
		{"token client_credentials/opaque", testutil.ToFloat64(m.tokensIssued.WithLabelValues("client_credentials", FormatOpaque))},
		{"client auth other", testutil.ToFloat64(m.clientAuthFailures.WithLabelValues(Other))},
		{"login reason other", testutil.ToFloat64(m.logins.WithLabelValues("login.password", "failure", Other))},
		{"login step other", testutil.ToFloat64(m.logins.WithLabelValues(Other, Other, ""))},
		{"rate limit other", testutil.ToFloat64(m.rateLimitRejections.WithLabelValues(Other))},
		{"http other", testutil.ToFloat64(m.httpRequests.WithLabelValues("public", "/oauth2/token", Other, Other))},
		{"janitor other", testutil.ToFloat64(m.janitorDeleted.WithLabelValues(Other))},
	} {
		if c.got != 1 && !(c.name == "janitor other" && c.got == 2) {
			t.Errorf("%s = %v", c.name, c.got)
		}
	}
	if got := testutil.ToFloat64(m.janitorDeleted.WithLabelValues("tokens")); got != 3 {
		t.Errorf("janitor tokens = %v, want 3", got)
	}
	// the label sets stay within the known values plus other
	if n := testutil.CollectAndCount(m.tokensIssued); n != 2*(len(grantTypes)+1) {
		t.Errorf("tokens_issued_total has %d series, want %d (pre-created, none added)", n, 2*(len(grantTypes)+1))
	}
	if n := testutil.CollectAndCount(m.clientAuthFailures); n != len(clientauth.Reasons)+1 {
		t.Errorf("client_auth_failures_total has %d series, want %d", n, len(clientauth.Reasons)+1)
	}
}

// TestMetricsRegistryIsPerServer: two servers in one process each get
// their own registry (no global default registry: registering twice would
// panic there) and their own counts.
func TestMetricsRegistryIsPerServer(t *testing.T) {
	a, b := New(), New()
	a.RefreshReuseDetected()
	if testutil.ToFloat64(a.refreshReuse) != 1 || testutil.ToFloat64(b.refreshReuse) != 0 {
		t.Fatal("the two registries share a counter")
	}
	if a.Registry() == b.Registry() {
		t.Fatal("one registry for two servers")
	}
}

// TestMetricsTokenPathDoesNotAllocate: counting an issued token, a client
// authentication failure or a refresh reuse costs no allocation (the
// counters are resolved at construction).
func TestMetricsTokenPathDoesNotAllocate(t *testing.T) {
	m := New()
	if n := testing.AllocsPerRun(200, func() {
		m.TokenIssued("client_credentials", FormatOpaque)
		m.TokenIssued("authorization_code", FormatJWT)
		m.ClientAuthFailed(clientauth.ReasonInvalidSecret)
		m.RefreshReuseDetected()
	}); n != 0 {
		t.Fatalf("%v allocations per token", n)
	}
}

// TestMetricsTokenRequired: with a token, /metrics refuses a scrape
// without it, with another one or another scheme (401, Bearer challenge,
// no metric in the body) and serves the one that has it.
func TestMetricsTokenRequired(t *testing.T) {
	m := New()
	h := m.Handler([]byte("0123456789abcdef-token"), nil)
	for _, c := range []struct {
		auth string
		want int
	}{
		{"", 401}, {"Bearer", 401}, {"Bearer ", 401}, {"Bearer 0123456789abcdef-tokeX", 401},
		{"Bearer 0123456789abcdef-token-longer", 401}, {"Basic 0123456789abcdef-token", 401},
		{"Bearer 0123456789abcdef-token", 200}, {"BEARER 0123456789abcdef-token", 200},
	} {
		req := httptest.NewRequest(http.MethodGet, Path, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		if rr.Code != c.want {
			t.Errorf("%q: %d, want %d", c.auth, rr.Code, c.want)
		}
		if c.want == 401 && (!strings.HasPrefix(rr.Header().Get("WWW-Authenticate"), "Bearer ") || strings.Contains(rr.Body.String(), "strongroom_")) {
			t.Errorf("%q: refusal %v %q", c.auth, rr.Header(), rr.Body.String())
		}
		if c.want == 200 && !strings.Contains(rr.Body.String(), "strongroom_refresh_token_reuse_total") {
			t.Errorf("%q: no metrics served", c.auth)
		}
	}
	if !bearerMatches("Bearer abc", sha256.Sum256([]byte("abc"))) || bearerMatches("Bearer abcd", sha256.Sum256([]byte("abc"))) {
		t.Fatal("bearerMatches")
	}
}

// TestMetricsOpenWithoutToken: without a token /metrics is served to any
// scrape, as Prometheus expects of an internal listener.
func TestMetricsOpenWithoutToken(t *testing.T) {
	rr := httptest.NewRecorder()
	New().Handler(nil, nil).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, Path, nil))
	if rr.Code != 200 || !strings.Contains(rr.Body.String(), "go_goroutines") {
		t.Fatalf("%d %.200s", rr.Code, rr.Body.String())
	}
}

// TestMetricsTokenFileRules: the token file must hold one token of at
// least 16 bytes; errors never quote it.
func TestMetricsTokenFileRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if tok, err := ReadTokenFile(write("ok", "  abcdefghijklmnop-secret\n")); err != nil || string(tok) != "abcdefghijklmnop-secret" {
		t.Fatalf("%q %v", tok, err)
	}
	for name, content := range map[string]string{"empty": "\n", "short": "short-secret", "two": "abcdefghijklmnop secret-two"} {
		_, err := ReadTokenFile(write(name, content))
		if err == nil || strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), content) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestMetricsCollectorsReadStateAtScrape: the key collector reports the
// keys per state, the active key's age and the time to its rotation; a
// failing read drops those series, never the scrape; db_up follows the
// ping; the queue depth is the count.
func TestMetricsCollectorsReadStateAtScrape(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	activated := now.Add(-48 * time.Hour)
	var listErr, pingErr error
	m := New()
	m.RegisterSigningKeys(func(context.Context) ([]keys.KeyInfo, error) {
		return []keys.KeyInfo{
			{KID: "a", Alg: "RS256", State: storage.KeyStateActive, CreatedAt: now.Add(-72 * time.Hour), ActivatedAt: &activated},
			{KID: "n", Alg: "RS256", State: storage.KeyStateNext, CreatedAt: now.Add(-time.Hour)},
		}, listErr
	}, 30*24*time.Hour, func() time.Time { return now }, nil)
	m.RegisterDatabase(func(context.Context) error { return pingErr }, nil, nil)
	m.RegisterBackchannelQueue(func(context.Context) (int64, error) { return 7, nil }, nil)

	expect := `
# HELP strongroom_signing_key_active_age_seconds How long the active signing key of each algorithm has been signing.
# TYPE strongroom_signing_key_active_age_seconds gauge
strongroom_signing_key_active_age_seconds{alg="RS256"} 172800
# HELP strongroom_signing_key_next_rotation_seconds Seconds until automatic rotation is due for each algorithm (negative: overdue); absent when automatic rotation is off.
# TYPE strongroom_signing_key_next_rotation_seconds gauge
strongroom_signing_key_next_rotation_seconds{alg="RS256"} 2.4192e+06
# HELP strongroom_signing_keys Signing keys stored, by algorithm and state (next, active, retired, revoked).
# TYPE strongroom_signing_keys gauge
strongroom_signing_keys{alg="RS256",state="active"} 1
strongroom_signing_keys{alg="RS256",state="next"} 1
# HELP strongroom_db_up 1 when the database answered a ping at scrape time, 0 when it did not.
# TYPE strongroom_db_up gauge
strongroom_db_up 1
# HELP strongroom_backchannel_logout_queue_depth Back-channel logout deliveries waiting in the outbox (due or scheduled for a retry).
# TYPE strongroom_backchannel_logout_queue_depth gauge
strongroom_backchannel_logout_queue_depth 7
`
	names := []string{"strongroom_signing_key_active_age_seconds", "strongroom_signing_key_next_rotation_seconds",
		"strongroom_signing_keys", "strongroom_db_up", "strongroom_backchannel_logout_queue_depth"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(expect), names...); err != nil {
		t.Fatal(err)
	}
	listErr, pingErr = errors.New("database down"), errors.New("database down")
	if n, err := testutil.GatherAndCount(m.Registry(), "strongroom_signing_keys", "strongroom_signing_key_active_age_seconds"); err != nil || n != 0 {
		t.Fatalf("with the key list failing: %d series, %v", n, err)
	}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP strongroom_db_up 1 when the database answered a ping at scrape time, 0 when it did not.
# TYPE strongroom_db_up gauge
strongroom_db_up 0
`), "strongroom_db_up"); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRecordTokenRequest is what metrics add to one token request:
// the HTTP observation (counter and histogram) and the token counter.
func BenchmarkRecordTokenRequest(b *testing.B) {
	m := New()
	h := m.HTTP("public")
	b.ReportAllocs()
	for b.Loop() {
		h.ObserveRequest("/oauth2/token", "POST", 200, 3*time.Millisecond)
		m.TokenIssued("client_credentials", FormatOpaque)
	}
}
