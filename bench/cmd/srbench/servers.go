package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/bench/load"
)

// proc is a server process srbench started; stop ends it (SIGTERM, then
// SIGKILL after 10 s).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

func startProc(name, logPath string, cmd *exec.Cmd) (*proc, error) {
	f, err := os.Create(logPath) // #nosec G304 -- a file in srbench's own temporary directory
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: f, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.log.Close()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls url until it answers 200, the process exits, or 30 s pass.
func waitReady(ctx context.Context, p *proc, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited during start-up (log: %s)", p.name, p.log.Name())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s after 30 s (log: %s)", p.name, url, p.log.Name())
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// strongroom is our server on a fresh database: the binary, its database
// and environment, and the clients it was given.
type strongroom struct {
	bin, dir  string
	baseURL   string // the PostgreSQL server's URL (database postgres)
	dbName    string
	dbURL     string
	env       []string
	target    *load.Target
	port      int
	srv       *proc
	rateLimit bool
}

// setupStrongroom builds the binary, creates and migrates a fresh database
// and registers the two benchmark clients.
func setupStrongroom(ctx context.Context, repo, dir, baseURL string, poolMax int) (*strongroom, error) {
	s := &strongroom{dir: dir, baseURL: baseURL, bin: filepath.Join(dir, "strongroom")}
	build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/strongroom") // #nosec G204 -- fixed arguments
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build strongroom: %w: %s", err, out)
	}
	s.dbName = "strongroom_bench_" + strconv.Itoa(os.Getpid())
	cfg, err := pgx.ParseConfig(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+s.dbName); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	s.dbURL = withDatabase(baseURL, s.dbName, poolMax)
	s.env = append(os.Environ(),
		"DATABASE_URL="+s.dbURL,
		"STRONGROOM_SECRET="+randomB64(32),
		"STRONGROOM_KEK="+randomB64(32),
	)
	if out, err := s.run(ctx, "migrate", "up"); err != nil {
		return s, fmt.Errorf("migrate: %w: %s", err, out)
	}
	opaque, err := s.client(ctx, "opaque")
	if err != nil {
		return s, err
	}
	jwt, err := s.client(ctx, "jwt")
	if err != nil {
		return s, err
	}
	s.target = &load.Target{Name: "strongroom", Opaque: opaque, JWT: jwt}
	return s, nil
}

// withDatabase is baseURL naming database db, with pool_max_conns set.
func withDatabase(baseURL, db string, poolMax int) string {
	u := baseURL
	q := ""
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u, q = u[:i], u[i+1:]
	}
	if i := strings.LastIndexByte(u, '/'); i > len("postgres://") {
		u = u[:i]
	}
	u += "/" + db + "?"
	if q != "" {
		u += q + "&"
	}
	return u + "pool_max_conns=" + strconv.Itoa(poolMax)
}

func (s *strongroom) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...) // #nosec G204 -- our own binary, fixed arguments
	cmd.Env = s.env
	return cmd.CombinedOutput()
}

func (s *strongroom) client(ctx context.Context, format string) (load.Client, error) {
	cmd := exec.CommandContext(ctx, s.bin, "clients", "create", "--name", "bench-"+format, // #nosec G204 -- our own binary
		"--grant-type", "client_credentials", "--scope", "payments", "--introspect",
		"--auth-method", "client_secret_basic", "--access-token-format", format, "-o", "json")
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		return load.Client{}, fmt.Errorf("clients create (%s): %w", format, err)
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil || c.ID == "" || c.Secret == "" {
		return load.Client{}, fmt.Errorf("clients create (%s): unexpected output", format)
	}
	return load.Client{ID: c.ID, Secret: c.Secret, Params: "scope=payments"}, nil
}

// start runs the server, rate limits off (or on, set high enough never to
// refuse, when rateLimit), and discovers its endpoints.
func (s *strongroom) start(ctx context.Context, rateLimit bool) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port, s.rateLimit = port, rateLimit
	iss := "http://127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve", "--insecure-http", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--issuer", iss,
		"--admin-listen", "off", "--log-level", "warn"}
	if rateLimit {
		args = append(args, "--rate-limit-address", "1000000/s", "--rate-limit-client", "1000000/s")
	} else {
		args = append(args, "--rate-limit-address", "off", "--rate-limit-client", "off")
	}
	cmd := exec.CommandContext(ctx, s.bin, args...) // #nosec G204 -- our own binary, fixed arguments
	cmd.Env = s.env
	name := "strongroom"
	if rateLimit {
		name += "-ratelimit"
	}
	s.srv, err = startProc(name, filepath.Join(s.dir, name+".log"), cmd)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, s.srv, iss+"/readyz"); err != nil {
		return err
	}
	s.target.Issuer = iss
	return s.target.Discover(ctx, load.NewClient(5*time.Second))
}

func (s *strongroom) stop() {
	if s != nil && s.srv != nil {
		s.srv.stop()
		s.srv = nil
	}
}

// close stops the server and drops its database.
func (s *strongroom) close() {
	if s == nil {
		return
	}
	s.stop()
	if s.dbName == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.baseURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "srbench: drop database %s: %v\n", s.dbName, err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "srbench: drop database %s: %v\n", s.dbName, err)
	}
}

// tokenRowSize is the mean size of the data column of the access-token
// rows written so far (the floor's INSERT writes rows that large).
func (s *strongroom) tokenRowSize(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, strings.Split(s.dbURL, "pool_max_conns")[0])
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var n *float64
	if err := conn.QueryRow(ctx, "SELECT avg(octet_length(data)) FROM oauth2_requests").Scan(&n); err != nil {
		return 0, fmt.Errorf("token row size: %w", err)
	}
	if n == nil {
		return 0, errors.New("token row size: no rows")
	}
	return int(*n), nil
}

// nodeOIDC is node-oidc-provider 9 (bench/node) in memory.
type nodeOIDC struct {
	target *load.Target
	srv    *proc
}

// nodeResource is the resource indicator whose tokens are JWTs.
const nodeResource = "urn:strongroom:bench"

// startNode installs bench/node's locked dependencies when missing
// (npm ci) and starts server.mjs; an error when node or npm is absent.
func startNode(ctx context.Context, repo, dir string, logf func(string, ...any)) (*nodeOIDC, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node not found on PATH")
	}
	nd := filepath.Join(repo, "bench", "node")
	if !nodeModulesCurrent(nd) {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return nil, errors.New("npm not found on PATH")
		}
		logf("npm ci in %s", nd)
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts") // #nosec G204 -- fixed arguments
		cmd.Dir = nd
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm ci: %w: %s", err, tail(out))
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	iss := "http://127.0.0.1:" + strconv.Itoa(port)
	secret := func() string { return hex.EncodeToString([]byte(randomB64(24))) }
	opaque := load.Client{ID: "bench-opaque", Secret: secret(), Params: "scope=payments"}
	jwt := load.Client{ID: "bench-jwt", Secret: secret(), Params: "scope=payments&resource=" + nodeResource}
	cmd := exec.CommandContext(ctx, nodeBin, "server.mjs") // #nosec G204 -- fixed arguments
	cmd.Dir = nd
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "ISSUER="+iss, "RESOURCE="+nodeResource, "SCOPE=payments",
		"OPAQUE_CLIENT_ID="+opaque.ID, "OPAQUE_CLIENT_SECRET="+opaque.Secret,
		"JWT_CLIENT_ID="+jwt.ID, "JWT_CLIENT_SECRET="+jwt.Secret, "NODE_ENV=production")
	p, err := startProc("node-oidc", filepath.Join(dir, "node-oidc.log"), cmd)
	if err != nil {
		return nil, err
	}
	n := &nodeOIDC{srv: p, target: &load.Target{Name: "node-oidc", Issuer: iss, Opaque: opaque, JWT: jwt}}
	if err := waitReady(ctx, p, iss+"/.well-known/openid-configuration"); err != nil {
		n.close()
		return nil, err
	}
	if err := n.target.Discover(ctx, load.NewClient(5*time.Second)); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *nodeOIDC) close() {
	if n != nil {
		n.srv.stop()
	}
}

// nodeModulesCurrent reports whether node_modules holds what
// package-lock.json pins (npm writes its own copy of the lock there).
func nodeModulesCurrent(dir string) bool {
	want, err := os.ReadFile(filepath.Join(dir, "package-lock.json")) // #nosec G304 -- the repository's file
	if err != nil {
		return false
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if json.Unmarshal(want, &lock) != nil {
		return false
	}
	for path, p := range lock.Packages {
		if path == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, path, "package.json")) // #nosec G304 -- paths from the lock file
		if err != nil {
			return false
		}
		var got struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(b, &got) != nil || got.Version != p.Version {
			return false
		}
	}
	return true
}

func tail(b []byte) string {
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}
