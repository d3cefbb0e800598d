package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	var status, delay atomic.Int64 // set between requests
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(int(status.Load()))
		case "/moved":
			http.Redirect(w, r, "/readyz", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	if r := run(t, nil, "", "healthcheck", "--url", srv.URL+"/readyz"); r.code != exitOK || r.output() != "" {
		t.Errorf("ready server: exit %d, output %q", r.code, r.output())
	}
	if r := run(t, env{envHealthcheckURL: srv.URL + "/readyz"}, "", "healthcheck"); r.code != exitOK {
		t.Errorf("URL from %s: exit %d %s", envHealthcheckURL, r.code, r.errOut)
	}

	status.Store(http.StatusServiceUnavailable)
	wantFail(t, run(t, nil, "", "healthcheck", "--url", srv.URL+"/readyz"), exitFailure, "not ready: "+srv.URL+"/readyz answered 503 Service Unavailable")
	status.Store(http.StatusOK)
	wantFail(t, run(t, nil, "", "healthcheck", "--url", srv.URL+"/moved"), exitFailure, "answered 302 Found")
	wantFail(t, run(t, nil, "", "healthcheck", "--url", srv.URL+"/nothing"), exitFailure, "answered 404 Not Found")

	delay.Store(int64(300 * time.Millisecond))
	wantFail(t, run(t, nil, "", "healthcheck", "--url", srv.URL+"/readyz", "--timeout", "50ms"), exitFailure, "did not answer within 50ms")
	delay.Store(0)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	wantFail(t, run(t, nil, "", "healthcheck", "--url", closed.URL+"/readyz"), exitFailure, "not ready: "+closed.URL+"/readyz")
	// A bad URL is unhealthy too (exit 1): Docker reserves exit code 2.
	r := run(t, nil, "", "healthcheck", "--url", "127.0.0.1:8080/readyz")
	wantFail(t, r, exitFailure, "want an http:// or https:// URL")
	if strings.Count(r.errOut, "\n") != 1 {
		t.Errorf("more than one line: %q", r.errOut)
	}
}
