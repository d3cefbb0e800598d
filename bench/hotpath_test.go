package bench

// Benchmarks of the pieces of the two hottest requests, the
// client_credentials token request (opaque token: one INSERT) and the
// introspection of an opaque token (one indexed SELECT), each with its
// allocations: client authentication, token minting, the stored session,
// the storage calls on PostgreSQL, and the whole handler in-process
// (httptest: no sockets between client and server, so what is left is the
// server's own work plus the database). bench/profiles/README.md has the
// figures; run them with
//
//	go test -run '^$' -bench 'Hot' -benchmem -count 5 ./bench/

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/hmac"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// BenchmarkHotSecretCompare: checking a client_secret_basic secret against
// its stored keyed hash (authz.SecretHasher, HMAC-SHA256), once per token
// and introspection request.
func BenchmarkHotSecretCompare(b *testing.B) {
	h, err := authz.NewSecretHasher(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	secret, _ := authz.GenerateSecret()
	hash, _ := h.Hash(ctx, []byte(secret))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := h.Compare(ctx, hash, []byte(secret)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHotClientCacheGet: the client lookup of every authenticated
// request, a cache hit.
func BenchmarkHotClientCacheGet(b *testing.B) {
	st := memory.New()
	ctx := context.Background()
	c := &storage.Client{ID: "bench", Name: "bench", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Secrets: []storage.ClientSecret{{Hash: []byte("h"), CreatedAt: time.Now()}},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateClient(ctx, c); err != nil {
		b.Fatal(err)
	}
	cc := authz.NewClientCache(st, time.Hour, nil)
	if _, err := cc.Get(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cc.Get(ctx, "bench"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHotHMACGenerate: minting one opaque token and its signature
// (fosite's HMAC-SHA512/256 strategy, which grant.PrefixedHMAC wraps).
func BenchmarkHotHMACGenerate(b *testing.B) {
	s := &hmac.HMACStrategy{Config: &fosite.Config{GlobalSecret: make([]byte, 32)}}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Generate(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHotSessionJSON: the session of a client_credentials token as
// the token store serialises it into the row's data (encode), and back for
// introspection (decode); bytes/row is its size.
func BenchmarkHotSessionJSON(b *testing.B) {
	sess := authz.NewSession()
	sess.SetExpiresAt(fosite.AccessToken, time.Now().Add(time.Hour))
	sess.ClientID = "client-0123456789"
	raw, err := json.Marshal(sess)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := json.Marshal(sess); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(raw)), "bytes/row")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := json.Unmarshal(raw, authz.NewSession()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// hotEnv is a server on a fresh database with one client_credentials
// client allowed to introspect, its Basic header, and the data of a real
// token row (what the token endpoint stores).
type hotEnv struct {
	env   *servertest.Env
	basic string
	token string
	row   *storage.Request
}

func newHotEnv(b testing.TB, mutate ...func(*server.Config)) *hotEnv {
	// 16 connections: enough commits in flight for group commit, and
	// room on a PostgreSQL server that other benchmarks share
	env := servertest.Start(b, func(c *server.Config) {
		c.DatabaseURL += "&pool_max_conns=16"
		for _, m := range mutate {
			m(c)
		}
	})
	c := &storage.Client{Name: "bench", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Metadata: storage.ClientMetadata{Introspect: true}}
	secret := env.CreateClient(b, c)
	h := &hotEnv{env: env, basic: "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(secret)))}
	rec := h.post(b, "/oauth2/token", "grant_type=client_credentials&scope=payments")
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || rec.Code != 200 {
		b.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	h.token = m["access_token"].(string)
	var sig string
	if i := strings.LastIndexByte(h.token, '.'); i >= 0 {
		sig = h.token[i+1:]
	}
	row, err := env.Server.Store.GetRequest(context.Background(), storage.KindAccessToken, sig)
	if err != nil {
		b.Fatalf("the token's row (signature after the last dot): %v", err)
	}
	h.row = row
	return h
}

// post runs one request through the server's handler in-process.
func (h *hotEnv) post(b testing.TB, path, body string) *httptest.ResponseRecorder {
	return h.postCtx(context.Background(), path, body)
}

// postCtx is post with the request's context derived from ctx.
func (h *hotEnv) postCtx(ctx context.Context, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", h.basic)
	rec := httptest.NewRecorder()
	h.env.Server.Handler.ServeHTTP(rec, req)
	return rec
}

// BenchmarkHotStorage: the storage calls of the two requests on
// PostgreSQL with a real token row's data: CreateRequest (the token
// request's one INSERT and commit) and GetRequest (introspection's one
// SELECT by primary key).
func BenchmarkHotStorage(b *testing.B) {
	h := newHotEnv(b)
	st := h.env.Server.Store
	ctx := context.Background()
	var n atomic.Int64
	b.Run("CreateRequest", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16)
		cpu := startCPU()
		defer func() { b.ReportMetric(cpu.perOp(b.N), "cpu-µs/op") }()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := *h.row
				r.Signature = fmt.Sprintf("bench-%d", n.Add(1))
				r.RequestID = r.Signature
				if err := st.CreateRequest(ctx, &r); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(len(h.row.Data)), "data-bytes")
	})
	b.Run("GetRequest", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16)
		cpu := startCPU()
		defer func() { b.ReportMetric(cpu.perOp(b.N), "cpu-µs/op") }()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := st.GetRequest(ctx, storage.KindAccessToken, h.row.Signature); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkHotHandler: the whole token and introspection handlers
// in-process (middleware, client authentication, fosite, storage,
// rendering), as parallel as the load tests.
func BenchmarkHotHandler(b *testing.B) {
	h := newHotEnv(b)
	for _, run := range []struct{ name, path, body, want string }{
		{"token", "/oauth2/token", "grant_type=client_credentials&scope=payments", `"access_token"`},
		{"introspect", "/oauth2/introspect", "token=" + url.QueryEscape(h.token), `"active":true`},
	} {
		b.Run(run.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			start, cpu := time.Now(), startCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := h.post(b, run.path, run.body)
					if rec.Code != 200 || !strings.Contains(rec.Body.String(), run.want) {
						b.Errorf("%s: %d %s", run.path, rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			b.ReportMetric(cpu.perOp(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime measures the CPU time (user and system) this process spent
// since start: on a machine other processes share, wall time per
// operation says more about them than about the code; the process's CPU
// per operation (server and in-process client, not PostgreSQL) less.
type cpuTime struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuTime { return cpuTime{start: processCPU()} }

// perOp is the CPU microseconds per operation since start.
func (c cpuTime) perOp(n int) float64 {
	return float64(processCPU()-c.start) / float64(time.Microsecond) / float64(n)
}

// roundTrips records the SQL statements run under a context marked by
// mark (a request's): the database round trips that request made. It
// never records their arguments.
type roundTrips struct {
	mu   sync.Mutex
	stmt []string
}

type roundTripsKey struct{}

func (rt *roundTrips) mark(ctx context.Context) context.Context {
	return context.WithValue(ctx, roundTripsKey{}, rt)
}

// TraceQueryStart implements pgx.QueryTracer.
func (*roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if rt, ok := ctx.Value(roundTripsKey{}).(*roundTrips); ok {
		rt.mu.Lock()
		rt.stmt = append(rt.stmt, strings.Join(strings.Fields(d.SQL), " "))
		rt.mu.Unlock()
	}
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestHotPathRoundTrips: a client_credentials request for an opaque token
// makes one database round trip, its INSERT (autocommitted: one commit),
// and an introspection one, the SELECT of the token's row; the client
// comes from the in-memory cache. A new query on either path fails here.
func TestHotPathRoundTrips(t *testing.T) {
	tracer := &roundTrips{}
	h := newHotEnv(t, func(c *server.Config) { c.QueryTracer = tracer })
	for _, tt := range []struct{ name, path, body, want string }{
		{"token", "/oauth2/token", "grant_type=client_credentials&scope=payments", "INSERT INTO oauth2_requests "},
		{"introspect", "/oauth2/introspect", "token=" + url.QueryEscape(h.token), "SELECT "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt := &roundTrips{}
			rec := h.postCtx(rt.mark(context.Background()), tt.path, tt.body)
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if len(rt.stmt) != 1 || !strings.HasPrefix(rt.stmt[0], tt.want) || !strings.Contains(rt.stmt[0], "oauth2_requests") {
				t.Fatalf("statements %q, want one: %s… on oauth2_requests", rt.stmt, tt.want)
			}
		})
	}
}

// TestDiscoveryIsServedFromMemory: the public, unauthenticated discovery
// document reads the database (its authorization details types) at most
// once per short window, not once per request, so a flood of discovery
// requests costs the database nothing.
func TestDiscoveryIsServedFromMemory(t *testing.T) {
	tracer := &roundTrips{}
	h := newHotEnv(t, func(c *server.Config) { c.QueryTracer = tracer })
	rt := &roundTrips{}
	ctx := rt.mark(context.Background())
	var first string
	for i := range 50 {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/.well-known/openid-configuration", nil)
		rec := httptest.NewRecorder()
		h.env.Server.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"authorization_details_types_supported"`) {
			t.Fatalf("discovery %d: %d %s", i, rec.Code, rec.Body)
		}
		if i == 0 {
			first = rec.Body.String()
		} else if rec.Body.String() != first {
			t.Fatalf("discovery %d differs from the first", i)
		}
	}
	if len(rt.stmt) > 1 {
		t.Fatalf("50 discovery requests made %d statements, want at most 1: %q", len(rt.stmt), rt.stmt)
	}
}
