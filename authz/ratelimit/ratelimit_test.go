package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder is an Observer that keeps what it heard.
type recorder struct {
	mu        sync.Mutex
	rejects   []string
	fallbacks []bool
}

func (r *recorder) OnReject(scope Scope, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejects = append(r.rejects, string(scope)+":"+key)
}

func (r *recorder) OnFallback(active bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallbacks = append(r.fallbacks, active)
}

func (r *recorder) snapshot() ([]string, []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejects...), append([]bool(nil), r.fallbacks...)
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"50/s": {Events: 50, Per: time.Second, Burst: 100}, " 600 / m ": {Events: 600, Per: time.Minute, Burst: 1200},
		"1/h": {Events: 1, Per: time.Hour, Burst: 2}, "off": Off, "0": Off,
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%q does not validate: %v", in, err)
		}
	}
	for _, bad := range []string{"", "50", "50/d", "x/s", "-1/s", "0/s", "1.5/s", "2000000/s", "50/"} {
		if r, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) = %+v, want an error", bad, r)
		}
	}
	r, _ := ParseRate("50/s")
	if r = r.WithBurst(100); r.Burst != 100 || r.String() != "50/s" {
		t.Fatalf("WithBurst: %+v %s", r, r)
	}
	if r.Window() != 2*time.Second || r.Interval() != 20*time.Millisecond {
		t.Fatalf("window %s interval %s", r.Window(), r.Interval())
	}
	if err := (Rate{Events: 5, Per: time.Second}).Validate(); err == nil {
		t.Fatal("a rate without a burst validated")
	}
}

// TestLocalLimiterMath: a bucket of burst B at rate R admits B at once, then
// one per 1/R; a refused request costs nothing; Remaining, RetryAfter and
// ResetAfter say so exactly.
func TestLocalLimiterMath(t *testing.T) {
	c := newClock()
	rec := &recorder{}
	l := New(Options{Now: c.Now, Observer: rec})
	r := Rate{Events: 10, Per: time.Second, Burst: 5} // one per 100 ms
	ctx := context.Background()
	for i := range 5 {
		d := l.Allow(ctx, ScopeClient, "c1", r)
		if !d.Allowed || d.Remaining != 4-i || d.Shared {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d := l.Allow(ctx, ScopeClient, "c1", r)
	if d.Allowed || d.RetryAfter != 100*time.Millisecond || d.Remaining != 0 || d.ResetAfter != 500*time.Millisecond {
		t.Fatalf("6th request: %+v", d)
	}
	// Refusals do not use up the allowance: after 100 ms exactly one more.
	for range 3 {
		l.Allow(ctx, ScopeClient, "c1", r)
	}
	c.Advance(100 * time.Millisecond)
	if d := l.Allow(ctx, ScopeClient, "c1", r); !d.Allowed {
		t.Fatalf("after one interval: %+v", d)
	}
	if d := l.Allow(ctx, ScopeClient, "c1", r); d.Allowed {
		t.Fatalf("a second one after one interval: %+v", d)
	}
	// Another key and another scope have their own buckets.
	if d := l.Allow(ctx, ScopeClient, "c2", r); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("another client: %+v", d)
	}
	if d := l.Allow(ctx, ScopeAddress, "c1", r); !d.Allowed {
		t.Fatalf("same key, other scope: %+v", d)
	}
	// A full refill after the window.
	c.Advance(r.Window())
	if d := l.Allow(ctx, ScopeClient, "c1", r); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("after the window: %+v", d)
	}
	rejects, _ := rec.snapshot()
	if len(rejects) != 5 || rejects[0] != "client:c1" {
		t.Fatalf("rejections observed: %v", rejects)
	}
	if d := l.Allow(ctx, ScopeClient, "c1", Off); !d.Allowed {
		t.Fatal("Off refused")
	}
}

// TestLocalLimiterAppliesAChangedRate: a client's override takes effect on
// its existing bucket.
func TestLocalLimiterAppliesAChangedRate(t *testing.T) {
	c := newClock()
	l := New(Options{Now: c.Now})
	small := Rate{Events: 1, Per: time.Minute, Burst: 2}
	for range 2 {
		l.Allow(context.Background(), ScopeClient, "c", small)
	}
	if d := l.Allow(context.Background(), ScopeClient, "c", small); d.Allowed {
		t.Fatal("over the small limit")
	}
	big := Rate{Events: 100, Per: time.Second, Burst: 100}
	c.Advance(time.Second)
	l.Allow(context.Background(), ScopeClient, "c", big) // the new rate applies from here on
	c.Advance(50 * time.Millisecond)                     // 5 events at 100/s
	for i := range 5 {
		if d := l.Allow(context.Background(), ScopeClient, "c", big); !d.Allowed || d.Rate != big {
			t.Fatalf("raised limit, request %d: %+v", i+1, d)
		}
	}
}

// TestLocalLimiterMemoryIsBounded: idle (refilled) buckets are dropped once
// the key count passes the bound.
func TestLocalLimiterMemoryIsBounded(t *testing.T) {
	c := newClock()
	l := New(Options{Now: c.Now, MaxLocalKeys: 100})
	r := Rate{Events: 10, Per: time.Second, Burst: 10}
	for i := range 1000 {
		l.Allow(context.Background(), ScopeAddress, "k"+string(rune(i)), r)
		c.Advance(10 * time.Millisecond) // a bucket refills in 1 s: at most ~100 busy at once
	}
	if n := l.local.size(); n > 200 {
		t.Fatalf("%d buckets kept, bound 100 (+ busy ones)", n)
	}
}

func TestAddressKeyIPv6By64(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                     "192.0.2.7",
		"::ffff:192.0.2.7":              "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":          "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:ffff:1": "2001:db8:1:2::/64",
		"fe80::1%eth0":                  "fe80::/64",
		"not-an-ip":                     "not-an-ip",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
	if AddressKey("2001:db8:1:2::1") == AddressKey("2001:db8:1:3::1") {
		t.Fatal("two /64s share a key")
	}
}

// TestSampleRejectionsOncePerKeyPerInterval: the audit trail hears one
// rejection per key per minute and at most MaxPerEvery in all.
func TestSampleRejectionsOncePerKeyPerInterval(t *testing.T) {
	c := newClock()
	rec := &recorder{}
	s := Sample(rec, SampleOptions{Every: time.Minute, MaxPerEvery: 3, Now: c.Now})
	for range 10 {
		s.OnReject(ScopeClient, "a")
		s.OnReject(ScopeAddress, "a")
	}
	s.OnReject(ScopeClient, "b")
	s.OnReject(ScopeClient, "c") // over the cap of 3
	s.OnFallback(true)
	rejects, fallbacks := rec.snapshot()
	if len(rejects) != 3 || len(fallbacks) != 1 {
		t.Fatalf("passed %v %v", rejects, fallbacks)
	}
	c.Advance(59 * time.Second)
	s.OnReject(ScopeClient, "a")
	if r, _ := rec.snapshot(); len(r) != 3 {
		t.Fatalf("within the minute: %v", r)
	}
	c.Advance(time.Second)
	s.OnReject(ScopeClient, "a")
	s.OnReject(ScopeClient, "c")
	if r, _ := rec.snapshot(); len(r) != 5 {
		t.Fatalf("after the minute: %v", r)
	}
}

// testRedisAddr is the real Redis of the tests (STRONGROOM_TEST_REDIS_ADDR,
// default 127.0.0.1:6379). The tests fail, never skip, without it.
func testRedisAddr() string {
	if a := os.Getenv("STRONGROOM_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: testRedisAddr()})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("the test Redis at %s: %v", testRedisAddr(), err)
	}
	return rdb
}

func testPrefix(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "strongroom-test:" + hex.EncodeToString(b) + ":"
}

// TestRedisLimitersShareOneBudget: three limiters (three nodes), each with
// its own Redis client, share one budget: burst 10 across them, the 11th
// request on any of them is refused, and the key is in Redis.
func TestRedisLimitersShareOneBudget(t *testing.T) {
	prefix := testPrefix(t)
	var nodes []*Limiter
	for range 3 {
		nodes = append(nodes, New(Options{Redis: testRedis(t), Prefix: prefix}))
	}
	r := Rate{Events: 10, Per: time.Minute, Burst: 10}
	ctx := context.Background()
	for i := range 10 {
		d := nodes[i%3].Allow(ctx, ScopeClient, "shared", r)
		if !d.Allowed || !d.Shared || d.Remaining != 9-i {
			t.Fatalf("request %d on node %d: %+v", i+1, i%3, d)
		}
	}
	for n, l := range nodes {
		d := l.Allow(ctx, ScopeClient, "shared", r)
		if d.Allowed || !d.Shared || d.RetryAfter <= 0 || d.RetryAfter > r.Interval() {
			t.Fatalf("11th request on node %d: %+v", n, d)
		}
	}
	rdb := testRedis(t)
	if n, err := rdb.Exists(ctx, "rate:"+prefix+"client:shared").Result(); err != nil || n != 1 {
		t.Fatalf("the counter in Redis: %d %v", n, err)
	}
	_ = rdb.Del(ctx, "rate:"+prefix+"client:shared").Err()
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestRedisDownFallsBackToPerNodeLimits: with Redis unreachable the limiter
// still limits (per node, the same rate), says so (Observer, Status), never
// fails the request, and tries Redis again after the pause.
func TestRedisDownFallsBackToPerNodeLimits(t *testing.T) {
	c := newClock()
	rec := &recorder{}
	downAddr := closedPort(t)
	down := redis.NewClient(&redis.Options{Addr: downAddr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = down.Close() })
	l := New(Options{Redis: down, Prefix: testPrefix(t), Observer: rec, Now: c.Now, RetryAfter: 5 * time.Second})
	if shared, _ := l.Status(); !shared {
		t.Fatal("reports per node before any failure")
	}
	r := Rate{Events: 1, Per: time.Minute, Burst: 3}
	for i := range 3 {
		if d := l.Allow(context.Background(), ScopeClient, "c", r); !d.Allowed || d.Shared {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	if d := l.Allow(context.Background(), ScopeClient, "c", r); d.Allowed {
		t.Fatalf("fell back open: %+v", d)
	}
	shared, detail := l.Status()
	if shared || !l.Degraded() || detail != "rate limits: per node, Redis unreachable" || l.LastError() == "" {
		t.Fatalf("status %v %q (last error %q)", shared, detail, l.LastError())
	}
	if strings.Contains(detail, downAddr) {
		t.Fatalf("the public status names the Redis address: %q", detail)
	}
	if _, fb := rec.snapshot(); len(fb) != 1 || !fb[0] {
		t.Fatalf("fallback reports: %v", fb)
	}
	// Redis comes back (a limiter whose client points at the real one
	// stands in for the restarted server): after the pause, the next
	// request probes, succeeds, and the limits are shared again.
	l.shared = New(Options{Redis: testRedis(t)}).shared
	if d := l.Allow(context.Background(), ScopeClient, "other", r); d.Shared {
		t.Fatal("asked Redis again before the pause was over")
	}
	c.Advance(5 * time.Second)
	if d := l.Allow(context.Background(), ScopeClient, "other", r); !d.Shared || !d.Allowed {
		t.Fatalf("after the pause: %+v", d)
	}
	if shared, _ := l.Status(); !shared || l.Degraded() {
		t.Fatal("still degraded after Redis answered")
	}
	if _, fb := rec.snapshot(); len(fb) != 2 || fb[1] {
		t.Fatalf("fallback reports: %v", fb)
	}
}

// TestSlowRedisCostsAtMostTheTimeout: a Redis that accepts connections but
// never answers costs the request that meets it at most RedisTimeout; the
// requests after it count per node without waiting for Redis.
func TestSlowRedisCostsAtMostTheTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	silent := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = silent.Close() })
	l := New(Options{Redis: silent, Prefix: testPrefix(t), RedisTimeout: 200 * time.Millisecond, RetryAfter: time.Hour})
	r := Rate{Events: 100, Per: time.Second, Burst: 1000}
	start := time.Now()
	if d := l.Allow(context.Background(), ScopeClient, "c", r); !d.Allowed || d.Shared {
		t.Fatalf("first request: %+v", d)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the first request waited %s for a silent Redis (timeout 200ms)", took)
	}
	start = time.Now()
	for range 100 {
		if d := l.Allow(context.Background(), ScopeClient, "c", r); !d.Allowed || d.Shared {
			t.Fatalf("during the fallback: %+v", d)
		}
	}
	if took := time.Since(start); took > 2*time.Second { // 100 × 200 ms if each asked Redis
		t.Fatalf("100 requests during the fallback took %s: they waited for Redis", took)
	}
}
