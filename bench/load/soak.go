package load

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strongroom/strongroom/authz"
)

// Weighted is one operation of a mix and its share of the calls.
type Weighted struct {
	Name   string
	Weight int
	Op     Op
}

// Probe reads the server's resources at one instant.
type Probe func(ctx context.Context) (Resources, error)

// Resources are what a soak watches for growth.
type Resources struct {
	RSSBytes   int64 // resident set of the server process(es)
	Goroutines int64 // go_goroutines of the server(s)
	DBConns    int64 // connections open to the server's database
	DBBytes    int64 // pg_database_size of the server's database
}

// Sample is one window of a soak: the resources at its end, and the
// requests completed in it.
type Sample struct {
	At       time.Duration // since the start, at the end of the window
	Res      Resources
	Requests int64
	Errors   int64
	RPS      float64
	P99      time.Duration
	// PerOp counts the completed calls of each operation in the window.
	PerOp map[string]int64
	// ProbeError is the probe's failure, if any (Res is then zero).
	ProbeError string
}

// SoakConfig is one soak run.
type SoakConfig struct {
	Mix      []Weighted
	Conns    int
	Duration time.Duration
	// Interval is the sampling window (15 s by default).
	Interval time.Duration
	Probe    Probe
	// OnSample, when set, sees each sample as soon as it is taken.
	OnSample func(Sample)
}

// SoakResult is a soak's samples and the first error of each operation.
type SoakResult struct {
	Samples     []Sample
	FirstErrors map[string]string
}

// window collects the calls completed in one sampling window.
type window struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors int64
	perOp  map[string]int64
}

func (w *window) add(name string, d time.Duration, err error) {
	w.mu.Lock()
	w.lat = append(w.lat, d)
	w.perOp[name]++
	if err != nil {
		w.errors++
	}
	w.mu.Unlock()
}

// Soak calls the mix from cfg.Conns goroutines for cfg.Duration, each call
// choosing an operation at random by weight, and takes a Sample every
// cfg.Interval (the first at the end of the first window).
func Soak(ctx context.Context, cfg SoakConfig) (SoakResult, error) {
	if cfg.Conns <= 0 || cfg.Duration <= 0 || len(cfg.Mix) == 0 || cfg.Probe == nil {
		return SoakResult{}, errors.New("soak: a mix, a probe, connections and a duration are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Second
	}
	total := 0
	for _, m := range cfg.Mix {
		if m.Weight < 0 || m.Op == nil {
			return SoakResult{}, fmt.Errorf("soak: bad operation %q", m.Name)
		}
		total += m.Weight
	}
	if total == 0 {
		return SoakResult{}, errors.New("soak: weights sum to zero")
	}
	pick := func(r *rand.Rand) Weighted {
		n := r.IntN(total)
		for _, m := range cfg.Mix {
			if n < m.Weight {
				return m
			}
			n -= m.Weight
		}
		return cfg.Mix[len(cfg.Mix)-1]
	}
	var cur atomic.Pointer[window]
	cur.Store(&window{perOp: map[string]int64{}})
	var errMu sync.Mutex
	firstErrors := map[string]string{}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < cfg.Conns; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			hc := NewClient(30 * time.Second) // one keep-alive connection per worker, as Run
			defer hc.CloseIdleConnections()
			r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) // #nosec G404 -- choosing an operation, not a secret
			for runCtx.Err() == nil {
				m := pick(r)
				t0 := time.Now()
				err := m.Op(runCtx, hc)
				if runCtx.Err() != nil {
					return // cut short by the end of the run: not counted
				}
				cur.Load().add(m.Name, time.Since(t0), err)
				if err != nil {
					errMu.Lock()
					if _, ok := firstErrors[m.Name]; !ok {
						firstErrors[m.Name] = err.Error()
					}
					errMu.Unlock()
				}
			}
		}(uint64(i) + 1) // #nosec G115 -- i is a small non-negative count
	}

	var samples []Sample
	start := time.Now()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	last := start
	for {
		done := false
		select {
		case <-runCtx.Done():
			done = true
			wg.Wait() // calls cut short are dropped, not counted
		case <-tick.C:
		}
		now := time.Now()
		w := cur.Swap(&window{perOp: map[string]int64{}})
		w.mu.Lock()
		s := summarize(w, now.Sub(last))
		w.mu.Unlock()
		s.At = now.Sub(start).Round(time.Second)
		span := now.Sub(last)
		last = now
		if done && span < cfg.Interval/2 {
			break // a sliver of a window after the last full one
		}
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := cfg.Probe(pctx)
		pcancel()
		if err != nil {
			s.ProbeError = err.Error()
		} else {
			s.Res = res
		}
		samples = append(samples, s)
		if cfg.OnSample != nil {
			cfg.OnSample(s)
		}
		if done {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return SoakResult{Samples: samples, FirstErrors: firstErrors}, fmt.Errorf("soak: %w", err)
	}
	return SoakResult{Samples: samples, FirstErrors: firstErrors}, nil
}

func summarize(w *window, span time.Duration) Sample {
	s := Sample{Requests: int64(len(w.lat)), Errors: w.errors, PerOp: w.perOp}
	if span > 0 {
		s.RPS = float64(len(w.lat)) / span.Seconds()
	}
	if n := len(w.lat); n > 0 {
		sort.Slice(w.lat, func(i, j int) bool { return w.lat[i] < w.lat[j] })
		s.P99 = w.lat[min(n-1, n*99/100)]
	}
	return s
}

// Verdict judges whether each resource stayed flat after warm-up: the mean
// of the last third of the samples against the mean of the middle third
// (the first third is the warm-up).
type Verdict struct {
	Flat  bool
	Lines []string // one per resource: the two means, the change and the verdict
}

// Tolerances bound the growth Verdict accepts from the middle to the last
// third: a relative share, or an absolute amount (whichever is larger).
type Tolerances struct {
	Relative   float64 // e.g. 0.10 for 10 %
	Goroutines float64 // absolute
	DBConns    float64 // absolute
}

// DefaultTolerances: 10 %, or 10 goroutines, or 2 connections.
var DefaultTolerances = Tolerances{Relative: 0.10, Goroutines: 10, DBConns: 2}

// Judge computes the Verdict of samples. Fewer than three samples with
// resources cannot show a trend: the verdict is then not flat.
func Judge(samples []Sample, tol Tolerances) Verdict {
	var ok []Sample
	for _, s := range samples {
		if s.ProbeError == "" {
			ok = append(ok, s)
		}
	}
	if len(ok) < 3 {
		return Verdict{Lines: []string{fmt.Sprintf("only %d samples with resources: too few to judge", len(ok))}}
	}
	third := len(ok) / 3
	mid, last := ok[third:len(ok)-third], ok[len(ok)-third:]
	v := Verdict{Flat: true}
	check := func(name, unit string, scale float64, get func(Resources) int64, abs float64) {
		m, l := mean(mid, get)/scale, mean(last, get)/scale
		allowed := math.Max(m*tol.Relative, abs/scale)
		growth := l - m
		flat := growth <= allowed
		pct := 0.0
		if m != 0 {
			pct = 100 * growth / m
		}
		word := "flat"
		if !flat {
			word = "GROWING"
			v.Flat = false
		}
		v.Lines = append(v.Lines, fmt.Sprintf("%-11s middle third %10.1f %s, last third %10.1f %s: %+6.1f %% (allowed +%.1f %s) -> %s",
			name, m, unit, l, unit, pct, allowed, unit, word))
	}
	check("RSS", "MiB", 1<<20, func(r Resources) int64 { return r.RSSBytes }, 0)
	check("goroutines", "", 1, func(r Resources) int64 { return r.Goroutines }, tol.Goroutines)
	check("DB conns", "", 1, func(r Resources) int64 { return r.DBConns }, tol.DBConns)
	check("DB size", "MiB", 1<<20, func(r Resources) int64 { return r.DBBytes }, 0)
	return v
}

func mean(ss []Sample, get func(Resources) int64) float64 {
	var sum float64
	for _, s := range ss {
		sum += float64(get(s.Res))
	}
	return sum / float64(len(ss))
}

// WriteCSV writes the samples, one row per window, with the operations
// named in ops as columns of their own.
func WriteCSV(w io.Writer, samples []Sample, ops []string) error {
	cw := csv.NewWriter(w)
	head := []string{"t_s", "rss_mib", "goroutines", "db_conns", "db_mib", "rps", "p99_ms", "requests", "errors"}
	for _, o := range ops {
		head = append(head, "n_"+o)
	}
	head = append(head, "probe_error")
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	for _, s := range samples {
		row := []string{
			strconv.Itoa(int(s.At.Seconds())), f(float64(s.Res.RSSBytes) / (1 << 20)), strconv.FormatInt(s.Res.Goroutines, 10),
			strconv.FormatInt(s.Res.DBConns, 10), f(float64(s.Res.DBBytes) / (1 << 20)), f(s.RPS),
			f(float64(s.P99) / float64(time.Millisecond)), strconv.FormatInt(s.Requests, 10), strconv.FormatInt(s.Errors, 10),
		}
		for _, o := range ops {
			row = append(row, strconv.FormatInt(s.PerOp[o], 10))
		}
		row = append(row, s.ProbeError)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// SoakClient is a client_credentials client of the soak: its Op asks for a client_credentials token
// and keeps the newest access token for Introspect.
type SoakClient struct {
	base, id, secret, scope string
	latest                  atomic.Pointer[string]
}

// NewSoakClient returns the client_credentials operation of the
// client id/secret at the server base.
func NewSoakClient(base, id, secret, scope string) *SoakClient {
	return &SoakClient{base: strings.TrimRight(base, "/"), id: id, secret: secret, scope: scope}
}

// Op is one token request.
func (c *SoakClient) Op() Op {
	return func(ctx context.Context, hc *http.Client) error {
		form := url.Values{"grant_type": {"client_credentials"}}
		if c.scope != "" {
			form.Set("scope", c.scope)
		}
		tok, err := postToken(ctx, hc, c.base, c.id, c.secret, form)
		if err != nil {
			return fmt.Errorf("client_credentials: %w", err)
		}
		if tok.AccessToken == "" {
			return errors.New("client_credentials: no access token")
		}
		c.latest.Store(&tok.AccessToken)
		return nil
	}
}

// Introspect returns an Op that introspects the newest token c obtained
// (one is fetched first if there is none yet) and requires it active.
func (c *SoakClient) Introspect() Op {
	return func(ctx context.Context, hc *http.Client) error {
		t := c.latest.Load()
		if t == nil {
			if err := c.Op()(ctx, hc); err != nil {
				return err
			}
			t = c.latest.Load()
		}
		var out struct {
			Active bool `json:"active"`
		}
		if err := postJSON(ctx, hc, c.base+authz.PathIntrospect, c.id, c.secret, url.Values{"token": {*t}}, &out); err != nil {
			return fmt.Errorf("introspect: %w", err)
		}
		if !out.Active {
			return errors.New("introspect: token not active")
		}
		return nil
	}
}
