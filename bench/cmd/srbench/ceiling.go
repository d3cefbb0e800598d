package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/bench/load"
)

// serveTrivial is srbench started with -trivial-listen: the driver-ceiling
// server, until SIGINT or SIGTERM.
func serveTrivial(addr string) error {
	s, err := load.StartTrivialServer(addr)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
	case <-s.Done():
	}
	return s.Close()
}

// ceiling measures the driver's ceiling at each concurrency: GETs of a
// trivial Go server (200, 11 bytes) run as a process of its own, as the
// servers under test are, on the same CPUs.
func ceiling(ctx context.Context, dir string, conns []int, warmup, dur time.Duration) ([]load.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("driver ceiling: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, self, "-trivial-listen", addr) // #nosec G204 -- srbench itself, fixed arguments
	p, err := startProc("trivial-go", filepath.Join(dir, "trivial.log"), cmd)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	url := "http://" + addr + "/"
	if err := waitReady(ctx, p, url); err != nil {
		return nil, err
	}
	op, err := load.Get(url)
	if err != nil {
		return nil, err
	}
	var out []load.Result
	for _, n := range conns {
		r := load.Run(ctx, "driver ceiling", op, n, warmup, dur)
		r.Server = "trivial-go"
		if r.Errors > 0 {
			return nil, fmt.Errorf("driver ceiling: %s", r.FirstError)
		}
		out = append(out, r)
	}
	return out, nil
}
