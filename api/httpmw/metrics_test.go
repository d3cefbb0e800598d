package httpmw

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

type observed struct {
	route, method string
	status        int
	elapsed       time.Duration
}

type recorder struct{ got []observed }

func (r *recorder) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	r.got = append(r.got, observed{route, method, status, elapsed})
}

// TestMetricsLabelRequestsByRoutePattern: the request observer gets the
// route pattern (never the path with its ids), the final status (a
// handler's error already rendered) and the method; a path no route
// matches comes as "" so that a scan shares one series.
func TestMetricsLabelRequestsByRoutePattern(t *testing.T) {
	rec := &recorder{}
	e := echo.New()
	Use(e, Options{Log: slog.New(slog.DiscardHandler), AccessLogMessage: "request", Metrics: rec})
	e.GET("/clients/:id", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.POST("/fail", func(echo.Context) error { return errors.New("boom") })
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/clients/secret-client-id-123", nil),
		httptest.NewRequest(http.MethodPost, "/fail", nil),
		httptest.NewRequest(http.MethodGet, "/no/such/path/abc", nil),
		httptest.NewRequest(http.MethodDelete, "/clients/x", nil),
	} {
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	want := []observed{
		{route: "/clients/:id", method: "GET", status: 200},
		{route: "/fail", method: "POST", status: 500},
		{route: "", method: "GET", status: 404},
		{route: "/clients/:id", method: "DELETE", status: 405},
	}
	if len(rec.got) != len(want) {
		t.Fatalf("observed %d requests, want %d: %+v", len(rec.got), len(want), rec.got)
	}
	for i, w := range want {
		g := rec.got[i]
		if g.route != w.route || g.method != w.method || g.status != w.status || g.elapsed <= 0 {
			t.Errorf("request %d observed %+v, want %+v with a duration", i, g, w)
		}
	}
}
