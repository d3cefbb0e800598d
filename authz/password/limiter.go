package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Password hashing is the one thing an anonymous request can make the server
// spend real memory on: each argon2id computation holds Argon2Params.Memory
// (19 MiB by default) for its whole run. HashLimiter bounds how many run at
// once, so no burst of logins can exhaust memory: with the default bound of
// two per core, at most 2 × cores × 19 MiB are in use for hashing, and the
// cores are already saturated at that point (a larger bound would only queue
// work inside the Go scheduler while holding its memory).
//
// A request that finds every slot taken waits at most HashLimits.Wait (a
// short burst of real users is absorbed), then is refused with ErrBusy: the
// server is overloaded, not the client misbehaving, so the pages answer
// 503 Service Unavailable with Retry-After (RFC 9110 §15.6.4) rather than
// 429, which would blame the one client that happened to arrive last.

// HashLimits bound concurrent argon2id computations.
type HashLimits struct {
	// Concurrent is how many may run at once (default 2 × runtime.NumCPU()).
	Concurrent int
	// Wait is how long a computation may wait for a slot before it is
	// refused with ErrBusy (default 250 ms).
	Wait time.Duration
}

// DefaultHashWait is HashLimits.Wait by default.
const DefaultHashWait = 250 * time.Millisecond

// hashRetryAfter is the Retry-After of a refused computation.
const hashRetryAfter = time.Second

// ErrBusy is matched (errors.Is) by every *BusyError.
var ErrBusy = errors.New("the server is busy")

// BusyError refuses work the server has no capacity for now.
type BusyError struct {
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("the server is busy; retry in %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// HashLimiter is a semaphore over argon2id computations with an observable
// high-water mark.
type HashLimiter struct {
	slots   chan struct{}
	wait    time.Duration
	running atomic.Int64
	peak    atomic.Int64
	refused atomic.Int64
}

// NewHashLimiter returns a limiter for l (zero fields take their defaults).
func NewHashLimiter(l HashLimits) *HashLimiter {
	if l.Concurrent <= 0 {
		l.Concurrent = 2 * runtime.NumCPU()
	}
	if l.Wait <= 0 {
		l.Wait = DefaultHashWait
	}
	return &HashLimiter{slots: make(chan struct{}, l.Concurrent), wait: l.Wait}
}

// Do runs fn in a slot, waiting for one at most the configured time; it
// returns *BusyError when none came free, or ctx's error.
func (h *HashLimiter) Do(ctx context.Context, fn func()) error {
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-t.C:
			h.refused.Add(1)
			return &BusyError{RetryAfter: hashRetryAfter}
		case <-ctx.Done():
			return fmt.Errorf("wait for password hashing: %w", ctx.Err())
		}
	}
	defer func() { <-h.slots }()
	n := h.running.Add(1)
	defer h.running.Add(-1)
	for {
		if p := h.peak.Load(); n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	fn()
	return nil
}

// HashStats is what a HashLimiter has seen.
type HashStats struct {
	Bound   int   // slots
	Running int64 // computations running now
	Peak    int64 // most computations that ever ran at once
	Refused int64 // computations refused with ErrBusy
}

// Stats reports the limiter's bound, current and peak concurrency and
// refusals (for tests and operators).
func (h *HashLimiter) Stats() HashStats {
	return HashStats{Bound: cap(h.slots), Running: h.running.Load(), Peak: h.peak.Load(), Refused: h.refused.Load()}
}
