package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/oauth2"
	"gopkg.in/yaml.v3"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// Files whose metric references must all be exported.
const (
	dashboardFile = "../deploy/grafana/strongroom.json"
	alertsFile    = "../deploy/prometheus/alerts.yml"
)

// listedSeries are the metric families the issue asks /metrics to have.
var listedSeries = []string{
	"strongroom_http_requests_total",
	"strongroom_http_request_duration_seconds",
	"strongroom_tokens_issued_total",
	"strongroom_client_auth_failures_total",
	"strongroom_refresh_token_reuse_total",
	"strongroom_login_attempts_total",
	"strongroom_rate_limit_rejections_total",
	"strongroom_rate_limit_fallback",
	"strongroom_db_up",
	"strongroom_db_pool_connections",
	"strongroom_db_pool_max_connections",
	"strongroom_db_pool_acquires_total",
	"strongroom_signing_keys",
	"strongroom_signing_key_active_age_seconds",
	"strongroom_signing_key_next_rotation_seconds",
	"strongroom_backchannel_logout_queue_depth",
	"strongroom_janitor_deleted_rows_total",
	"strongroom_janitor_runs_total",
	"go_goroutines",
	"process_start_time_seconds",
}

// TestMetricsEndpoint drives a running server (tokens of both formats, a
// refresh token replayed, failed client authentications, a failed and a
// successful login, a scan of unknown paths), scrapes /metrics on the
// admin listener without a token (the default) and checks that the listed
// series exist with the counts the traffic implies, that unknown paths
// never become route labels, and that every strongroom_ metric the
// Grafana dashboard and the alert rules reference is exported.
func TestMetricsEndpoint(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.KeyRotationInterval = 720 * time.Hour })
	admin := e.StartAdmin(t, server.AdminOptions{})

	// tokens: opaque and JWT, client credentials
	opaque := &storage.Client{Name: "m2m", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque}
	opaqueSecret := e.createClient(opaque)
	jwtClient := &storage.Client{Name: "m2m-jwt", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatJWT}
	jwtSecret := e.createClient(jwtClient)
	e.token(opaque.ID, opaqueSecret, "payments")
	e.token(opaque.ID, opaqueSecret, "payments")
	e.token(jwtClient.ID, jwtSecret, "payments")

	// refused client authentications: a wrong secret, an unknown client
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}}
	if status, _ := postForm(t, e.issuer+authz.PathToken, cc, opaque.ID, "wrong-secret"); status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", status)
	}
	if status, _ := postForm(t, e.issuer+authz.PathToken, cc, "no-such-client", "x"); status != http.StatusUnauthorized {
		t.Fatalf("unknown client: %d", status)
	}

	// a failed login, then the code flow with a successful one, then a refresh token replayed
	web := webClient("authorization_code", "refresh_token")
	webSecret := e.createClient(web)
	e.failLogin(web.ID)
	conf, tok := e.codeFlowTokens(t, web, webSecret, true)
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Hour)
	if _, err := conf.TokenSource(context.Background(), &expired).Token(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Fatal("a replayed refresh token was accepted")
	}

	// a scan of unknown paths
	const scanMarker = "scan-7f3a9c"
	for i := range 3 {
		resp, err := http.Get(e.issuer + "/" + scanMarker + "/" + strings.Repeat("x", i+1))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// the janitor sweeps once when the server starts
	var fams map[string]*dto.MetricFamily
	if !servertest.Poll(10*time.Second, func() bool {
		fams = scrapeMetrics(t, admin, "")
		return metricSum(fams, "strongroom_janitor_runs_total", map[string]string{"result": "ok"}) >= 1
	}) {
		t.Fatal("no janitor sweep counted")
	}

	for _, name := range listedSeries {
		if f, ok := fams[name]; !ok || len(f.GetMetric()) == 0 {
			t.Errorf("series %s missing from /metrics", name)
		}
	}

	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"strongroom_tokens_issued_total", map[string]string{"grant_type": "client_credentials", "format": "opaque"}, 2 + 0},
		{"strongroom_tokens_issued_total", map[string]string{"grant_type": "client_credentials", "format": "jwt"}, 1},
		{"strongroom_tokens_issued_total", map[string]string{"grant_type": "authorization_code", "format": "opaque"}, 1},
		{"strongroom_tokens_issued_total", map[string]string{"grant_type": "refresh_token", "format": "opaque"}, 1},
		{"strongroom_client_auth_failures_total", map[string]string{"reason": "invalid_secret"}, 1},
		{"strongroom_client_auth_failures_total", map[string]string{"reason": "unknown_client"}, 1},
		{"strongroom_refresh_token_reuse_total", nil, 1},
		{"strongroom_login_attempts_total", map[string]string{"step": "login.password", "outcome": "success"}, 1},
		{"strongroom_login_attempts_total", map[string]string{"step": "login.password", "outcome": "failure", "reason": "invalid_credentials"}, 1},
		{"strongroom_http_requests_total", map[string]string{"listener": "public", "route": authz.PathToken, "method": "POST", "status": "200"}, 5},
		{"strongroom_http_requests_total", map[string]string{"listener": "public", "route": authz.PathToken, "method": "POST", "status": "401"}, 2},
		{"strongroom_db_up", nil, 1},
		{"strongroom_db_pool_max_connections", nil, 1},
		{"strongroom_signing_keys", map[string]string{"alg": "RS256", "state": "active"}, 1},
	} {
		if got := metricSum(fams, c.name, c.labels); got < c.min {
			t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, got, c.min)
		}
	}
	// the exact counts of what this test alone did
	if got := metricSum(fams, "strongroom_client_auth_failures_total", map[string]string{"reason": "invalid_secret"}); got != 1 {
		t.Errorf("invalid_secret failures = %v, want 1", got)
	}
	if got := metricSum(fams, "strongroom_refresh_token_reuse_total", nil); got != 1 {
		t.Errorf("refresh reuse = %v, want 1", got)
	}
	if got := metricSum(fams, "strongroom_signing_key_next_rotation_seconds", map[string]string{"alg": "RS256"}); got <= 0 || got > (720*time.Hour).Seconds() {
		t.Errorf("next rotation in %v s, want within the 720h interval", got)
	}
	// the token endpoint's latency histogram counts its requests
	if h := histogramCount(fams, "strongroom_http_request_duration_seconds", map[string]string{"route": authz.PathToken, "method": "POST"}); h < 7 {
		t.Errorf("token latency histogram counted %d requests, want at least 7", h)
	}

	// bounded cardinality: the scanned paths never became labels
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), scanMarker) {
					t.Errorf("%s has a label from a request path: %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}

	// every metric the dashboard and the alert rules reference is exported
	exported := exportedNames(fams)
	for _, file := range []string{dashboardFile, alertsFile} {
		refs := referencedMetrics(t, file)
		if len(refs) < 10 {
			t.Fatalf("%s references only %d strongroom metrics: the extraction is broken", file, len(refs))
		}
		for _, name := range refs {
			if !exported[name] {
				t.Errorf("%s references %s, which /metrics does not export", file, name)
			}
		}
	}
}

// TestMetricsTokenProtectsEndpoint: with serve --metrics-token-file,
// /metrics answers 401 with a Bearer challenge to a scrape without the
// token or with another one, and the metrics to the right token; the
// admin API beside it is unaffected (its own authentication).
func TestMetricsTokenProtectsEndpoint(t *testing.T) {
	e := start(t)
	const token = "metrics-token-0123456789abcdef"
	admin := e.StartAdmin(t, server.AdminOptions{MetricsToken: []byte(token)})
	for _, c := range []struct {
		name, auth string
		want       int
	}{
		{"fail/no-token", "", http.StatusUnauthorized},
		{"fail/wrong-token", "Bearer metrics-token-0123456789abcdeX", http.StatusUnauthorized},
		{"fail/prefix-of-token", "Bearer metrics-token", http.StatusUnauthorized},
		{"fail/basic-scheme", "Basic " + token, http.StatusUnauthorized},
		{"ok/token", "Bearer " + token, http.StatusOK},
		{"ok/scheme-case-insensitive", "bearer " + token, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body, hdr := getMetrics(t, admin, c.auth)
			if status != c.want {
				t.Fatalf("status %d, want %d: %s", status, c.want, body)
			}
			switch c.want {
			case http.StatusUnauthorized:
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer ") {
					t.Errorf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
				}
				if strings.Contains(body, "strongroom_") || strings.Contains(body, token) {
					t.Errorf("a refused scrape leaked: %s", body)
				}
			case http.StatusOK:
				if !strings.Contains(body, "strongroom_http_requests_total") && !strings.Contains(body, "strongroom_db_up") {
					t.Errorf("no metrics in the answer: %.300s", body)
				}
			}
		})
	}
	// the admin API still wants its own bearer token
	resp, err := http.Get(admin + "/admin/v1/clients")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("admin API without a token: %d", resp.StatusCode)
	}
	if strings.Contains(e.Logs(), token) {
		t.Fatal("the metrics token appears in the logs")
	}
}

// failLogin starts an authorization request of clientID and submits a
// wrong password once.
func (e *env) failLogin(clientID string) {
	e.t.Helper()
	b := newBrowser(e.t)
	_, challenge := pkcePair()
	authURL := e.issuer + authz.PathAuthorize + "?" + url.Values{
		"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {"state-" + randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}.Encode()
	resp, body := b.get(authURL)
	if resp.Request.URL.Path != "/login" {
		e.t.Fatalf("expected the login page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	f := formFields(e.t, body)
	f.Set("username", "alice")
	f.Set("password", "not the password")
	if resp, _ = b.post(e.issuer+"/login", f); resp.StatusCode == http.StatusSeeOther {
		e.t.Fatal("a wrong password logged in")
	}
}

// getMetrics GETs /metrics of the admin listener at base with the given
// Authorization header ("" for none).
func getMetrics(t *testing.T, base, auth string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// scrapeMetrics scrapes /metrics as Prometheus does (text format) and parses it.
func scrapeMetrics(t *testing.T, base, auth string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body, hdr := getMetrics(t, base, auth)
	if status != http.StatusOK {
		t.Fatalf("scrape: %d %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// matches reports whether m carries every label of want.
func matches(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// metricSum adds the values of the counter or gauge series of name that
// carry labels.
func metricSum(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	var sum float64
	for _, m := range fams[name].GetMetric() {
		if !matches(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

// histogramCount adds the sample counts of the histogram series of name
// that carry labels.
func histogramCount(fams map[string]*dto.MetricFamily, name string, labels map[string]string) uint64 {
	var n uint64
	for _, m := range fams[name].GetMetric() {
		if matches(m, labels) {
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// exportedNames is every name a query may use for the scraped families: a
// family's own name and, for histograms and summaries, their _bucket, _sum
// and _count series.
func exportedNames(fams map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for name, f := range fams {
		if len(f.GetMetric()) == 0 {
			continue
		}
		out[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			out[name+"_sum"], out[name+"_count"] = true, true
		}
	}
	return out
}

var strongroomMetric = regexp.MustCompile(`\bstrongroom_[a-zA-Z0-9_]+`)

// referencedMetrics parses file (the dashboard's JSON or the rules' YAML)
// and returns every strongroom_ metric name in any of its strings
// (queries, variable definitions), sorted and without repeats.
func referencedMetrics(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if strings.HasSuffix(file, ".json") {
		err = json.Unmarshal(data, &doc)
	} else {
		err = yaml.Unmarshal(data, &doc)
	}
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	var names []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			names = append(names, strongroomMetric.FindAllString(v, -1)...)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	slices.Sort(names)
	return slices.Compact(names)
}
