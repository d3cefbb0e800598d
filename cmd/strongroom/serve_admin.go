package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/strongroom/strongroom/metrics"
	"github.com/strongroom/strongroom/server"
)

// defaultAdminListen is the admin API's address: loopback only by default.
const defaultAdminListen = "127.0.0.1:8081"

// adminListener is the admin API's bound listener (nil when disabled).
type adminListener struct {
	ln   net.Listener
	opts server.AdminOptions
}

func (l *adminListener) close() {
	if l != nil && l.ln != nil {
		_ = l.ln.Close()
	}
}

// listenAdmin checks the admin flags and binds the admin listener. An
// explicitly given address that cannot be bound is an error; the default
// one being taken only warns (another server on this host has it), so that
// the public server still starts.
func listenAdmin(a *app, f *serveFlags, tlsOn bool) (*adminListener, error) {
	if f.adminListen == "off" || f.adminListen == "" {
		if f.adminCA != "" {
			return nil, usageErrorf("--admin-client-ca needs the admin listener (--admin-listen)")
		}
		if f.metricsTokenFile != "" {
			return nil, usageErrorf("--metrics-token-file needs the admin listener (--admin-listen): /metrics is served there")
		}
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(f.adminListen); err != nil {
		return nil, usageErrorf("--admin-listen: %v", err)
	}
	var opts server.AdminOptions
	if f.adminCA != "" {
		if !tlsOn {
			return nil, usageErrorf("--admin-client-ca needs --tls-cert and --tls-key: mTLS runs over the server's TLS certificate")
		}
		pool, err := server.AdminClientCAs(f.adminCA)
		if err != nil {
			return nil, usageErrorf("--admin-client-ca: %v", err)
		}
		opts.ClientCAs = pool
	}
	if f.metricsTokenFile != "" {
		tok, err := metrics.ReadTokenFile(f.metricsTokenFile)
		if err != nil {
			return nil, usageErrorf("--metrics-token-file: %v", err)
		}
		opts.MetricsToken = tok
	}
	ln, err := net.Listen("tcp", f.adminListen)
	if err != nil {
		if f.adminListen == defaultAdminListen && errors.Is(err, syscall.EADDRINUSE) {
			a.log.Warn("admin API not started: its default address is in use; pass --admin-listen", "addr", f.adminListen)
			return nil, nil
		}
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	return &adminListener{ln: ln, opts: opts}, nil
}

// serveWithAdmin runs the public server and, when configured, the admin API
// and the gateway forward-auth endpoint on listeners of their own; when
// any stops with an error, all stop.
func serveWithAdmin(ctx context.Context, a *app, srv *server.Server, ln net.Listener, admin *adminListener, gw *gatewayListener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var side []chan error
	if admin != nil {
		adminErr := make(chan error, 1)
		side = append(side, adminErr)
		go func() {
			err := srv.ServeAdmin(ctx, admin.ln, admin.opts)
			if err != nil {
				cancel() // the public server stops too
			}
			adminErr <- err
		}()
		a.log.Info("strongroom admin API listening", "addr", admin.ln.Addr().String(), "mtls", admin.opts.ClientCAs != nil,
			"metrics", "/metrics", "metrics_token", len(admin.opts.MetricsToken) > 0)
	}
	if gw != nil {
		gwErr := make(chan error, 1)
		side = append(side, gwErr)
		go func() {
			err := srv.ServeGateway(ctx, gw.ln, gw.opts)
			if err != nil {
				cancel()
			}
			gwErr <- err
		}()
		a.log.Info("strongroom gateway check listening", "addr", gw.ln.Addr().String(), "routes", len(gw.opts.Routes.Routes), "cache_ttl", gw.opts.CacheTTL)
	}
	err := srv.Serve(ctx, ln)
	cancel()
	for _, c := range side {
		err = errors.Join(err, <-c)
	}
	return err
}
