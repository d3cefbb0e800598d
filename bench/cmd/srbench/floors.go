package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/bench/load"
)

// Floor is a bound measured in the same run: what the machine does with
// the server taken away (a bare database loop, a bare signature).
type Floor struct {
	Name  string  `json:"name"`
	Conns int     `json:"conns,omitempty"`
	Rate  float64 `json:"per_second"`
	Note  string  `json:"note,omitempty"`
}

// floorTable is shaped like oauth2_requests (migrations/0001_init.sql):
// same columns, primary key and indexes, no foreign key.
const floorTable = `CREATE TABLE floor_requests (
    kind         text        NOT NULL,
    signature    text        NOT NULL,
    request_id   text        NOT NULL,
    client_id    text        NOT NULL,
    subject      text        NOT NULL DEFAULT '',
    active       boolean     NOT NULL DEFAULT true,
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    data         bytea,
    deactivated_at timestamptz,
    PRIMARY KEY (kind, signature));
CREATE INDEX ON floor_requests (request_id, kind);
CREATE INDEX ON floor_requests (expires_at);
CREATE INDEX ON floor_requests (client_id)`

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dbFloors measures, at each concurrency, a bare pgx INSERT+COMMIT loop
// (one token-shaped row of rowSize bytes of data per transaction) and a pgx
// SELECT by primary key, in a database of its own.
func dbFloors(ctx context.Context, baseURL string, conns []int, poolMax, rowSize int, warmup, dur time.Duration) ([]Floor, error) {
	db := "strongroom_benchfloor_" + strconv.Itoa(os.Getpid())
	admin, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return nil, fmt.Errorf("floor: connect: %w", err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return nil, fmt.Errorf("floor: create database: %w", err)
	}
	defer func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	}()
	maxc := 0
	for _, c := range conns {
		maxc = max(maxc, min(c, poolMax))
	}
	pool, err := pgxpool.New(ctx, withDatabase(baseURL, db, maxc))
	if err != nil {
		return nil, fmt.Errorf("floor: pool: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, floorTable); err != nil {
		return nil, fmt.Errorf("floor: create table: %w", err)
	}
	data := make([]byte, rowSize)
	_, _ = rand.Read(data)
	const insert = `INSERT INTO floor_requests (kind, signature, request_id, client_id, subject, requested_at, expires_at, data)
VALUES ('access_token', $1, $2, 'bench-client', '', now(), now() + interval '10 minutes', $3)`
	insertOp := func(ctx context.Context, _ *http.Client) error {
		_, err := pool.Exec(ctx, insert, randHex(32), randHex(16), data)
		return err
	}
	// Rows the SELECT floor reads, looked up round robin.
	const nKeys = 10000
	keys := make([]string, nKeys)
	batch := &pgx.Batch{}
	for i := range keys {
		keys[i] = randHex(32)
		batch.Queue(insert, keys[i], randHex(16), data)
	}
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("floor: fill: %w", err)
	}
	var next atomic.Uint64
	selectOp := func(ctx context.Context, _ *http.Client) error {
		var d []byte
		return pool.QueryRow(ctx, `SELECT data FROM floor_requests WHERE kind = 'access_token' AND signature = $1`,
			keys[next.Add(1)%nKeys]).Scan(&d)
	}
	var out []Floor
	for _, c := range conns {
		pc := min(c, poolMax)
		note := ""
		if pc != c {
			note = fmt.Sprintf("%d PostgreSQL connections, as the server's pool is capped", pc)
		}
		r := load.Run(ctx, "pg insert", insertOp, pc, warmup, dur)
		if r.Errors > 0 {
			return nil, fmt.Errorf("floor insert: %s", r.FirstError)
		}
		out = append(out, Floor{Name: "pg_insert_commit", Conns: c, Rate: r.RPS, Note: note})
		r = load.Run(ctx, "pg select", selectOp, pc, warmup, dur)
		if r.Errors > 0 {
			return nil, fmt.Errorf("floor select: %s", r.FirstError)
		}
		out = append(out, Floor{Name: "pg_select_pk", Conns: c, Rate: r.RPS, Note: note})
	}
	return out, nil
}

// es256Floors measures ES256 signatures and verifications of an access
// token-sized JWT per second on one core (one goroutine, d long).
func es256Floors(d time.Duration) ([]Floor, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("es256 key: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, fmt.Errorf("es256 signer: %w", err)
	}
	payload := []byte(`{"iss":"http://127.0.0.1:8080","sub":"bench-client","aud":"bench-client","client_id":"bench-client",` +
		`"exp":1900000000,"iat":1800000000,"jti":"` + randHex(16) + `","scope":"payments"}`)
	var compact string
	n, start := 0, time.Now()
	for time.Since(start) < d {
		jws, err := signer.Sign(payload)
		if err != nil {
			return nil, fmt.Errorf("es256 sign: %w", err)
		}
		if compact, err = jws.CompactSerialize(); err != nil {
			return nil, fmt.Errorf("es256 serialize: %w", err)
		}
		n++
	}
	sign := float64(n) / time.Since(start).Seconds()
	n, start = 0, time.Now()
	for time.Since(start) < d {
		jws, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			return nil, fmt.Errorf("es256 parse: %w", err)
		}
		if _, err := jws.Verify(&key.PublicKey); err != nil {
			return nil, fmt.Errorf("es256 verify: %w", err)
		}
		n++
	}
	verify := float64(n) / time.Since(start).Seconds()
	return []Floor{
		{Name: "es256_sign_per_core", Rate: sign, Note: "go-jose, one goroutine"},
		{Name: "es256_verify_per_core", Rate: verify, Note: "go-jose parse+verify, one goroutine"},
	}, nil
}
