// Command srbench is `make bench`: it builds Strongroom, starts it on a
// fresh PostgreSQL database (rate limits off) beside node-oidc-provider 9
// (bench/node, in memory), measures the floors of this machine in the same
// run (bare pgx INSERT+COMMIT and SELECT by primary key, ES256 per core, the
// driver's own ceiling), then drives every scenario at each concurrency
// against both servers, interleaved, and prints one table: rates, p99,
// ratio, floor and percentage of the floor. Results go to JSON and the
// plots (throughput and p99 against concurrency) to PNG.
//
//	go run ./bench/cmd/srbench [-conns 16,64] [-duration 10s]
//	go run ./bench/cmd/srbench -target-issuer https://as.example.com \
//	    -target-client-id ID -target-client-secret SECRET [-target-params scope=x]
//	go run ./bench/cmd/srbench -plot-only bench/results/latest.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/bench/load"
)

type config struct {
	repo        string
	conns       []int
	duration    time.Duration
	warmup      time.Duration
	floorDur    time.Duration
	pool        int
	poolMax     int
	scenarios   map[string]bool
	noNode      bool
	jsonOut     string
	plotDir     string
	plotOnly    string
	dbURL       string
	target      *load.Target
	rateLimit   bool
	ceilingOnly bool
	// trivialListen: run as the driver-ceiling server (srbench starts
	// itself so), not as the driver.
	trivialListen string
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "srbench:", err)
		os.Exit(1)
	}
}

func parseConns(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("-conns: %q is not a connection count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("srbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	conns := fs.String("conns", "16,64", "concurrency points, comma-separated (e.g. 1,4,16,64,128)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time of each scenario at each concurrency and server")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured time before each measurement")
	fs.DurationVar(&c.floorDur, "floor-duration", 0, "measured time of each floor (default: duration, at most 5s)")
	fs.IntVar(&c.pool, "pool", 1000, "pre-minted tokens each introspection scenario cycles through")
	fs.IntVar(&c.poolMax, "pool-max", 60, "PostgreSQL connections at most (Strongroom's pool_max_conns and the floors'); max_connections is shared")
	only := fs.String("scenarios", "", "comma-separated subset of: "+strings.Join(scenarioNames(), ","))
	fs.BoolVar(&c.noNode, "no-node", false, "do not start node-oidc-provider")
	fs.BoolVar(&c.rateLimit, "rate-limit", true, "include cc_ratelimit (Strongroom restarted with rate limits on, set too high to refuse)")
	fs.StringVar(&c.jsonOut, "json", "bench/results/latest.json", "write results here as JSON (empty: do not)")
	fs.StringVar(&c.plotDir, "plots", "docs/bench", "write throughput.png and p99.png here (empty: do not)")
	fs.StringVar(&c.plotOnly, "plot-only", "", "only draw the plots (and print the table) of this results JSON file")
	fs.StringVar(&c.repo, "repo", ".", "repository root (builds ./cmd/strongroom, runs bench/node)")
	fs.StringVar(&c.dbURL, "database-url", os.Getenv("STRONGROOM_TEST_DATABASE_URL"), "PostgreSQL server URL: a fresh database is created on it (default $STRONGROOM_TEST_DATABASE_URL)")
	fs.BoolVar(&c.ceilingOnly, "ceiling-only", false, "measure only the driver ceiling")
	fs.StringVar(&c.trivialListen, "trivial-listen", "", "internal: serve the driver-ceiling server on this address until interrupted")
	tIss := fs.String("target-issuer", "", "benchmark this server instead of starting Strongroom and node (endpoints from its discovery)")
	tName := fs.String("target-name", "target", "label of -target-issuer's results")
	tID := fs.String("target-client-id", "", "client_credentials client of -target-issuer (client_secret_basic; opaque tokens, may introspect them)")
	tSecret := fs.String("target-client-secret", "", "its secret")
	tParams := fs.String("target-params", "", "extra token request parameters, form-encoded (e.g. scope=payments)")
	tJID := fs.String("target-jwt-client-id", "", "a client of -target-issuer that gets JWT access tokens (optional)")
	tJSecret := fs.String("target-jwt-client-secret", "", "its secret")
	tJParams := fs.String("target-jwt-params", "", "its extra token request parameters (e.g. resource=urn:api&scope=x)")
	tConfig := fs.String("target-config", "", `JSON file: {"name","issuer","opaque":{"id","secret","params"},"jwt":{...}} instead of the -target-* flags`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if c.conns, err = parseConns(*conns); err != nil {
		return nil, err
	}
	if c.floorDur == 0 {
		c.floorDur = min(c.duration, 5*time.Second)
	}
	if *only != "" {
		c.scenarios = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			if !isScenario(s) {
				return nil, fmt.Errorf("-scenarios: unknown %q (known: %s)", s, strings.Join(scenarioNames(), ","))
			}
			c.scenarios[s] = true
		}
	}
	switch {
	case *tConfig != "":
		if c.target, err = load.LoadTarget(*tConfig); err != nil {
			return nil, err
		}
	case *tIss != "":
		c.target = &load.Target{Name: *tName, Issuer: *tIss,
			Opaque: load.Client{ID: *tID, Secret: *tSecret, Params: *tParams},
			JWT:    load.Client{ID: *tJID, Secret: *tJSecret, Params: *tJParams}}
	}
	if c.target != nil && c.target.Name == "" {
		c.target.Name = "target"
	}
	return c, nil
}

func run(args []string, stdout io.Writer) error {
	c, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.trivialListen != "" {
		return serveTrivial(c.trivialListen)
	}
	if c.plotOnly != "" {
		rep, err := readReport(c.plotOnly)
		if err != nil {
			return err
		}
		printTable(stdout, rep)
		return writePlots(c.plotDir, rep)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	rep := newReport(c)
	dir, err := os.MkdirTemp("", "srbench-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	// The driver's own ceiling at each concurrency.
	if rep.Ceiling, err = ceiling(ctx, dir, c.conns, c.warmup/2, c.floorDur); err != nil {
		return err
	}
	for _, r := range rep.Ceiling {
		logf("%s", r)
	}
	if c.ceilingOnly {
		printTable(stdout, rep)
		return nil
	}

	var servers []*server
	rowSize := 600
	var sr *strongroom
	if c.target != nil {
		if err := c.target.Discover(ctx, load.NewClient(10*time.Second)); err != nil {
			return err
		}
		servers = append(servers, &server{target: c.target})
		rep.Servers = append(rep.Servers, c.target.Name)
	} else {
		if c.dbURL == "" {
			return errors.New("no PostgreSQL: set STRONGROOM_TEST_DATABASE_URL or -database-url")
		}
		maxConns := 0
		for _, n := range c.conns {
			maxConns = max(maxConns, n)
		}
		logf("building strongroom, creating its database")
		sr, err = setupStrongroom(ctx, c.repo, dir, c.dbURL, min(maxConns, c.poolMax))
		defer sr.close()
		if err != nil {
			return err
		}
		if err := sr.start(ctx, false); err != nil {
			return err
		}
		logf("strongroom at %s", sr.target.Issuer)
		if _, err := load.MintTokens(ctx, sr.target, sr.target.Opaque, 50, 2); err != nil {
			return fmt.Errorf("strongroom smoke: %w", err)
		}
		if n, err := sr.tokenRowSize(ctx); err == nil {
			rowSize = n
		} else {
			logf("token row size unknown (%v): floors use %d bytes", err, rowSize)
		}
		servers = append(servers, &server{target: sr.target, sr: sr})
		rep.Servers = append(rep.Servers, sr.target.Name)
		if c.noNode {
			rep.NodeSkipped = "-no-node"
		} else if nd, err := startNode(ctx, c.repo, dir, logf); err != nil {
			rep.NodeSkipped = err.Error()
			logf("node-oidc-provider skipped: %v", err)
		} else {
			defer nd.close()
			logf("node-oidc-provider at %s", nd.target.Issuer)
			servers = append(servers, &server{target: nd.target})
			rep.Servers = append(rep.Servers, nd.target.Name)
		}
	}

	// Floors, with every server idle.
	if c.dbURL != "" {
		logf("floors: pgx INSERT+COMMIT (%d-byte rows) and SELECT by key", rowSize)
		fl, err := dbFloors(ctx, c.dbURL, c.conns, c.poolMax, rowSize, c.warmup/2, c.floorDur)
		if err != nil {
			return err
		}
		rep.Floors = append(rep.Floors, fl...)
	}
	es, err := es256Floors(min(c.floorDur, 2*time.Second))
	if err != nil {
		return err
	}
	rep.Floors = append(rep.Floors, es...)
	for _, f := range rep.Floors {
		c := ""
		if f.Conns > 0 {
			c = fmt.Sprintf("c=%d", f.Conns)
		}
		logf("floor %-22s %-6s %9.0f /s %s", f.Name, c, f.Rate, f.Note)
	}

	if err := runMatrix(ctx, c, servers, rep, logf); err != nil {
		return err
	}
	rep.Finished = time.Now().UTC()
	printTable(stdout, rep)
	if c.jsonOut != "" {
		if err := writeReport(c.jsonOut, rep); err != nil {
			return err
		}
		logf("results: %s", c.jsonOut)
	}
	if c.plotDir != "" {
		if err := writePlots(c.plotDir, rep); err != nil {
			return err
		}
		logf("plots: %s/throughput.png, %s/p99.png", c.plotDir, c.plotDir)
	}
	return nil
}

// server is one server under test; sr is set for the Strongroom srbench
// started (the one it can restart with rate limiting on).
type server struct {
	target *load.Target
	sr     *strongroom
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d) %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), model)
}
