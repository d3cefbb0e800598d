package e2e

import (
	"testing"
	"time"
)

// The tests wait on conditions, never for a fixed time. The server offers
// no clock to inject (server.Config has none, fosite reads time.Now and
// PostgreSQL judges expiry by now()), so a test of an expiry polls for its
// observable effect; only where nothing observable changes (an idle session
// is judged when it is next used, and using it extends it) does a test wait
// for the instant itself, with waitPast.

// pollInterval is how often poll and eventually check their condition.
const pollInterval = 20 * time.Millisecond

// poll calls cond until it returns true or timeout has passed, and reports
// whether it did. cond runs at least once, and once more after the deadline.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}

// eventually polls cond until it holds and fails t if that takes longer
// than timeout, naming what it waited for.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// waitPast returns once the wall clock, which the server and PostgreSQL
// judge expiry by, has passed instant. It is for the few waits that are the
// test itself (see above); anything that can be polled is.
func waitPast(instant time.Time) {
	if d := time.Until(instant); d >= 0 {
		<-time.After(d + time.Millisecond)
	}
}
