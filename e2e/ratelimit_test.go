package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/ratelimit"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// testRedisAddr is the real Redis of the tests (STRONGROOM_TEST_REDIS_ADDR,
// default 127.0.0.1:6379).
func testRedisAddr() string {
	if a := os.Getenv("STRONGROOM_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// perMinute is a limit of n a minute with a burst of n: nothing refills
// within a test.
func perMinute(n int) ratelimit.Rate { return ratelimit.Rate{Events: n, Per: time.Minute, Burst: n} }

// ccToken asks node for a client_credentials token.
func ccToken(t *testing.T, node, id, secret string) answer {
	t.Helper()
	return send(t, nil, http.MethodPost, node+authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, id, secret, nil)
}

// wantRateLimited asserts a 429 at an OAuth endpoint: temporarily_unavailable,
// a Retry-After of whole seconds within the limit's interval, no-store, and
// the RateLimit fields of the refusing policy with nothing remaining.
func wantRateLimited(t *testing.T, what string, a answer, policy string, r ratelimit.Rate) {
	t.Helper()
	wantError(t, what, a, http.StatusTooManyRequests, "temporarily_unavailable")
	retry, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || retry < 1 || time.Duration(retry)*time.Second > r.Interval()+time.Second {
		t.Fatalf("%s: Retry-After %q, want 1..%s", what, a.header.Get("Retry-After"), r.Interval())
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", what, a.header.Get("Cache-Control"))
	}
	if !regexp.MustCompile(`"` + policy + `";r=0;t=\d+`).MatchString(a.header.Get("RateLimit")) {
		t.Fatalf("%s: RateLimit %q, want %q with r=0", what, a.header.Get("RateLimit"), policy)
	}
}

// TestThreeNodesShareOnePerClientBudgetInRedis: three servers with one
// --redis-url enforce one per-client budget: with a burst of 10, ten
// requests spread over the nodes pass and the 11th is refused on every
// node, with Retry-After and the RateLimit headers.
func TestThreeNodesShareOnePerClientBudgetInRedis(t *testing.T) {
	limit := perMinute(10)
	a := startWith(t, func(c *server.Config) {
		c.RedisURL = "redis://" + testRedisAddr() + "/0"
		c.RateLimits = server.RateLimits{Client: limit, RedisPrefix: "strongroom-test:" + randString() + ":"}
	})
	nodes := []string{a.Addr, a.StartPeer(t).Addr, a.StartPeer(t).Addr}
	c := webClient("client_credentials")
	secret := a.createClient(c)
	for i := range 10 {
		got := ccToken(t, nodes[i%3], c.ID, secret)
		if got.status != http.StatusOK {
			t.Fatalf("request %d on node %d: %d %v", i+1, i%3, got.status, got.body)
		}
		want := `"client";r=` + strconv.Itoa(9-i) + `;t=`
		if !strings.HasPrefix(got.header.Get("RateLimit"), want) {
			t.Fatalf("request %d: RateLimit %q, want %s…", i+1, got.header.Get("RateLimit"), want)
		}
	}
	for n, node := range nodes {
		wantRateLimited(t, "11th request on node "+strconv.Itoa(n), ccToken(t, node, c.ID, secret), "client", limit)
	}
	// Another client's budget is its own.
	other := webClient("client_credentials")
	otherSecret := a.createClient(other)
	if got := ccToken(t, nodes[2], other.ID, otherSecret); got.status != http.StatusOK {
		t.Fatalf("another client: %d %v", got.status, got.body)
	}
}

// TestRateLimitHeadersOnEveryLimitedAnswer: an answer under limits carries
// RateLimit-Policy (quota = burst, window = seconds to refill it) and
// RateLimit (remaining, seconds until whole) for each limit that applied,
// in one field line each.
func TestRateLimitHeadersOnEveryLimitedAnswer(t *testing.T) {
	e := startWith(t, func(c *server.Config) {
		c.RateLimits = server.RateLimits{Address: perMinute(100), Client: ratelimit.Rate{Events: 10, Per: time.Minute, Burst: 5}}
	})
	c := webClient("client_credentials")
	secret := e.createClient(c)
	got := ccToken(t, e.Addr, c.ID, secret)
	if got.status != http.StatusOK {
		t.Fatalf("token: %d %v", got.status, got.body)
	}
	if p := got.header.Get("RateLimit-Policy"); p != `"address";q=100;w=60, "client";q=5;w=30` {
		t.Errorf("RateLimit-Policy %q", p)
	}
	if r := got.header.Get("RateLimit"); !regexp.MustCompile(`^"address";r=99;t=1, "client";r=4;t=6$`).MatchString(r) {
		t.Errorf("RateLimit %q", r)
	}
	// The discovery document: the address limit only.
	disc := send(t, nil, http.MethodGet, e.Addr+authz.PathOIDCDiscovery, nil, "", "", nil)
	if p := disc.header.Get("RateLimit-Policy"); disc.status != http.StatusOK || p != `"address";q=100;w=60` {
		t.Errorf("discovery: %d RateLimit-Policy %q", disc.status, p)
	}
	for range 4 {
		ccToken(t, e.Addr, c.ID, secret)
	}
	wantRateLimited(t, "6th token request", ccToken(t, e.Addr, c.ID, secret), "client", ratelimit.Rate{Events: 10, Per: time.Minute, Burst: 5})
}

// TestWrongSecretsCountAgainstTheClaimedClient: the per-client limit runs
// before authentication, so a flood of wrong secrets for a client is
// limited too (and then its owner waits as well, which is the point: the
// flood stops reaching the secret check).
func TestWrongSecretsCountAgainstTheClaimedClient(t *testing.T) {
	limit := perMinute(3)
	e := startWith(t, func(c *server.Config) { c.RateLimits = server.RateLimits{Client: limit} })
	c := webClient("client_credentials")
	secret := e.createClient(c)
	for i := range 3 {
		wantError(t, "wrong secret "+strconv.Itoa(i+1), ccToken(t, e.Addr, c.ID, "wrong"), http.StatusUnauthorized, "invalid_client")
	}
	wantRateLimited(t, "4th attempt", ccToken(t, e.Addr, c.ID, secret), "client", limit)
	// Made-up client ids share one budget: they neither multiply it nor
	// touch a registered client's.
	other := webClient("client_credentials")
	otherSecret := e.createClient(other)
	for i := range 3 {
		wantError(t, "unknown client", ccToken(t, e.Addr, "nobody-"+strconv.Itoa(i), "x"), http.StatusUnauthorized, "invalid_client")
	}
	wantRateLimited(t, "4th unknown client", ccToken(t, e.Addr, "nobody-else", "x"), "client", limit)
	if got := ccToken(t, e.Addr, other.ID, otherSecret); got.status != http.StatusOK {
		t.Fatalf("a registered client after the unknown ones: %d %v", got.status, got.body)
	}
}

// TestPerClientRateLimitOverride: a client registered with its own
// rate_limit gets it instead of the server's default; the rejections are
// audited once per client per minute, however many.
func TestPerClientRateLimitOverride(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.RateLimits = server.RateLimits{Client: perMinute(1000)} })
	small := webClient("client_credentials")
	small.Metadata.RateLimit, small.Metadata.RateLimitBurst = "2/m", 2
	smallSecret := e.createClient(small)
	big := webClient("client_credentials")
	bigSecret := e.createClient(big)
	for i := range 2 {
		if got := ccToken(t, e.Addr, small.ID, smallSecret); got.status != http.StatusOK {
			t.Fatalf("request %d: %d %v", i+1, got.status, got.body)
		}
	}
	for range 3 {
		wantRateLimited(t, "over the client's own limit", ccToken(t, e.Addr, small.ID, smallSecret), "client", ratelimit.Rate{Events: 2, Per: time.Minute, Burst: 2})
	}
	for range 5 {
		if got := ccToken(t, e.Addr, big.ID, bigSecret); got.status != http.StatusOK {
			t.Fatalf("a client under the default: %d %v", got.status, got.body)
		}
	}
	if p := ccToken(t, e.Addr, big.ID, bigSecret).header.Get("RateLimit-Policy"); p != `"client";q=1000;w=60` {
		t.Errorf("default policy %q", p)
	}
	events, err := e.srv.Store.ListAudit(context.Background(), storage.AuditFilter{Action: ratelimit.ActionReject})
	if err != nil || len(events) != 1 || events[0].Actor != "client:"+small.ID || events[0].Outcome != storage.OutcomeFailure {
		t.Fatalf("audit of the rejections: %v %+v", err, events)
	}
}

// TestPerAddressLimitCountsIPv6By64BehindTrustedProxy: the address limit
// covers every public endpoint but the health probes, believes
// X-Forwarded-For only from --trusted-proxy peers, and counts an IPv6
// client by its /64; a refusal off the OAuth JSON endpoints is the error
// page.
func TestPerAddressLimitCountsIPv6By64BehindTrustedProxy(t *testing.T) {
	limit := perMinute(3)
	proxied := startWith(t, func(c *server.Config) {
		c.RateLimits = server.RateLimits{Address: limit}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	get := func(e *env, path, xff string) answer {
		return send(t, nil, http.MethodGet, e.Addr+path, nil, "", "", map[string]string{"X-Forwarded-For": xff})
	}
	for i, xff := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"} {
		if got := get(proxied, authz.PathJWKS, xff); got.status != http.StatusOK {
			t.Fatalf("request %d from the /64: %d", i+1, got.status)
		}
	}
	page := get(proxied, authz.PathOIDCDiscovery, "2001:db8:1:2::9")
	if page.status != http.StatusTooManyRequests || page.header.Get("Retry-After") == "" ||
		!strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("4th request from the /64: %d %v", page.status, page.header)
	}
	if got := get(proxied, authz.PathJWKS, "2001:db8:1:3::1"); got.status != http.StatusOK {
		t.Fatalf("the next /64: %d", got.status)
	}
	for range 5 {
		if got := get(proxied, "/healthz", "2001:db8:1:2::1"); got.status != http.StatusOK {
			t.Fatalf("health probe limited: %d", got.status)
		}
	}
	// Without a trusted proxy the header is the client's to write: it is
	// ignored, and every request counts for the peer.
	direct := startWith(t, func(c *server.Config) { c.RateLimits = server.RateLimits{Address: limit} })
	for i := range 3 {
		if got := get(direct, authz.PathJWKS, "198.51.100."+strconv.Itoa(i+1)); got.status != http.StatusOK {
			t.Fatalf("direct request %d: %d", i+1, got.status)
		}
	}
	wantError(t, "spoofed X-Forwarded-For", send(t, nil, http.MethodPost, direct.Addr+authz.PathToken,
		url.Values{"grant_type": {"client_credentials"}}, "x", "y", map[string]string{"X-Forwarded-For": "198.51.100.99"}),
		http.StatusTooManyRequests, "temporarily_unavailable")
}

// tcpProxy forwards a loopback port to target until stopped; stop closes
// the listener and every connection, as a Redis that went away.
type tcpProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startTCPProxy(t *testing.T, listen, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) stop() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestRedisDownFallsBackToPerNodeLimits: when the Redis of the limits goes
// away, the node keeps serving tokens, keeps limiting (per node, never
// open), and /readyz stays 200 but says so; when Redis answers again the
// shared budget is back.
func TestRedisDownFallsBackToPerNodeLimits(t *testing.T) {
	proxy := startTCPProxy(t, "127.0.0.1:0", testRedisAddr())
	redisAddr := proxy.ln.Addr().String()
	limit := perMinute(3)
	e := startWith(t, func(c *server.Config) {
		c.RedisURL = "redis://" + redisAddr + "/0"
		c.RateLimits = server.RateLimits{Client: limit, RedisPrefix: "strongroom-test:" + randString() + ":", RedisRetry: 50 * time.Millisecond}
	})
	c := webClient("client_credentials")
	secret := e.createClient(c)
	if got := ccToken(t, e.Addr, c.ID, secret); got.status != http.StatusOK {
		t.Fatalf("with Redis: %d %v", got.status, got.body)
	}
	if shared, _ := e.srv.RateLimiter.Status(); !shared {
		t.Fatal("limits not shared through Redis")
	}
	proxy.stop()
	// The request that meets the failure is decided per node, and so are
	// the next ones: three pass (a fresh per-node bucket), the 4th is 429.
	for i := range 3 {
		if got := ccToken(t, e.Addr, c.ID, secret); got.status != http.StatusOK {
			t.Fatalf("request %d without Redis: %d %v", i+1, got.status, got.body)
		}
	}
	wantRateLimited(t, "4th without Redis", ccToken(t, e.Addr, c.ID, secret), "client", limit)
	ready := send(t, nil, http.MethodGet, e.Addr+"/readyz", nil, "", "", nil)
	if ready.status != http.StatusOK {
		t.Fatalf("/readyz: %d", ready.status)
	}
	if body := readyzBody(t, e.Addr); !strings.Contains(body, "rate limits: per node, Redis unreachable") {
		t.Fatalf("/readyz does not say so: %q", body)
	}
	if !strings.Contains(e.Logs(), "rate limits: Redis unreachable") {
		t.Fatal("the fallback was not logged")
	}
	servertest.Eventually(t, 5*time.Second, "the fallback audited", func() bool {
		ev, err := e.srv.Store.ListAudit(context.Background(), storage.AuditFilter{Action: ratelimit.ActionFallback})
		return err == nil && len(ev) == 1 && ev[0].Outcome == storage.OutcomeFailure
	})

	// Redis is back on the same address: a limited request probes it and
	// the limits are shared again, where the client's budget (one request
	// counted in Redis before the outage) is as Redis kept it.
	startTCPProxy(t, redisAddr, testRedisAddr())
	prober := webClient("client_credentials")
	prober.Metadata.RateLimit = "1000/m"
	proberSecret := e.createClient(prober)
	servertest.Eventually(t, 10*time.Second, "the limits shared again", func() bool {
		ccToken(t, e.Addr, prober.ID, proberSecret)
		shared, _ := e.srv.RateLimiter.Status()
		return shared
	})
	for i := range 2 {
		if got := ccToken(t, e.Addr, c.ID, secret); got.status != http.StatusOK {
			t.Fatalf("request %d after Redis came back: %d %v", i+1, got.status, got.body)
		}
	}
	wantRateLimited(t, "the shared budget spent", ccToken(t, e.Addr, c.ID, secret), "client", limit)
	if body := readyzBody(t, e.Addr); strings.Contains(body, "per node") {
		t.Fatalf("/readyz still says per node: %q", body)
	}
}

func readyzBody(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get(addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
