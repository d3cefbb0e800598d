package throttle

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// testNow is the tests' fixed "now".
var testNow = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

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
			c := authztest.NewClock(testNow)
			th := New(st, Default, c.Now)
			for range tc.failures {
				if _, err := th.Failure(t.Context(), "ghost", "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
			}
			c.Advance(tc.after)
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
	c := authztest.NewClock(testNow)
	th := New(st, Default, c.Now)
	if _, err := th.Failure(t.Context(), "ghost", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); th.RunCleanup(ctx, time.Hour, slog.New(slog.DiscardHandler)) }()
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

func TestThrottlePolicy(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	th := New(memory.New(), Default, clock)

	// Delays after failures 1..4: 0, 1 s, 2 s, 4 s; the 5th locks for 15 min.
	for i, want := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second} {
		a, err := th.Admit(ctx, "carol", "192.0.2.7")
		if err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		lock, err := a.Fail(ctx)
		if err != nil || lock != nil {
			t.Fatalf("failure %d: lock=%v err=%v", i+1, lock, err)
		}
		var te *Error
		err = th.Wait(ctx, "carol", "192.0.2.7")
		if want == 0 && err != nil || want > 0 && (!errors.As(err, &te) || te.Locked || te.RetryAfter != want) {
			t.Fatalf("after failure %d: %v, want a wait of %v", i+1, err, want)
		}
		now = now.Add(want)
	}
	a, err := th.Admit(ctx, "carol", "192.0.2.7")
	if err != nil {
		t.Fatalf("attempt 5 refused: %v", err)
	}
	lock, err := a.Fail(ctx)
	if err != nil || lock == nil {
		t.Fatalf("fail/fifth-failure-locks: lock=%v err=%v", lock, err)
	}
	var te *Error
	if _, err := th.Admit(ctx, "carol", "198.51.100.1"); !errors.As(err, &te) || !te.Locked {
		t.Fatalf("fail/locked-from-any-address: %v", err)
	}
	// Other accounts from the same address are not locked (address limit is higher).
	if _, err := th.Admit(ctx, "dave", "192.0.2.7"); err != nil {
		t.Fatalf("ok/other-account: %v", err)
	}
	// The lock expires by itself.
	now = now.Add(15*time.Minute + time.Second)
	if _, err := th.Admit(ctx, "carol", "198.51.100.1"); err != nil {
		t.Fatalf("ok/lock-expires: %v", err)
	}
	// Parallel guesses: an admitted attempt keeps the account busy until it
	// fails or succeeds, so a burst is answered one at a time.
	first, err := th.Admit(ctx, "erin", "192.0.2.8")
	if err != nil {
		t.Fatalf("ok/first-of-burst: %v", err)
	}
	if _, err := th.Admit(ctx, "erin", "192.0.2.9"); !errors.As(err, &te) || te.Locked {
		t.Fatalf("fail/second-of-burst-admitted: %v", err)
	}
	if _, err := first.Fail(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := th.Admit(ctx, "erin", "192.0.2.9")
	if err != nil {
		t.Fatalf("ok/next-after-failure (first failure is free): %v", err)
	}
	if err := next.Succeed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := th.Admit(ctx, "erin", "192.0.2.9"); err != nil {
		t.Fatalf("ok/next-after-success: %v", err)
	}
	// An IPv6 /64 counts as one address.
	if IPKey("2001:db8::1") != IPKey("2001:db8::ffff:1") || IPKey("2001:db8::1") == IPKey("2001:db8:0:1::1") {
		t.Fatal("IPv6 addresses are not grouped by /64")
	}
}
