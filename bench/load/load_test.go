package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d > 0.01 || d < -0.01 {
			t.Errorf("q%.2f = %v, want %v ±1%%", c.q, got, c.want)
		}
	}
	if h.Max() != 100*time.Millisecond || h.Count() != 100000 {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	for v := int64(0); v < 1<<20; v += 37 {
		if got := histValue(histIndex(v)); got < v-v/100-1 || got > v+v/100+1 {
			t.Fatalf("value %d lands in a bucket worth %d", v, got)
		}
	}
}

func TestRunCountsRequestsErrorsAndLatency(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		time.Sleep(2 * time.Millisecond)
	}))
	defer srv.Close()
	op, err := Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	failing := func(ctx context.Context, hc *http.Client) error {
		if calls.Add(1)%10 == 0 {
			return errors.New("every tenth fails")
		}
		return op(ctx, hc)
	}
	r := Run(context.Background(), "get", failing, 4, 100*time.Millisecond, 400*time.Millisecond)
	if r.Requests < 100 || r.Errors == 0 || r.FirstError != "every tenth fails" {
		t.Fatalf("result %+v", r)
	}
	if r.P50 < 2*time.Millisecond || r.P99 > 200*time.Millisecond || r.Max < r.P99 {
		t.Errorf("latencies %v %v %v", r.P50, r.P99, r.Max)
	}
	if r.Requests >= served.Load()+r.Errors {
		t.Errorf("counted %d requests, the server saw %d (warm-up included)", r.Requests, served.Load())
	}
}

// fakeAS is a minimal authorization server: discovery, a token endpoint
// (opaque tokens t-N, DPoP-aware) and introspection of the tokens it issued.
func fakeAS(t testing.TB) (*httptest.Server, *atomic.Int64) {
	var n, introspected atomic.Int64
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": srv.URL, "token_endpoint": srv.URL + "/token",
			"introspection_endpoint": srv.URL + "/introspect", "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "c1" || secret != "s1" || r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		typ := "Bearer"
		if p := r.Header.Get("DPoP"); p != "" {
			if strings.Count(p, ".") != 2 {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			typ = "DPoP"
		}
		_, _ = fmt.Fprintf(w, `{"access_token":"t-%d","token_type":%q}`, n.Add(1), typ)
	})
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		tok := r.PostFormValue("token")
		introspected.Add(1)
		var i int64
		if _, err := fmt.Sscanf(tok, "t-%d", &i); err != nil || i < 1 || i > n.Load() {
			_, _ = w.Write([]byte(`{"active":false}`))
			return
		}
		_, _ = w.Write([]byte(`{"active": true, "client_id":"c1"}`))
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestScenariosAgainstAFakeServer(t *testing.T) {
	srv, minted := fakeAS(t)
	ctx := context.Background()
	tg := &Target{Name: "fake", Issuer: srv.URL, Opaque: Client{ID: "c1", Secret: "s1", Params: "scope=x"}}
	if err := tg.Discover(ctx, NewClient(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	cc, err := ClientCredentials(tg, tg.Opaque)
	if err != nil {
		t.Fatal(err)
	}
	dp, err := DPoPClientCredentials(tg, tg.Opaque)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Introspection(ctx, tg, tg.Opaque, 50)
	if err != nil {
		t.Fatal(err)
	}
	if minted.Load() != 50 {
		t.Errorf("minted %d tokens for the pool, want 50", minted.Load())
	}
	jw, _ := Get(tg.JWKSURL)
	for name, op := range map[string]Op{"cc": cc, "dpop": dp, "introspect": in, "jwks": jw} {
		r := Run(ctx, name, op, 2, 0, 150*time.Millisecond)
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if _, err := ClientCredentials(tg, tg.JWT); !errors.Is(err, ErrSkip) {
		t.Errorf("no JWT client: %v, want ErrSkip", err)
	}
	bad := Client{ID: "c1", Secret: "wrong"}
	op, _ := ClientCredentials(tg, bad)
	if err := op(ctx, NewClient(5*time.Second)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestCeilingMeasuresTheDriver(t *testing.T) {
	r, err := Ceiling(context.Background(), 2, 0, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests < 50 || r.Errors != 0 {
		t.Fatalf("%+v", r)
	}
}

// BenchmarkOps reports the driver's own cost per op (allocations, time)
// against an in-process fake server: the driver shares the CPUs with the
// server it measures. The figures include the fake server's allocations.
func BenchmarkOps(b *testing.B) {
	srv, _ := fakeAS(b)
	ctx := context.Background()
	tg := &Target{Issuer: srv.URL, Opaque: Client{ID: "c1", Secret: "s1", Params: "scope=x"}}
	if err := tg.Discover(ctx, NewClient(5*time.Second)); err != nil {
		b.Fatal(err)
	}
	cc, _ := ClientCredentials(tg, tg.Opaque)
	dp, _ := DPoPClientCredentials(tg, tg.Opaque)
	in, err := Introspection(ctx, tg, tg.Opaque, 100)
	if err != nil {
		b.Fatal(err)
	}
	jw, _ := Get(tg.JWKSURL)
	for _, c := range []struct {
		name string
		op   Op
	}{{"client_credentials", cc}, {"dpop", dp}, {"introspect", in}, {"get", jw}} {
		b.Run(c.name, func(b *testing.B) {
			hc := NewClient(5 * time.Second)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.op(ctx, hc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
