// Package load is Strongroom's load driver: it drives one operation (a
// request or a whole flow) from N goroutines, each on its own keep-alive
// connection, and reports throughput and latency quantiles from a
// log-bucketed histogram. Scenario constructors build allocation-light
// operations against any OAuth 2.0 server described by a Target (issuer URL
// and client credentials; endpoints from discovery), so the same driver
// measures Strongroom, node-oidc-provider or anything else.
package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Op performs one request (or one whole flow) with hc; an error when the
// answer is not the expected one (status, body).
type Op func(ctx context.Context, hc *http.Client) error

// Result of one scenario at one concurrency.
type Result struct {
	Scenario   string        `json:"scenario"`
	Server     string        `json:"server"`
	Conns      int           `json:"conns"`
	Duration   time.Duration `json:"duration_ns"`
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"`
	RPS        float64       `json:"rps"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	FirstError string        `json:"first_error,omitempty"`
}

// String is a one-line summary.
func (r Result) String() string {
	s := fmt.Sprintf("%-32s %-12s c=%-4d %9.0f req/s  p50 %-9v p90 %-9v p99 %-9v max %-9v n=%d err=%d",
		r.Scenario, r.Server, r.Conns, r.RPS, round(r.P50), round(r.P90), round(r.P99), round(r.Max), r.Requests, r.Errors)
	if r.FirstError != "" {
		s += " first error: " + r.FirstError
	}
	return s
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// NewClient is an HTTP client holding exactly one keep-alive connection
// (a second request waits for it), without compression, redirects or a
// timeout beyond the given one.
func NewClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run drives op from conns goroutines, each with its own keep-alive
// connection, for warmup (not counted) then dur. Latency is the time of one
// op; a request counts when it started inside the measured window. An op
// that fails counts as a request and an error (its latency is recorded too).
func Run(ctx context.Context, scenario string, op Op, conns int, warmup, dur time.Duration) Result {
	if conns < 1 {
		conns = 1
	}
	start := time.Now().Add(warmup)
	end := start.Add(dur)
	runCtx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()

	type worker struct {
		h        Histogram
		reqs     int64
		errs     int64
		firstErr string
	}
	workers := make([]*worker, conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := NewClient(30 * time.Second)
			defer hc.CloseIdleConnections()
			for runCtx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := op(runCtx, hc)
				t1 := time.Now()
				if t0.Before(start) {
					continue
				}
				w.reqs++
				w.h.Record(t1.Sub(t0))
				if err != nil {
					w.errs++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
				}
			}
		}()
	}
	wg.Wait()

	res := Result{Scenario: scenario, Conns: conns, Duration: dur}
	var h Histogram
	for _, w := range workers {
		h.Merge(&w.h)
		res.Requests += w.reqs
		res.Errors += w.errs
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
	}
	res.RPS = float64(res.Requests) / dur.Seconds()
	res.P50, res.P90, res.P99, res.Max = h.Quantile(0.50), h.Quantile(0.90), h.Quantile(0.99), h.Max()
	if len(res.FirstError) > 300 {
		res.FirstError = res.FirstError[:300]
	}
	return res
}

// drain reads and closes a response body so its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}
