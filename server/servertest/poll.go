package servertest

import (
	"testing"
	"time"
)

// PollInterval is how often Poll and Eventually check their condition.
const PollInterval = 20 * time.Millisecond

// Poll calls cond until it returns true or timeout has passed, and reports
// whether it did. cond runs at least once, and once more after the
// deadline, so a condition that holds by then is never missed. End-to-end
// tests wait with it on conditions instead of sleeping for a fixed time.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
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

// Eventually polls cond until it holds and fails tb if that takes longer
// than timeout, naming what it waited for.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Poll(timeout, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
