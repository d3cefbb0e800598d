package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// BenchmarkFloorPgxInsert is the floor: one single-row INSERT (one commit)
// per operation into a table shaped like the token table, as parallel as the
// token benchmarks.
func BenchmarkFloorPgxInsert(b *testing.B) {
	env := servertest.Start(b, nil)
	pool, err := pgxpool.New(context.Background(), env.DBURL+"&pool_max_conns=32")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE floor (signature text PRIMARY KEY, request_id text, client_id text, data bytea, expires_at timestamptz)`); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 600)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := pool.Exec(ctx, `INSERT INTO floor (signature, request_id, client_id, data, expires_at) VALUES ($1,$2,$3,$4,now()+interval '10 minutes')`,
				fmt.Sprintf("sig-%d", i), fmt.Sprintf("req-%d", i), "c", payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "inserts/s")
}

// bigPool lets the server keep as many commits in flight as the benchmark's
// clients (group commit): pgx's default pool is max(4, cores) connections.
func bigPool(c *server.Config) { c.DatabaseURL += "&pool_max_conns=32" }

func tokenLoop(b *testing.B, format string) {
	env := servertest.Start(b, bigPool)
	c := &storage.Client{Name: "bench", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: format}
	secret := env.CreateClient(b, c)
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}}.Encode()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: tr}
	post := func() error {
		req, _ := http.NewRequest(http.MethodPost, env.Issuer+"/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d: %s", resp.StatusCode, raw)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil || m["access_token"] == nil {
			return fmt.Errorf("bad body %s", raw)
		}
		return nil
	}
	if err := post(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := post(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
}

// BenchmarkClientCredentialsOpaque: opaque tokens, one INSERT per token.
func BenchmarkClientCredentialsOpaque(b *testing.B) { tokenLoop(b, storage.TokenFormatOpaque) }

// BenchmarkClientCredentialsJWT: ES256-signed RFC 9068 access tokens.
func BenchmarkClientCredentialsJWT(b *testing.B) { tokenLoop(b, storage.TokenFormatJWT) }

// BenchmarkIntrospection: RFC 7662 with client_secret_basic, one token.
func BenchmarkIntrospection(b *testing.B) {
	env := servertest.Start(b, nil)
	c := &storage.Client{Name: "bench", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Metadata: storage.ClientMetadata{Introspect: true}}
	secret := env.CreateClient(b, c)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(path string, form url.Values) (map[string]any, error) {
		req, _ := http.NewRequest(http.MethodPost, env.Issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			return nil, err
		}
		return m, nil
	}
	tok, err := do("/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"token": {tok["access_token"].(string)}}
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, err := do("/oauth2/introspect", form)
			if err != nil || m["active"] != true {
				b.Errorf("introspect: %v %v", err, m)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "introspections/s")
}

// BenchmarkFloorPgxDPoPInserts is the floor of a DPoP token request's
// writes: a replay record (the jti table's INSERT … ON CONFLICT) and a
// token-shaped INSERT per operation, either as two autocommitted statements
// (two commits, two round trips), in one transaction (one commit, four
// round trips with BEGIN and COMMIT), or as one statement (a CTE: one
// commit, one round trip; how the token endpoint writes them,
// storage.JTIs.CreateRequestOnce), as parallel as the token benchmarks.
// Beside BenchmarkFloorPgxInsert (one INSERT, one commit) it shows what the
// jti costs the database whatever the server does.
func BenchmarkFloorPgxDPoPInserts(b *testing.B) {
	env := servertest.Start(b, nil)
	pool, err := pgxpool.New(context.Background(), env.DBURL+"&pool_max_conns=32")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE floor (signature text PRIMARY KEY, request_id text, client_id text, data bytea, expires_at timestamptz);
		CREATE TABLE floor_jtis (jti text PRIMARY KEY, expires_at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 600)
	var n atomic.Int64
	const (
		insertJTI = `INSERT INTO floor_jtis (jti, expires_at) VALUES ($1, now()+interval '70 seconds')
ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE floor_jtis.expires_at <= now()`
		insertToken = `INSERT INTO floor (signature, request_id, client_id, data, expires_at) VALUES ($1,$2,$3,$4,now()+interval '10 minutes')`
	)
	type querier interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	}
	write := func(q querier) error {
		i := n.Add(1)
		if _, err := q.Exec(ctx, insertJTI, fmt.Sprintf("dpop:%d", i)); err != nil {
			return err
		}
		_, err := q.Exec(ctx, insertToken, fmt.Sprintf("sig-%d", i), fmt.Sprintf("req-%d", i), "c", payload)
		return err
	}
	for _, run := range []struct {
		name string
		op   func() error
	}{
		{"two-commits", func() error { return write(pool) }},
		{"one-transaction", func() error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return write(tx) })
		}},
		{"one-statement", func() error {
			// the token row is written only when the jti row is: a replay writes nothing
			i := n.Add(1)
			tag, err := pool.Exec(ctx, `WITH j AS (`+insertJTI+` RETURNING 1)
INSERT INTO floor (signature, request_id, client_id, data, expires_at) SELECT $2,$3,$4,$5,now()+interval '10 minutes' FROM j`,
				fmt.Sprintf("dpop:%d", i), fmt.Sprintf("sig-%d", i), fmt.Sprintf("req-%d", i), "c", payload)
			if err == nil && tag.RowsAffected() != 1 {
				err = fmt.Errorf("jti %d: replayed", i)
			}
			return err
		}},
	} {
		b.Run(run.name, func(b *testing.B) {
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := run.op(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
		})
	}
}
