package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/strongroom/strongroom/authz/oauth/clientauth"
)

// Namespace prefixes every Strongroom metric name.
const Namespace = "strongroom"

// Other is the label value of a grant type, reason, route or method the
// recorder does not know: unknown values never become series of their own.
const Other = "other"

// Token formats (the format label of strongroom_tokens_issued_total).
const (
	FormatOpaque = "opaque"
	FormatJWT    = "jwt"
)

// GrantTypes are the grant types counted under their own name in
// strongroom_tokens_issued_total; any other is counted as Other.
var grantTypes = []string{
	"authorization_code", "client_credentials", "refresh_token",
	"urn:ietf:params:oauth:grant-type:token-exchange",
	"urn:ietf:params:oauth:grant-type:device_code",
	"urn:ietf:params:oauth:grant-type:jwt-bearer",
}

// clientAuthReasons bound the reason label of client_auth_failures_total
// (clientauth.Reasons, and Other).
var clientAuthReasons = append(clientauth.Reasons[:len(clientauth.Reasons):len(clientauth.Reasons)], Other)

// HTTP methods counted under their own name; any other is Other.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Metrics holds the registry of one server and the metrics the services
// record into. Build it once in the composition root (New) and hand it to
// each service; its methods are safe for concurrent use and never fail.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	tokensIssued *prometheus.CounterVec
	// tokenCounters are tokensIssued resolved for every known grant type
	// and format: the token path only indexes maps.
	tokenCounters map[string][2]prometheus.Counter

	clientAuthFailures *prometheus.CounterVec
	clientAuthCounters map[string]prometheus.Counter

	refreshReuse prometheus.Counter
	logins       *prometheus.CounterVec

	rateLimitRejections *prometheus.CounterVec
	rateLimitFallback   prometheus.Gauge
	rateLimitFallbacks  prometheus.Counter

	janitorDeleted *prometheus.CounterVec
	janitorRuns    *prometheus.CounterVec
}

// New builds a fresh registry with the Go runtime and process collectors
// and every Strongroom metric the recorders write. The collectors that
// read state at scrape time are added by the composition root
// (RegisterDatabase, RegisterSigningKeys, RegisterBackchannelQueue).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{reg: reg}
	f := factory{reg}

	m.httpRequests = f.counterVec("http_requests_total",
		"HTTP requests answered, by listener (public, admin), route (the route pattern, never the raw path), method and status code.",
		"listener", "route", "method", "status")
	m.httpDuration = f.histogramVec("http_request_duration_seconds",
		"Time to answer an HTTP request, by listener, route pattern and method.",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		"listener", "route", "method")

	m.tokensIssued = f.counterVec("tokens_issued_total",
		"Access tokens issued at the token endpoint, by grant type and format (opaque, jwt).",
		"grant_type", "format")
	m.tokenCounters = make(map[string][2]prometheus.Counter, len(grantTypes)+1)
	for _, gt := range append(grantTypes[:len(grantTypes):len(grantTypes)], Other) {
		m.tokenCounters[gt] = [2]prometheus.Counter{
			m.tokensIssued.WithLabelValues(gt, FormatOpaque), m.tokensIssued.WithLabelValues(gt, FormatJWT),
		}
	}

	m.clientAuthFailures = f.counterVec("client_auth_failures_total",
		"Refused client authentications (token, PAR, introspection, revocation), by reason.",
		"reason")
	m.clientAuthCounters = make(map[string]prometheus.Counter, len(clientAuthReasons))
	for _, r := range clientAuthReasons {
		m.clientAuthCounters[r] = m.clientAuthFailures.WithLabelValues(r)
	}

	m.refreshReuse = f.counter("refresh_token_reuse_total",
		"Refresh tokens presented again after rotation (outside the reuse grace): each one revoked its whole token family (RFC 9700 §4.14.2).")
	m.logins = f.counterVec("login_attempts_total",
		"End-user login steps, by step (login.password, login.totp, login.recovery_code, login.webauthn, account.locked), outcome (success, failure) and reason of a failure.",
		"step", "outcome", "reason")

	m.rateLimitRejections = f.counterVec("rate_limit_rejections_total",
		"Requests refused with 429 by a rate limit, by scope (e.g. client, address).",
		"scope")
	m.rateLimitFallback = f.gauge("rate_limit_fallback",
		"1 while the shared (Redis) rate limiter is unreachable and each node enforces its own limits; 0 otherwise.")
	m.rateLimitFallbacks = f.counter("rate_limit_fallbacks_total",
		"Times the rate limiter fell back from the shared (Redis) limiter to per-node limits.")

	m.janitorDeleted = f.counterVec("janitor_deleted_rows_total",
		"Expired rows the janitor deleted, by table (tokens, auth_flows, client_assertion_jtis, browser_sessions, revoked_grants).",
		"table")
	m.janitorRuns = f.counterVec("janitor_runs_total",
		"Janitor sweeps, by result (ok, error).",
		"result")

	// Known series start at 0, so that rate() and alerts see the first
	// event instead of a series appearing from nothing.
	for _, s := range rateLimitScopes {
		m.rateLimitRejections.WithLabelValues(s)
	}
	for _, t := range janitorTables {
		m.janitorDeleted.WithLabelValues(t)
	}
	m.janitorRuns.WithLabelValues("ok")
	m.janitorRuns.WithLabelValues("error")
	return m
}

// Registry is the server's registry: the /metrics handler serves it, and
// the composition root registers collectors in it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// factory creates Strongroom metrics and registers them in reg.
type factory struct{ reg prometheus.Registerer }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(v)
	return v
}

// TokenIssued counts an access token issued at the token endpoint (format
// FormatOpaque or FormatJWT). It implements oauth.Metrics.
func (m *Metrics) TokenIssued(grantType, format string) {
	cs, ok := m.tokenCounters[grantType]
	if !ok {
		cs = m.tokenCounters[Other]
	}
	if format == FormatJWT {
		cs[1].Inc()
		return
	}
	cs[0].Inc()
}

// ClientAuthFailed counts a refused client authentication (one of the
// clientauth.Reason constants). It implements oauth.Metrics.
func (m *Metrics) ClientAuthFailed(reason string) {
	c, ok := m.clientAuthCounters[reason]
	if !ok {
		c = m.clientAuthCounters[Other]
	}
	c.Inc()
}

// RefreshReuseDetected counts a refresh token presented again after its
// rotation (its family was revoked). It implements oauth.Metrics.
func (m *Metrics) RefreshReuseDetected() { m.refreshReuse.Inc() }

// loginSteps and loginReasons bound the labels of login_attempts_total.
var (
	loginSteps   = []string{"login.password", "login.totp", "login.recovery_code", "login.webauthn", "account.locked"}
	loginReasons = []string{"", "invalid_credentials", "throttled", "locked", "invalid_code", "code_reused", "webauthn_failed", "too_many_failures"}
)

// LoginAttempt counts an end-user login step (the audit action: e.g.
// login.password, login.totp, account.locked), its outcome (success,
// failure) and the reason of a failure. It implements login.Metrics.
func (m *Metrics) LoginAttempt(step, outcome, reason string) {
	m.logins.WithLabelValues(oneOf(step, loginSteps), oneOf(outcome, []string{"success", "failure"}), oneOf(reason, loginReasons)).Inc()
}

// RateLimitRejected counts a request refused by a rate limit of scope
// (e.g. "client", "address"). The rate limiter's observer calls it.
func (m *Metrics) RateLimitRejected(scope string) {
	m.rateLimitRejections.WithLabelValues(oneOf(scope, rateLimitScopes)).Inc()
}

// rateLimitScopes bounds the scope label of rate_limit_rejections_total.
var rateLimitScopes = []string{"client", "address", "account", "token", "par", "introspect", "revoke", "global"}

// RateLimitFallback reports whether the rate limiter runs on per-node
// limits because the shared (Redis) limiter is unreachable (true) or on the
// shared one again (false). The rate limiter's observer calls it on every
// change.
func (m *Metrics) RateLimitFallback(active bool) {
	if active {
		m.rateLimitFallback.Set(1)
		m.rateLimitFallbacks.Inc()
		return
	}
	m.rateLimitFallback.Set(0)
}

// JanitorSwept counts one janitor sweep: the rows deleted per table and
// whether it failed. It implements janitor.Metrics.
func (m *Metrics) JanitorSwept(removed map[string]int64, err error) {
	for table, n := range removed {
		if n > 0 {
			m.janitorDeleted.WithLabelValues(oneOf(table, janitorTables)).Add(float64(n))
		}
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.janitorRuns.WithLabelValues(result).Inc()
}

// janitorTables bounds the table label of janitor_deleted_rows_total.
var janitorTables = []string{"tokens", "auth_flows", "client_assertion_jtis", "browser_sessions", "revoked_grants"}

// oneOf is v when it is one of known, else Other.
func oneOf(v string, known []string) string {
	for _, k := range known {
		if v == k {
			return v
		}
	}
	return Other
}

// HTTP returns the recorder of one listener's requests ("public",
// "admin"): the httpmw.RequestObserver of its middleware.
func (m *Metrics) HTTP(listener string) *HTTPRecorder {
	return &HTTPRecorder{
		requests: m.httpRequests.MustCurryWith(prometheus.Labels{"listener": listener}),
		duration: m.httpDuration.MustCurryWith(prometheus.Labels{"listener": listener}).(*prometheus.HistogramVec),
	}
}

// HTTPRecorder records one listener's requests. The series of each route,
// method and status are resolved once and kept (their number is bounded:
// routes are the router's patterns), so a request costs a map read.
type HTTPRecorder struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	series   sync.Map // requestKey → requestSeries
}

type requestKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// statusText holds the label value of every status code 100–599, built
// once so that recording a request does not format the code.
var statusText = func() [600]string {
	var s [600]string
	for i := 100; i < 600; i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// ObserveRequest records a request answered with status after elapsed.
// route is the route pattern the router matched ("" when none matched: it
// is recorded as "unmatched", so unknown paths share one series). It
// implements httpmw.RequestObserver.
func (m *HTTPRecorder) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = oneOf(method, httpMethods)
	if status < 100 || status >= 600 {
		status = 0
	}
	key := requestKey{route, method, status}
	v, ok := m.series.Load(key)
	if !ok {
		code := Other
		if status != 0 {
			code = statusText[status]
		}
		v, _ = m.series.LoadOrStore(key, requestSeries{
			count:    m.requests.WithLabelValues(route, method, code),
			duration: m.duration.WithLabelValues(route, method),
		})
	}
	s := v.(requestSeries)
	s.count.Inc()
	s.duration.Observe(elapsed.Seconds())
}
