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
	URL  string
	srv  *http.Server
	done chan struct{}
}

// StartTrivialServer listens on addr ("127.0.0.1:0": a free loopback port).
func StartTrivialServer(addr string) (*TrivialServer, error) {
	ln, err := net.Listen("tcp", addr)
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
	t := &TrivialServer{URL: "http://" + ln.Addr().String() + "/", srv: srv, done: make(chan struct{})}
	go func() { _ = srv.Serve(ln); close(t.done) }()
	return t, nil
}

// Close stops the server.
func (s *TrivialServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Done is closed when the server has stopped serving.
func (s *TrivialServer) Done() <-chan struct{} { return s.done }

// Ceiling runs a GET against a trivial in-process server at conns for dur:
// the most requests per second this driver can issue here. (srbench runs
// the trivial server as a process of its own, like the servers it measures.)
func Ceiling(ctx context.Context, conns int, warmup, dur time.Duration) (Result, error) {
	s, err := StartTrivialServer("127.0.0.1:0")
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
