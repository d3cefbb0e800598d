package load

// This file stands in for the load driver (branch h-driver) until it is
// merged: the same Op, Result and Run, kept minimal. The merge removes it.

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Op is one request (or one scripted sequence) against a server.
type Op func(ctx context.Context, hc *http.Client) error

// Result is one scenario's measurement.
type Result struct {
	Scenario, Server   string
	Conns              int
	Duration           time.Duration
	Requests, Errors   int64
	RPS                float64
	P50, P90, P99, Max time.Duration
	FirstError         string
}

// Run calls op from conns goroutines for warmup (not counted) and then dur.
func Run(ctx context.Context, scenario string, op Op, conns int, warmup, dur time.Duration) Result {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 30 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	var errs int64
	var first string
	measuring := false
	start := time.Now()
	end := start.Add(warmup + dur)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				t0 := time.Now()
				err := op(ctx, hc)
				d := time.Since(t0)
				mu.Lock()
				if !measuring && time.Since(start) >= warmup {
					measuring = true
				}
				if measuring {
					lat = append(lat, d)
					if err != nil {
						errs++
						if first == "" {
							first = err.Error()
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r := Result{Scenario: scenario, Conns: conns, Duration: dur, Requests: int64(len(lat)), Errors: errs, FirstError: first}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if n := len(lat); n > 0 {
		r.RPS = float64(n) / dur.Seconds()
		r.P50, r.P90, r.P99, r.Max = lat[n*50/100], lat[n*90/100], lat[n*99/100], lat[n-1]
	}
	return r
}
