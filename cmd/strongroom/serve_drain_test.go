package main

import (
	"strings"
	"testing"
)

// TestServeRejectsNegativeShutdownDrain: a negative drain is a usage error,
// not a silent "no drain".
func TestServeRejectsNegativeShutdownDrain(t *testing.T) {
	r, _ := runServeOnce(t, env{}, "serve", "--dev", "--listen", "127.0.0.1:0", "--shutdown-drain", "-1s")
	if r.code != exitUsage || !strings.Contains(r.errOut, "--shutdown-drain must not be negative") {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
}

// TestServeDevDoesNotDrainByDefault: without a load balancer in front, a dev
// server stops at once (the 5 s production default would only slow it).
func TestServeDevDoesNotDrainByDefault(t *testing.T) {
	s, _ := startDev(t)
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, s.dump())
	}
	if strings.Contains(s.log.String(), "draining") {
		t.Fatalf("a dev server drained before stopping:\n%s", s.log)
	}
}
