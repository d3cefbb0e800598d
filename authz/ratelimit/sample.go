package ratelimit

import (
	"sync"
	"time"
)

// SampleOptions configure Sample.
type SampleOptions struct {
	// Every is the interval: one report per scope and key per Every
	// (default 1 min).
	Every time.Duration
	// MaxPerEvery caps the reports passed on per interval over all keys
	// (default 100), so that a flood from many addresses cannot flood the
	// audit trail either.
	MaxPerEvery int
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Sample passes to o at most one OnReject per scope and key per interval,
// and at most MaxPerEvery in all per interval; OnFallback always passes.
// Wrap the audit trail's observer with it; metrics should see every
// rejection.
func Sample(o Observer, opts SampleOptions) Observer {
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.MaxPerEvery <= 0 {
		opts.MaxPerEvery = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &sampler{next: o, opts: opts, seen: map[string]time.Time{}}
}

type sampler struct {
	next        Observer
	opts        SampleOptions
	mu          sync.Mutex
	seen        map[string]time.Time
	periodStart time.Time
	passed      int
}

func (s *sampler) OnReject(scope Scope, key string) {
	if !s.admit(string(scope) + "\x00" + key) {
		return
	}
	s.next.OnReject(scope, key)
}

func (s *sampler) admit(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if now.Sub(s.periodStart) >= s.opts.Every {
		s.periodStart, s.passed = now, 0
		for key, t := range s.seen { // forget keys whose interval is over
			if now.Sub(t) >= s.opts.Every {
				delete(s.seen, key)
			}
		}
	}
	if t, ok := s.seen[k]; ok && now.Sub(t) < s.opts.Every {
		return false
	}
	if s.passed >= s.opts.MaxPerEvery {
		return false
	}
	s.seen[k] = now
	s.passed++
	return true
}

func (s *sampler) OnFallback(active bool) { s.next.OnFallback(active) }

// Observers passes every report to each of its members in turn.
type Observers []Observer

// OnReject implements Observer.
func (os Observers) OnReject(scope Scope, key string) {
	for _, o := range os {
		o.OnReject(scope, key)
	}
}

// OnFallback implements Observer.
func (os Observers) OnFallback(active bool) {
	for _, o := range os {
		o.OnFallback(active)
	}
}
