package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// waitFor polls cond every 5 ms until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// Once ctx ends, a listener raises draining at once, keeps serving (without
// keep-alive) for its drain period, then closes, lets the request in
// flight finish and returns nil.
func TestListenerDrainsThenClosesAndFinishesInFlight(t *testing.T) {
	const drain = time.Second
	release := make(chan struct{})
	inFlight := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(inFlight)
		<-release
		_, _ = io.WriteString(w, "slow")
	})
	draining := new(atomic.Bool)
	ln := listen(t)
	addr := "http://" + ln.Addr().String()
	l := httpListener{name: "test listener", handler: mux, drain: drain, draining: draining, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.serve(ctx, ln) }()

	hc := &http.Client{Timeout: 5 * time.Second}
	slow := make(chan string, 1)
	go func() {
		resp, err := hc.Get(addr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- string(b)
	}()
	<-inFlight

	stopped := time.Now()
	cancel()
	if !waitFor(drain/2, draining.Load) {
		t.Fatal("draining not raised when shutdown began")
	}
	resp, err := hc.Get(addr + "/ok")
	if err != nil {
		t.Fatalf("a request during the drain: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Fatalf("during the drain: status %d, Connection: close %v; want 200 without keep-alive", resp.StatusCode, resp.Close)
	}
	closed := waitFor(drain+5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if !closed {
		t.Fatal("the listener never closed")
	}
	if after := time.Since(stopped); after < drain {
		t.Fatalf("the listener closed %v after shutdown began, before the %v drain", after, drain)
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if got := <-slow; got != "slow" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// Without a drain period the listener closes at once; the shutdown is
// logged under the listener's name and no drain is.
func TestListenerWithoutDrainClosesAtOnce(t *testing.T) {
	var logs bytes.Buffer
	ln := listen(t)
	l := httpListener{name: "admin API", handler: http.NotFoundHandler(), log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.serve(ctx, ln) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return")
	}
	if out := logs.String(); strings.Contains(out, "draining") || !strings.Contains(out, `listener="admin API"`) {
		t.Fatalf("log:\n%s", out)
	}
}

// A listener that stops on its own returns the error, named.
func TestListenerReportsItsOwnStop(t *testing.T) {
	ln := listen(t)
	_ = ln.Close()
	l := httpListener{name: "admin API", handler: http.NotFoundHandler(), log: slog.New(slog.DiscardHandler)}
	err := l.serve(context.Background(), ln)
	if err == nil || !strings.HasPrefix(err.Error(), "admin API: ") || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("serve on a closed listener: %v", err)
	}
}
