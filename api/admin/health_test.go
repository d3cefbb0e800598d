package admin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage/memory"
)

// TestHealthDetailNeedsAdminAuthentication: GET /admin/v1/health answers
// the build, the store's reachability and the signing keys' state to an
// authenticated operator only; without a token it is 401 and tells nothing.
func TestHealthDetailNeedsAdminAuthentication(t *testing.T) {
	f := newFixture(t)
	var h admin.Health
	f.do(t, http.MethodGet, admin.Path(admin.RouteHealth), "", http.StatusOK, &h)
	if h.Status != "ok" || !h.Store.Reachable || h.Build.GoVersion != runtime.Version() || h.Build.Version == "" {
		t.Fatalf("health %+v", h)
	}
	algs := map[string]bool{}
	for _, k := range h.Keys {
		if k.Active == "" {
			t.Errorf("%s: no active kid in %+v", k.Alg, k)
		}
		algs[k.Alg] = true
	}
	if !algs["RS256"] || !algs["ES256"] {
		t.Errorf("keys %+v: want RS256 and ES256", h.Keys)
	}

	req, _ := http.NewRequest(http.MethodGet, f.url+admin.Path(admin.RouteHealth), nil)
	resp, err := f.tr.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %d, want 401", resp.StatusCode)
	}
}

// TestHealthDetailReportsUnreachableStore: a store that does not answer its
// ping makes the detail 503 "degraded" with a sentence for the operator,
// never the driver's error chain.
func TestHealthDetailReportsUnreachableStore(t *testing.T) {
	store := memory.New()
	svc := server.NewAdminServices(store, server.AdminServicesOptions{})
	srv, err := admin.New(admin.Options{
		Clients: svc.Clients, Users: svc.Users, Audit: svc.Audit, Tokens: fakeTokens{},
		Log: slog.New(slog.DiscardHandler),
		Ping: func(context.Context) error {
			return errors.New("postgres: ping: dial tcp 10.0.0.7:5432: connect: connection refused")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tr := admintest.NewTransport(t, ts.URL, nil)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+admin.Path(admin.RouteHealth), nil)
	req.Header.Set("Authorization", "Bearer good")
	resp, err := tr.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	body := string(data)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", resp.StatusCode, body)
	}
	for _, want := range []string{`"status":"degraded"`, `"reachable":false`} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s lacks %s", body, want)
		}
	}
	if strings.Contains(body, "10.0.0.7") || strings.Contains(body, "postgres:") {
		t.Errorf("body leaks the driver error: %s", body)
	}
}
