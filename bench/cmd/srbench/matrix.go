package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/strongroom/strongroom/bench/load"
)

// scenario is one row family of the table.
type scenario struct {
	name string
	// build makes the op against t (pool: tokens to pre-mint).
	build func(ctx context.Context, t *load.Target, pool int) (load.Op, error)
	// floor names the bound the row is compared with.
	floor string
	// rateLimit: run against Strongroom restarted with rate limits on.
	rateLimit bool
}

var scenarios = []scenario{
	{name: "cc_opaque", floor: "pg_insert_commit", build: func(_ context.Context, t *load.Target, _ int) (load.Op, error) {
		return load.ClientCredentials(t, t.Opaque)
	}},
	{name: "cc_jwt", floor: "es256_sign_all_cores", build: func(_ context.Context, t *load.Target, _ int) (load.Op, error) {
		return load.ClientCredentials(t, t.JWT)
	}},
	{name: "introspect_opaque", floor: "pg_select_pk", build: func(ctx context.Context, t *load.Target, pool int) (load.Op, error) {
		return load.Introspection(ctx, t, t.Opaque, pool)
	}},
	{name: "introspect_jwt", floor: "es256_verify_all_cores", build: func(ctx context.Context, t *load.Target, pool int) (load.Op, error) {
		return load.Introspection(ctx, t, t.JWT, pool)
	}},
	{name: "jwks", floor: "driver_ceiling", build: func(_ context.Context, t *load.Target, _ int) (load.Op, error) {
		return load.Get(t.JWKSURL)
	}},
	{name: "discovery", floor: "driver_ceiling", build: func(_ context.Context, t *load.Target, _ int) (load.Op, error) {
		return load.Get(t.DiscoveryURL)
	}},
	{name: "cc_dpop", floor: "plain_cc_opaque", build: func(_ context.Context, t *load.Target, _ int) (load.Op, error) {
		return load.DPoPClientCredentials(t, t.Opaque)
	}},
	{name: "cc_ratelimit", floor: "plain_cc_opaque", rateLimit: true, build: func(_ context.Context, t *load.Target, _ int) (load.Op, error) {
		return load.ClientCredentials(t, t.Opaque)
	}},
}

func scenarioNames() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

func isScenario(name string) bool {
	for _, s := range scenarios {
		if s.name == name {
			return true
		}
	}
	return false
}

// Row is one scenario at one concurrency against one server: a measured
// result, or why it was not measured.
type Row struct {
	load.Result
	Skipped string `json:"skipped,omitempty"`
}

// runMatrix drives every scenario at every concurrency against every
// server, the servers taking turns (A, B, A, B, ...) so noise hits both.
func runMatrix(ctx context.Context, c *config, servers []*server, rep *Report, logf func(string, ...any)) error {
	for _, sc := range scenarios {
		if c.scenarios != nil && !c.scenarios[sc.name] {
			continue
		}
		if sc.rateLimit {
			if !c.rateLimit {
				continue
			}
			if err := restartRateLimited(ctx, servers, logf); err != nil {
				return err
			}
		}
		for _, n := range c.conns {
			for _, s := range servers {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				row := runOne(ctx, c, sc, s, n)
				if row.Skipped != "" {
					logf("%-18s %-12s c=%-4d skipped: %s", sc.name, s.target.Name, n, row.Skipped)
				} else {
					logf("%s", row.Result)
				}
				rep.Rows = append(rep.Rows, row)
			}
		}
	}
	return nil
}

func restartRateLimited(ctx context.Context, servers []*server, logf func(string, ...any)) error {
	for _, s := range servers {
		if s.sr == nil {
			continue
		}
		s.sr.stop()
		if err := s.sr.start(ctx, true); err != nil {
			return fmt.Errorf("restart strongroom with rate limits on: %w", err)
		}
		logf("strongroom restarted with rate limits on (1000000/s per address and client) at %s", s.target.Issuer)
	}
	return nil
}

func runOne(ctx context.Context, c *config, sc scenario, s *server, conns int) Row {
	row := Row{Result: load.Result{Scenario: sc.name, Server: s.target.Name, Conns: conns}}
	if sc.rateLimit && s.sr == nil {
		row.Skipped = "rate limiting is a Strongroom server flag; srbench restarts only the Strongroom it started"
		return row
	}
	op, err := sc.build(ctx, s.target, c.pool)
	if errors.Is(err, load.ErrSkip) {
		row.Skipped = "the target has no client or endpoint for it"
		return row
	}
	if err != nil {
		row.Skipped = "setup failed: " + err.Error()
		return row
	}
	// One request first: a server that does not offer the scenario (e.g.
	// node-oidc-provider refuses to introspect JWTs) is reported as such,
	// not as a rate of errors.
	hc := load.NewClient(10 * time.Second)
	err = op(ctx, hc)
	hc.CloseIdleConnections()
	if err != nil {
		row.Skipped = "not offered: " + err.Error()
		return row
	}
	runtime.GC()
	row.Result = load.Run(ctx, sc.name, op, conns, c.warmup, c.duration)
	row.Server = s.target.Name
	return row
}

// floorFor is the bound a row is compared with, and its label.
func floorFor(rep *Report, sc string, conns int, server string) (string, float64) {
	var name string
	for _, s := range scenarios {
		if s.name == sc {
			name = s.floor
		}
	}
	switch name {
	case "pg_insert_commit", "pg_select_pk":
		for _, f := range rep.Floors {
			if f.Name == name && f.Conns == conns {
				return name, f.Rate
			}
		}
	case "es256_sign_all_cores", "es256_verify_all_cores":
		base := "es256_sign_per_core"
		if name == "es256_verify_all_cores" {
			base = "es256_verify_per_core"
		}
		for _, f := range rep.Floors {
			if f.Name == base {
				return fmt.Sprintf("%s(%d)", name, rep.CPUs), f.Rate * float64(rep.CPUs)
			}
		}
	case "driver_ceiling":
		for _, r := range rep.Ceiling {
			if r.Conns == conns {
				return name, r.RPS
			}
		}
	case "plain_cc_opaque":
		for _, r := range rep.Rows {
			if r.Scenario == "cc_opaque" && r.Conns == conns && r.Server == server && r.Skipped == "" {
				return name, r.RPS
			}
		}
	}
	return name, 0
}
