package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Scope names what a limit counts: a client or a source address.
type Scope string

// The scopes the server limits.
const (
	// ScopeClient counts a client's requests at the token, PAR,
	// introspection and revocation endpoints, keyed by its client_id (the
	// one it claims: a flood of wrong secrets counts too).
	ScopeClient Scope = "client"
	// ScopeAddress counts every request to the public listener from one
	// source address (AddressKey: an IPv6 /64).
	ScopeAddress Scope = "address"
)

// Decision is the answer for one request.
type Decision struct {
	// Allowed says the request may go on.
	Allowed bool
	// Rate is the limit that was applied.
	Rate Rate
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter, when not Allowed, is how long until one request is
	// allowed again.
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again (Remaining ==
	// Rate.Burst).
	ResetAfter time.Duration
	// Shared says every node counted this request together (Redis); false:
	// this node alone (no Redis, or the fallback while Redis is away).
	Shared bool
}

// Observer hears about rejections and about the shared store coming and
// going; the composition root wires it to metrics and (through Sample) to
// the audit trail. Its methods run on the request path: they must be quick
// and must not block.
type Observer interface {
	// OnReject is called for every request refused under scope's limit
	// for key (a client id, an AddressKey).
	OnReject(scope Scope, key string)
	// OnFallback is called with true when the limiter falls back to
	// per-node limits because Redis failed, and with false when Redis
	// answers again.
	OnFallback(active bool)
}

// Options configure a Limiter.
type Options struct {
	// Redis, when set, holds the shared counters of every node; nil: each
	// node counts alone.
	Redis redis.UniversalClient
	// Prefix is put before every Redis key (after redis_rate's own
	// "rate:"), so deployments can share a Redis; default DefaultPrefix.
	Prefix string
	// Observer, when set, hears every rejection and fallback change.
	Observer Observer
	// Log receives the fallback warnings; nil: slog.Default().
	Log *slog.Logger
	// Now is the clock of the per-node counters; nil: time.Now.
	Now func() time.Time
	// RedisTimeout bounds one Redis call (default 250 ms): a slow Redis
	// costs a request at most this long before the node counts alone.
	RedisTimeout time.Duration
	// RetryAfter is how long the limiter counts per node after a Redis
	// failure before it tries Redis again (default 5 s); then one request
	// probes while the others still count per node.
	RetryAfter time.Duration
	// MaxLocalKeys bounds the per-node counters kept at once (default
	// 100,000); beyond it, full (idle) buckets are forgotten first.
	MaxLocalKeys int
}

// DefaultPrefix is the default Redis key prefix.
const DefaultPrefix = "strongroom:"

// Limiter applies rates to keys. It is safe for concurrent use.
type Limiter struct {
	shared  *redis_rate.Limiter
	local   *local
	obs     Observer
	log     *slog.Logger
	now     func() time.Time
	prefix  string
	timeout time.Duration
	retry   time.Duration

	// degraded is set while the limiter counts per node because Redis
	// failed; degradedUntil (unix nanoseconds) is when it tries again,
	// probing holds the one request that does.
	degraded      atomic.Bool
	degradedUntil atomic.Int64
	probing       atomic.Bool
	mu            sync.Mutex // serialises fallback transitions and their reports
	lastErr       string
}

// New returns a Limiter.
func New(opts Options) *Limiter {
	l := &Limiter{
		obs: opts.Observer, log: opts.Log, now: opts.Now, prefix: opts.Prefix,
		timeout: opts.RedisTimeout, retry: opts.RetryAfter,
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.prefix == "" {
		l.prefix = DefaultPrefix
	}
	if l.timeout <= 0 {
		l.timeout = 250 * time.Millisecond
	}
	if l.retry <= 0 {
		l.retry = 5 * time.Second
	}
	if opts.Redis != nil {
		l.shared = redis_rate.NewLimiter(opts.Redis)
	}
	l.local = newLocal(opts.MaxLocalKeys)
	return l
}

// Allow counts one request for key under scope's rate r and says whether it
// may go on. An Off rate always allows (and counts nothing). It never fails:
// when Redis does, this node decides alone.
func (l *Limiter) Allow(ctx context.Context, scope Scope, key string, r Rate) Decision {
	if r.IsOff() {
		return Decision{Allowed: true, Rate: r}
	}
	var d Decision
	if use, probe := l.useShared(); use {
		var err error
		d, err = l.allowShared(ctx, scope, key, r)
		switch {
		case err != nil:
			l.fail(err)
			d = l.local.allow(l.now(), string(scope)+"\x00"+key, r)
		case probe: // only the probe ends a fallback, never a call begun before it
			l.recovered()
		}
	} else {
		d = l.local.allow(l.now(), string(scope)+"\x00"+key, r)
	}
	if !d.Allowed && l.obs != nil {
		l.obs.OnReject(scope, key)
	}
	return d
}

// useShared says whether this request asks Redis: always when Redis is
// healthy; while degraded, only the one request that probes once the pause
// is over (probe).
func (l *Limiter) useShared() (use, probe bool) {
	if l.shared == nil {
		return false, false
	}
	if !l.degraded.Load() {
		return true, false
	}
	if l.now().UnixNano() < l.degradedUntil.Load() {
		return false, false
	}
	ok := l.probing.CompareAndSwap(false, true)
	return ok, ok
}

func (l *Limiter) allowShared(ctx context.Context, scope Scope, key string, r Rate) (Decision, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	res, err := l.shared.Allow(ctx, l.prefix+string(scope)+":"+key, redis_rate.Limit{Rate: r.Events, Period: r.Per, Burst: r.Burst})
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Allowed: res.Allowed > 0, Rate: r, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0), Shared: true}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}

// fail moves the limiter to per-node counting for l.retry.
func (l *Limiter) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.degradedUntil.Store(l.now().Add(l.retry).UnixNano())
	l.probing.Store(false)
	l.lastErr = err.Error()
	if l.degraded.Swap(true) {
		return
	}
	l.log.Warn("rate limits: Redis unreachable, every node now counts alone until it answers",
		"err", err, "retry_in", l.retry.String())
	if l.obs != nil {
		l.obs.OnFallback(true)
	}
}

// recovered moves the limiter back to the shared counters.
func (l *Limiter) recovered() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.probing.Store(false)
	if !l.degraded.Swap(false) {
		return
	}
	l.lastErr = ""
	l.log.Info("rate limits: Redis answers again; the limits are shared by every node")
	if l.obs != nil {
		l.obs.OnFallback(false)
	}
}

// Status says where the limits are counted, for /readyz: shared is false
// when the limiter has no Redis or has fallen back; detail is one line for
// anyone who can reach /readyz, so it names no address or error (the log
// has those: LastError).
func (l *Limiter) Status() (shared bool, detail string) {
	switch {
	case l.shared == nil:
		return false, "rate limits: per node (no Redis configured)"
	case l.degraded.Load():
		return false, "rate limits: per node, Redis unreachable"
	}
	return true, "rate limits: shared through Redis"
}

// LastError is the Redis error that caused the current fallback ("" when
// there is none), for operators' tools; it may name the Redis address.
func (l *Limiter) LastError() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// Degraded reports whether the limiter has fallen back to per-node limits
// because Redis failed.
func (l *Limiter) Degraded() bool { return l.degraded.Load() }
