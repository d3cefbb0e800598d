package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// defaultMaxLocalKeys bounds the per-node counters (Options.MaxLocalKeys).
const defaultMaxLocalKeys = 100_000

// local is the per-node store: one golang.org/x/time/rate token bucket per
// key. Memory is bounded: past max keys, buckets that have refilled (their
// key has been idle for a whole window) are dropped, which loses nothing;
// if every bucket is busy, the map grows until the next sweep can drop some.
type local struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	max       int
	nextSweep int
}

type bucket struct {
	lim  *rate.Limiter
	rate Rate
	last time.Time
}

func newLocal(maxKeys int) *local {
	if maxKeys <= 0 {
		maxKeys = defaultMaxLocalKeys
	}
	return &local{buckets: map[string]*bucket{}, max: maxKeys, nextSweep: maxKeys}
}

// allow takes one event from key's bucket at now, if there is one.
func (s *local) allow(now time.Time, key string, r Rate) Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[key]
	if b == nil {
		if len(s.buckets) >= s.nextSweep {
			s.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(r.PerSecond()), r.Burst), rate: r}
		s.buckets[key] = b
	} else if b.rate != r { // the key's limit changed (a client override): keep its tokens
		b.lim.SetLimitAt(now, rate.Limit(r.PerSecond()))
		b.lim.SetBurstAt(now, r.Burst)
		b.rate = r
	}
	b.last = now
	d := Decision{Rate: r}
	res := b.lim.ReserveN(now, 1)
	if delay := res.DelayFrom(now); !res.OK() || delay > 0 {
		res.CancelAt(now)
		d.RetryAfter = delay
		if !res.OK() {
			d.RetryAfter = r.Interval()
		}
	} else {
		d.Allowed = true
	}
	tokens := b.lim.TokensAt(now)
	d.Remaining = max(int(math.Floor(tokens)), 0)
	d.ResetAfter = time.Duration((float64(r.Burst) - tokens) / r.PerSecond() * float64(time.Second))
	return d
}

// sweep drops the buckets idle for longer than their window (full again),
// then sets the size of the next sweep so that sweeps stay amortised O(1).
func (s *local) sweep(now time.Time) {
	for k, b := range s.buckets {
		if now.Sub(b.last) > b.rate.Window() {
			delete(s.buckets, k)
		}
	}
	s.nextSweep = max(s.max, 2*len(s.buckets))
}

// size is the number of buckets held (tests).
func (s *local) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets)
}
