// Command srsoak runs the built strongroom binary on a fresh PostgreSQL
// database and measures, in one run:
//
//	srsoak flow   flows/s of the whole authorization-code flow beside the
//	              argon2id floor (verifications/s with the server's own
//	              parameters at the same concurrency) and their ratio;
//	srsoak soak   a mixed load (50 % client_credentials, 30 % refresh,
//	              15 % authorization code, 5 % introspection) for -duration,
//	              sampling server RSS, goroutines, open DB connections, DB
//	              size, requests/s and p99 every -interval, with a verdict;
//	srsoak nodes  client_credentials (opaque) against one node, then against
//	              two nodes on the same database (half the connections each).
//
// Rate limits are off (the runs measure throughput, not the limits) and the
// driver is the server's trusted proxy, so each simulated browser has an
// address of its own (X-Forwarded-For) as it would in production: no
// server check is weakened. The server's janitor runs on its own schedule;
// the soak also runs the same janitor (authz/janitor) every
// -janitor-interval against the database, as one more node would, followed
// by a plain VACUUM when the PostgreSQL server has autovacuum off (-vacuum).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"crypto/rand"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/authz/janitor"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/bench/load"
	"github.com/strongroom/strongroom/storage/postgres"
)

const (
	userPassword = "bench password, long enough" // #nosec G101 -- the throwaway benchmark users' password
	redirectURI  = "https://app.example.test/callback"
)

type options struct {
	bin          string
	baseURL      string
	users        int
	conns        []int
	duration     time.Duration
	warmup       time.Duration
	rounds       int
	interval     time.Duration
	janitorEvery time.Duration
	accessTTL    time.Duration
	refreshTTL   time.Duration
	sessionTTL   time.Duration
	csvPath      string
	vacuum       string
	pngPath      string
	keepLog      string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "srsoak:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return errors.New("usage: srsoak flow|soak|nodes [flags]")
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	var o options
	var conns string
	fs.StringVar(&o.bin, "bin", "", "strongroom binary (default: go build ./cmd/strongroom into a temporary directory)")
	fs.StringVar(&o.baseURL, "db", envOr("STRONGROOM_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL URL of a database to create the run's database from")
	fs.IntVar(&o.users, "users", 64, "users in the pool (at least the connections)")
	fs.StringVar(&conns, "conns", "", "connections, comma-separated (flow: 4,8; soak: 8; nodes: 32)")
	fs.DurationVar(&o.duration, "duration", 0, "measured time per point (flow, nodes: 10s; soak: 15m)")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured time before each point (flow, nodes)")
	fs.IntVar(&o.rounds, "rounds", 3, "flow: rounds per point, floor and flows alternating")
	fs.DurationVar(&o.interval, "interval", 15*time.Second, "soak sampling window")
	fs.DurationVar(&o.janitorEvery, "janitor-interval", time.Minute, "soak: how often the driver runs the janitor against the database (0: only the server's own, every 10 minutes)")
	fs.DurationVar(&o.accessTTL, "access-token-lifespan", 2*time.Minute, "the server's --access-token-lifespan")
	fs.DurationVar(&o.refreshTTL, "refresh-token-lifespan", 5*time.Minute, "the server's --refresh-token-lifespan (a rotated token's row stays until it expires)")
	fs.DurationVar(&o.sessionTTL, "session-lifetime", 2*time.Minute, "the server's --session-lifetime (each flow's fresh cookie jar leaves a session behind)")
	fs.StringVar(&o.vacuum, "vacuum", "auto", "soak: run VACUUM on the database after each driver sweep: auto (when the server has autovacuum off), on, off")
	fs.StringVar(&o.csvPath, "csv", "", "soak: write the samples here")
	fs.StringVar(&o.pngPath, "png", "", "soak: plot the samples here")
	fs.StringVar(&o.keepLog, "server-log", "", "write the servers' logs here (default: discarded)")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	defaults := map[string]struct {
		conns string
		dur   time.Duration
	}{"flow": {"4,8", 10 * time.Second}, "soak": {"8", 15 * time.Minute}, "nodes": {"32", 10 * time.Second}}
	d, ok := defaults[mode]
	if !ok {
		return fmt.Errorf("unknown mode %q: flow, soak or nodes", mode)
	}
	if conns == "" {
		conns = d.conns
	}
	if o.vacuum != "auto" && o.vacuum != "on" && o.vacuum != "off" {
		return fmt.Errorf("-vacuum: %q is not auto, on or off", o.vacuum)
	}
	if o.duration == 0 {
		o.duration = d.dur
	}
	for _, c := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			return fmt.Errorf("-conns: %q is not a positive number", c)
		}
		o.conns = append(o.conns, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("srsoak %s  %s\n", strings.Join(os.Args[1:], " "), time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("machine: %d CPUs (%s/%s), load average at start: %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadavg())
	d0, err := setup(ctx, &o)
	if err != nil {
		return err
	}
	defer d0.close()
	switch mode {
	case "flow":
		err = runFlow(ctx, d0, &o)
	case "soak":
		err = runSoak(ctx, d0, &o)
	case "nodes":
		err = runNodes(ctx, d0, &o)
	}
	fmt.Printf("load average at end: %s\n", loadavg())
	return err
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// deployment is the run's database, clients, users and server processes.
type deployment struct {
	o         *options
	bin       string
	tmp       string
	dbName    string
	dbURL     string
	admin     *pgxpool.Pool // on the base database: create, drop, probe
	env       []string
	webID     string
	webSecret string
	ccID      string
	ccSecret  string
	usernames []string
	hash      string
	nodes     []*node
	logs      io.Writer
	closeLogs func()
}

type node struct {
	cmd   *exec.Cmd
	base  string // public listener
	admin string // admin listener (/metrics)
	done  chan error
}

func setup(ctx context.Context, o *options) (*deployment, error) {
	tmp, err := os.MkdirTemp("", "srsoak")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	d := &deployment{o: o, tmp: tmp, bin: o.bin, logs: io.Discard, closeLogs: func() {}}
	if o.keepLog != "" {
		f, err := os.Create(o.keepLog)
		if err != nil {
			return nil, fmt.Errorf("server log: %w", err)
		}
		d.logs, d.closeLogs = f, func() { _ = f.Close() }
	}
	if d.bin == "" {
		d.bin = filepath.Join(tmp, "strongroom")
		b := exec.CommandContext(ctx, "go", "build", "-o", d.bin, "./cmd/strongroom") // #nosec G204 -- a fixed build of this repository into our temporary directory
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			d.close()
			return nil, fmt.Errorf("build strongroom (run from the repository root): %w", err)
		}
	}
	if d.admin, err = pgxpool.New(ctx, o.baseURL); err != nil {
		d.close()
		return nil, fmt.Errorf("connect to %s: %w", redactURL(o.baseURL), err)
	}
	d.dbName = fmt.Sprintf("strongroom_soak_%d", os.Getpid())
	if _, err := d.admin.Exec(ctx, "CREATE DATABASE "+d.dbName); err != nil {
		d.close()
		return nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(o.baseURL)
	if err != nil {
		d.close()
		return nil, errors.New("-db is not a URL")
	}
	u.Path = "/" + d.dbName
	// each node keeps the server's default pool (postgres.DefaultMaxConns,
	// 32): two nodes then hold 64 of PostgreSQL's default 100 connections
	d.dbURL = u.String()
	d.env = append(os.Environ(), "DATABASE_URL="+d.dbURL, "STRONGROOM_SECRET="+randB64(), "STRONGROOM_KEK="+randB64())
	if _, err := d.cli(ctx, nil, "migrate", "up"); err != nil {
		d.close()
		return nil, err
	}
	if err := d.createClients(ctx); err != nil {
		d.close()
		return nil, err
	}
	if err := d.importUsers(ctx); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func randB64() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// redactURL drops a password from a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(database URL)"
	}
	return u.Redacted()
}

func (d *deployment) cli(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, d.bin, args...) // #nosec G204 -- our own binary with fixed arguments
	c.Env = d.env
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("strongroom %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

func (d *deployment) createClients(ctx context.Context) error {
	mk := func(args ...string) (string, string, error) {
		out, err := d.cli(ctx, nil, append([]string{"clients", "create", "-o", "json", "--auth-method", "client_secret_basic"}, args...)...)
		if err != nil {
			return "", "", err
		}
		var c struct {
			ID     string `json:"client_id"`
			Secret string `json:"client_secret"`
		}
		if err := json.Unmarshal(out, &c); err != nil || c.ID == "" || c.Secret == "" {
			return "", "", errors.New("clients create: no client id or secret in its output")
		}
		return c.ID, c.Secret, nil
	}
	var err error
	if d.ccID, d.ccSecret, err = mk("--name", "bench-service", "--grant-type", "client_credentials", "--scope", "payments",
		"--introspect", "--access-token-format", "opaque"); err != nil {
		return err
	}
	d.webID, d.webSecret, err = mk("--name", "bench-app", "--grant-type", "authorization_code", "--grant-type", "refresh_token",
		"--redirect-uri", redirectURI, "--scope", "openid offline_access")
	return err
}

func (d *deployment) importUsers(ctx context.Context) error {
	hash, err := password.Hash(userPassword, password.DefaultArgon2)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	d.hash = hash
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := 0; i < d.o.users; i++ {
		name := fmt.Sprintf("bench%04d", i)
		d.usernames = append(d.usernames, name)
		if err := enc.Encode(map[string]any{"username": name, "email": name + "@example.test", "password_hash": hash}); err != nil {
			return err
		}
	}
	_, err = d.cli(ctx, buf.Bytes(), "users", "import", "-")
	return err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startNode runs one server process; issuer is the deployment's issuer
// (the first node's address).
func (d *deployment) startNode(ctx context.Context, issuer string) (*node, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	aport, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if issuer == "" {
		issuer = base
	}
	args := []string{"serve", "--insecure-http", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--issuer", issuer,
		"--admin-listen", fmt.Sprintf("127.0.0.1:%d", aport), "--trusted-proxy", "127.0.0.1",
		"--rate-limit-address", "off", "--rate-limit-client", "off", "--shutdown-drain", "0s", "--log-level", "warn",
		"--access-token-lifespan", d.o.accessTTL.String(), "--refresh-token-lifespan", d.o.refreshTTL.String(),
		"--session-lifetime", d.o.sessionTTL.String(), "--session-idle-timeout", min(d.o.sessionTTL, 30*time.Minute).String()}
	c := exec.Command(d.bin, args...) // #nosec G204 -- our own binary with fixed arguments
	c.Env = d.env
	c.Stdout, c.Stderr = d.logs, d.logs
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	n := &node{cmd: c, base: base, admin: fmt.Sprintf("http://127.0.0.1:%d", aport), done: make(chan error, 1)}
	go func() { n.done <- c.Wait() }()
	d.nodes = append(d.nodes, n)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-n.done:
			return nil, fmt.Errorf("server exited at start: %v", err)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
	}
	return nil, errors.New("server not ready after 30 s")
}

func (n *node) stop() {
	if n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd.Process = nil
}

func (d *deployment) close() {
	for _, n := range d.nodes {
		n.stop()
	}
	if d.admin != nil && d.dbName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := d.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+d.dbName+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "srsoak: drop database:", err)
		}
		cancel()
	}
	if d.admin != nil {
		d.admin.Close()
	}
	d.closeLogs()
	_ = os.RemoveAll(d.tmp)
}

func (d *deployment) flowConfig(base string) load.FlowConfig {
	return load.FlowConfig{BaseURL: base, ClientID: d.webID, ClientSecret: d.webSecret, RedirectURI: redirectURI,
		Scope: "openid offline_access", Usernames: d.usernames, Password: userPassword, ForwardedFor: true}
}

// seed runs one flow per user (each consents once; later flows find the
// consent remembered) and returns the refresh tokens, n at least.
func (d *deployment) seed(ctx context.Context, f *load.Flow, n, conns int) ([]string, error) {
	n = max(n, len(d.usernames))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	var mu sync.Mutex
	var tokens []string
	var firstErr error
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t, err := f.Do(ctx, hc)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				} else if err == nil {
					tokens = append(tokens, t.RefreshToken)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(tokens) < n/2 {
		return nil, fmt.Errorf("seed: %d of %d flows completed: %v", len(tokens), n, firstErr)
	}
	return tokens, nil
}

// argonFloor verifies the users' argon2id hash (the server's parameters,
// what one login computes) from conns goroutines for dur.
func argonFloor(ctx context.Context, hash string, conns int, dur time.Duration) float64 {
	var n atomic.Int64
	end := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				if ok, err := password.Verify(hash, userPassword); err == nil && ok {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / dur.Seconds()
}

func runFlow(ctx context.Context, d *deployment, o *options) error {
	n, err := d.startNode(ctx, "")
	if err != nil {
		return err
	}
	f, err := load.NewFlow(d.flowConfig(n.base))
	if err != nil {
		return err
	}
	if _, err := d.seed(ctx, f, 0, 4); err != nil { // every user consents once
		return err
	}
	fmt.Printf("argon2id parameters: m=%d KiB, t=%d, p=%d (password.DefaultArgon2, what the server hashes with)\n",
		password.DefaultArgon2.Memory, password.DefaultArgon2.Time, password.DefaultArgon2.Threads)
	fmt.Printf("%d rounds of %s each (floor, then flows) per point; flows/s and argon2id/s are the means of the rounds\n", o.rounds, o.duration)
	fmt.Printf("%-6s %12s %14s %7s %15s  %s\n", "conns", "flows/s", "argon2id/s", "ratio", "errors/flows", "load avg, latencies per round")
	for _, c := range o.conns {
		// floor and flows alternate over the rounds, so that a change in the
		// machine's load during the run weighs on both alike
		var floorN, flows float64
		var r load.Result
		var lats []time.Duration
		for i := 0; i < o.rounds; i++ {
			floorN += argonFloor(ctx, d.hash, c, o.duration)
			ri := load.Run(ctx, "authorization_code flow", f.Op(), c, o.warmup, o.duration)
			flows += ri.RPS
			r.Errors += ri.Errors
			r.Requests += ri.Requests
			if r.FirstError == "" {
				r.FirstError = ri.FirstError
			}
			lats = append(lats, ri.P50, ri.P99)
		}
		floor, rate := floorN/float64(o.rounds), flows/float64(o.rounds)
		ratio := 0.0
		if floor > 0 {
			ratio = rate / floor
		}
		var p50s, p99s []string
		for i := 0; i < len(lats); i += 2 {
			p50s = append(p50s, lats[i].Round(time.Millisecond).String())
			p99s = append(p99s, lats[i+1].Round(time.Millisecond).String())
		}
		fmt.Printf("%-6d %12.1f %14.1f %6.0f%% %7d/%-7d  %s  p50 %s p99 %s\n", c, rate, floor, 100*ratio, r.Errors, r.Requests, loadavg(),
			strings.Join(p50s, ","), strings.Join(p99s, ","))
		if r.FirstError != "" {
			fmt.Printf("       first error: %s\n", r.FirstError)
		}
	}
	fmt.Println("floor: argon2id verifications/s in the driver process at the same concurrency, measured just before each flow point; target >= 80 %")
	return nil
}

func runNodes(ctx context.Context, d *deployment, o *options) error {
	a, err := d.startNode(ctx, "")
	if err != nil {
		return err
	}
	b, err := d.startNode(ctx, a.base)
	if err != nil {
		return err
	}
	// the driver's own client_credentials scenario (the one make bench runs)
	cl := load.Client{ID: d.ccID, Secret: d.ccSecret, Params: "scope=payments"}
	opA, err := load.ClientCredentials(&load.Target{TokenURL: a.base + "/oauth2/token"}, cl)
	if err != nil {
		return err
	}
	opB, err := load.ClientCredentials(&load.Target{TokenURL: b.base + "/oauth2/token"}, cl)
	if err != nil {
		return err
	}
	fmt.Printf("%-6s %14s %14s %14s %7s  %s\n", "conns", "one node r/s", "two nodes r/s", "(A + B)", "ratio", "load avg")
	for _, c := range o.conns {
		one := load.Run(ctx, "client_credentials opaque, one node", opA, c, o.warmup, o.duration)
		var ra, rb load.Result
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); ra = load.Run(ctx, "node A", opA, c/2, o.warmup, o.duration) }()
		go func() { defer wg.Done(); rb = load.Run(ctx, "node B", opB, c-c/2, o.warmup, o.duration) }()
		wg.Wait()
		two := ra.RPS + rb.RPS
		fmt.Printf("%-6d %14.0f %14.0f %6.0f+%-7.0f %6.2fx  %s\n", c, one.RPS, two, ra.RPS, rb.RPS, two/one.RPS, loadavg())
		fmt.Printf("       p99 one node %s; two nodes %s / %s; errors %d / %d+%d\n", one.P99.Round(time.Millisecond/10),
			ra.P99.Round(time.Millisecond/10), rb.P99.Round(time.Millisecond/10), one.Errors, ra.Errors, rb.Errors)
		for _, r := range []load.Result{one, ra, rb} {
			if r.FirstError != "" {
				fmt.Printf("       %s first error: %s\n", r.Scenario, r.FirstError)
			}
		}
	}
	fmt.Println("both nodes, the database and the driver share this machine's CPUs: the second node adds no CPU here")
	return nil
}

func runSoak(ctx context.Context, d *deployment, o *options) error {
	n, err := d.startNode(ctx, "")
	if err != nil {
		return err
	}
	conns := o.conns[0]
	f, err := load.NewFlow(d.flowConfig(n.base))
	if err != nil {
		return err
	}
	rts, err := d.seed(ctx, f, 2*conns, min(conns, 4))
	if err != nil {
		return err
	}
	pool, err := load.NewRefreshPool(n.base, d.webID, d.webSecret, rts)
	if err != nil {
		return err
	}
	cc := load.NewSoakClient(n.base, d.ccID, d.ccSecret, "payments")
	mix := []load.Weighted{
		{Name: "client_credentials", Weight: 50, Op: cc.Op()},
		{Name: "refresh", Weight: 30, Op: pool.Op()},
		{Name: "authorization_code", Weight: 15, Op: f.Op()},
		{Name: "introspection", Weight: 5, Op: cc.Introspect()},
	}
	names := []string{"client_credentials", "refresh", "authorization_code", "introspection"}

	jctx, jstop := context.WithCancel(ctx)
	defer jstop()
	avOff, err := d.autovacuumOff(ctx)
	if err != nil {
		return err
	}
	vacuum := o.vacuum == "on" || (o.vacuum == "auto" && avOff)
	if o.janitorEvery > 0 {
		if err := d.startJanitor(jctx, o.janitorEvery, vacuum); err != nil {
			return err
		}
	}
	fmt.Printf("PostgreSQL autovacuum: %s; the driver runs VACUUM after each of its sweeps: %v\n", map[bool]string{true: "off", false: "on"}[avOff], vacuum && o.janitorEvery > 0)
	probe := d.probe(n)
	fmt.Printf("soak: %d connections for %s, window %s; mix 50 %% client_credentials, 30 %% refresh (pool of %d), 15 %% authorization code, 5 %% introspection\n",
		conns, o.duration, o.interval, pool.Len())
	fmt.Printf("server: --access-token-lifespan %s --refresh-token-lifespan %s --session-lifetime %s; janitor: server every %s, driver every %s\n",
		o.accessTTL, o.refreshTTL, o.sessionTTL, janitor.Interval, o.janitorEvery)
	fmt.Printf("%6s %9s %6s %6s %9s %8s %9s %7s  %s\n", "t", "RSS MiB", "gor.", "conns", "DB MiB", "r/s", "p99", "errors", "load avg")
	res, err := load.Soak(ctx, load.SoakConfig{Mix: mix, Conns: conns, Duration: o.duration, Interval: o.interval, Probe: probe,
		OnSample: func(s load.Sample) {
			fmt.Printf("%6s %9.1f %6d %6d %9.1f %8.0f %9s %7d  %s %s\n", s.At, float64(s.Res.RSSBytes)/(1<<20), s.Res.Goroutines, s.Res.DBConns,
				float64(s.Res.DBBytes)/(1<<20), s.RPS, s.P99.Round(time.Millisecond/10), s.Errors, loadavg(), s.ProbeError)
		}})
	jstop()
	if err != nil {
		return err
	}
	var total, errs int64
	perOp := map[string]int64{}
	for _, s := range res.Samples {
		total += s.Requests
		errs += s.Errors
		for k, v := range s.PerOp {
			perOp[k] += v
		}
	}
	fmt.Printf("requests %d, errors %d; per operation:", total, errs)
	for _, k := range names {
		fmt.Printf(" %s %d", k, perOp[k])
	}
	fmt.Println()
	for _, k := range names {
		if e, ok := res.FirstErrors[k]; ok {
			fmt.Printf("first error of %s: %s\n", k, e)
		}
	}
	v := load.Judge(res.Samples, load.DefaultTolerances)
	fmt.Println("verdict (mean of the last third of the samples against the middle third; the first third is warm-up):")
	for _, l := range v.Lines {
		fmt.Println("  " + l)
	}
	if v.Flat {
		fmt.Println("FLAT after warm-up")
	} else {
		fmt.Println("NOT FLAT after warm-up")
	}
	if err := d.tableSizes(ctx); err != nil {
		fmt.Println("table sizes:", err)
	}
	if o.csvPath != "" {
		if err := writeFile(o.csvPath, func(w io.Writer) error { return load.WriteCSV(w, res.Samples, names) }); err != nil {
			return err
		}
	}
	if o.pngPath != "" {
		title := fmt.Sprintf("Strongroom soak: %d conns, %s, mix 50/30/15/5", conns, o.duration)
		if err := writeFile(o.pngPath, func(w io.Writer) error { return load.PlotSoak(w, title, res.Samples) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path) // #nosec G304 -- a path the operator names
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		_ = f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// startJanitor runs the server's janitor against the database every
// interval until ctx ends, as one more node would. With vacuum, each sweep
// is followed by a plain VACUUM of the run's database: what autovacuum does,
// for a PostgreSQL that has it off (the deleted rows' space is otherwise
// never reused, and the database grows whatever the janitor deletes).
func (d *deployment) startJanitor(ctx context.Context, every time.Duration, vacuum bool) error {
	u, _ := url.Parse(d.dbURL)
	q := u.Query()
	q.Set("pool_max_conns", "1")
	q.Set("application_name", "srsoak-janitor")
	u.RawQuery = q.Encode()
	store, err := postgres.Open(ctx, u.String(), nil)
	if err != nil {
		return fmt.Errorf("janitor store: %w", err)
	}
	var vac *pgxpool.Pool
	if vacuum {
		if vac, err = pgxpool.New(ctx, u.String()); err != nil {
			store.Close()
			return fmt.Errorf("vacuum connection: %w", err)
		}
	}
	j := &janitor.Janitor{Store: store, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	go func() {
		defer store.Close()
		if vac != nil {
			defer vac.Close()
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := j.Sweep(ctx); err != nil && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "srsoak: janitor:", err)
			}
			if vac != nil {
				if _, err := vac.Exec(ctx, "VACUUM"); err != nil && ctx.Err() == nil {
					fmt.Fprintln(os.Stderr, "srsoak: vacuum:", err)
				}
			}
		}
	}()
	return nil
}

// autovacuumOff reports whether the PostgreSQL server has autovacuum off.
func (d *deployment) autovacuumOff(ctx context.Context) (bool, error) {
	var v string
	if err := d.admin.QueryRow(ctx, "SHOW autovacuum").Scan(&v); err != nil {
		return false, fmt.Errorf("show autovacuum: %w", err)
	}
	return v == "off", nil
}

// probe reads the node's RSS (/proc/PID/status VmRSS), its goroutines
// (go_goroutines on its admin listener's /metrics), and the database's
// open connections (pg_stat_activity, the driver's janitor excluded) and
// size (pg_database_size).
func (d *deployment) probe(n *node) load.Probe {
	return func(ctx context.Context) (load.Resources, error) {
		var r load.Resources
		var err error
		if r.RSSBytes, err = rss(n.cmd.Process.Pid); err != nil {
			return r, err
		}
		if r.Goroutines, err = goroutines(ctx, n.admin+"/metrics"); err != nil {
			return r, err
		}
		if err := d.admin.QueryRow(ctx,
			"SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'srsoak-janitor'), pg_database_size($1)",
			d.dbName).Scan(&r.DBConns, &r.DBBytes); err != nil {
			return r, fmt.Errorf("database stats: %w", err)
		}
		return r, nil
	}
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("rss: %w", err)
				}
				return kb << 10, nil
			}
		}
	}
	return 0, errors.New("rss: no VmRSS line")
}

func goroutines(ctx context.Context, metricsURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("metrics: go_goroutines: %w", err)
			}
			return int64(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	return 0, errors.New("metrics: no go_goroutines")
}

// tableSizes prints the largest tables of the run's database and their
// live and dead rows (where DB size goes).
func (d *deployment) tableSizes(ctx context.Context) error {
	u, _ := url.Parse(d.dbURL)
	q := u.Query()
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		return err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT relname, pg_total_relation_size(relid), n_live_tup, n_dead_tup
		FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 8`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Println("largest tables at the end (total size, live rows, dead rows):")
	for rows.Next() {
		var name string
		var size, live, dead int64
		if err := rows.Scan(&name, &size, &live, &dead); err != nil {
			return err
		}
		fmt.Printf("  %-32s %8.1f MiB %10d %10d\n", name, float64(size)/(1<<20), live, dead)
	}
	return rows.Err()
}
