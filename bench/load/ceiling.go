package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// TrivialServer is a Go HTTP server answering every request 200 with a
// short body: driving it measures the driver's own ceiling on this machine
// (driver and server sharing the CPUs, as in every scenario).
type TrivialServer struct {
	URL string
	srv *http.Server
}

// StartTrivialServer listens on a free loopback port.
func StartTrivialServer() (*TrivialServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("trivial server: %w", err)
	}
	body := []byte(`{"ok":true}`)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return &TrivialServer{URL: "http://" + ln.Addr().String() + "/", srv: srv}, nil
}

// Close stops the server.
func (s *TrivialServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Ceiling runs a GET against a trivial in-process server at conns for dur:
// the most requests per second this driver can issue here.
func Ceiling(ctx context.Context, conns int, warmup, dur time.Duration) (Result, error) {
	s, err := StartTrivialServer()
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = s.Close() }()
	op, err := Get(s.URL)
	if err != nil {
		return Result{}, err
	}
	r := Run(ctx, "driver ceiling", op, conns, warmup, dur)
	r.Server = "trivial-go"
	return r, nil
}
