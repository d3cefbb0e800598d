package clientauth

import (
	"testing"
	"time"
)

// TestClientAuthFailureAuditIsSampledPerClient: at most failureAuditBurst
// failures of one client are audited per window; the next audited one
// after the window reports how many were suppressed; other clients are
// unaffected.
func TestClientAuthFailureAuditIsSampledPerClient(t *testing.T) {
	var f failureSampler
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range failureAuditBurst {
		if ok, s := f.admit("c1", t0.Add(time.Duration(i)*time.Millisecond)); !ok || s != "" {
			t.Fatalf("failure %d: audited %v, suppressed %q", i, ok, s)
		}
	}
	for i := range 5 {
		if ok, _ := f.admit("c1", t0.Add(time.Second+time.Duration(i))); ok {
			t.Fatalf("failure %d beyond the burst audited", failureAuditBurst+i)
		}
	}
	if ok, _ := f.admit("c2", t0.Add(time.Second)); !ok {
		t.Fatal("another client's failure suppressed")
	}
	ok, s := f.admit("c1", t0.Add(failureAuditWindow))
	if !ok || s != "5" {
		t.Fatalf("first failure of the next window: audited %v, suppressed %q, want 5", ok, s)
	}
	if ok, s := f.admit("c1", t0.Add(failureAuditWindow+time.Millisecond)); !ok || s != "" {
		t.Fatalf("second failure of the next window: audited %v, suppressed %q", ok, s)
	}
}
