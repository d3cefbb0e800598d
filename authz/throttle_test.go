package authz

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestThrottleCleanup(t *testing.T) {
	exists := func(t *testing.T, st storage.Store, key string) bool {
		t.Helper()
		_, err := st.GetLoginThrottle(t.Context(), key)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for name, tc := range map[string]struct {
		failures int           // failed attempts of "ghost" from 192.0.2.1
		after    time.Duration // clock advance before the cleanup
		wantUser bool          // the account counter survives
		wantIP   bool
	}{
		"ok/made-up-username-removed-after-window": {failures: 1, after: 16 * time.Minute},
		"ok/kept-inside-window":                    {failures: 1, after: 14 * time.Minute, wantUser: true, wantIP: true},
		"ok/locked-kept-while-locked":              {failures: 5, after: 14 * time.Minute, wantUser: true, wantIP: true},
		"ok/locked-removed-after-lock-and-window":  {failures: 5, after: 16 * time.Minute},
		"ok/waiting-kept":                          {failures: 3, after: time.Second, wantUser: true, wantIP: true},
	} {
		t.Run(name, func(t *testing.T) {
			st := memory.New()
			c := &clock{t: testNow}
			th := NewThrottle(st, DefaultThrottle, c.now)
			for range tc.failures {
				if _, err := th.Failure(t.Context(), "ghost", "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
			}
			c.advance(tc.after)
			if _, err := th.Cleanup(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := exists(t, st, AccountKey("ghost")); got != tc.wantUser {
				t.Errorf("account counter exists = %v, want %v", got, tc.wantUser)
			}
			if got := exists(t, st, IPKey("192.0.2.1")); got != tc.wantIP {
				t.Errorf("address counter exists = %v, want %v", got, tc.wantIP)
			}
			// Whatever was removed changes no decision: a removed counter
			// admits the next attempt, as an expired one would.
			if !tc.wantUser {
				if _, err := th.Admit(t.Context(), "ghost", "192.0.2.1"); err != nil {
					t.Fatalf("attempt after cleanup: %v", err)
				}
			}
		})
	}
}

func TestRunThrottleCleanup(t *testing.T) {
	st := memory.New()
	c := &clock{t: testNow}
	th := NewThrottle(st, DefaultThrottle, c.now)
	if _, err := th.Failure(t.Context(), "ghost", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); runThrottleCleanup(ctx, th, time.Hour, slog.New(slog.DiscardHandler)) }()
	// the first cleanup runs at once, not after the first interval
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := st.GetLoginThrottle(t.Context(), AccountKey("ghost"))
		if errors.Is(err, storage.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale counter was not removed at start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the cleanup loop did not stop with its context")
	}
}
