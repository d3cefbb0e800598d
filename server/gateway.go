package server

import (
	"context"
	"net"
	"time"

	apigateway "github.com/strongroom/strongroom/api/gateway"
	"github.com/strongroom/strongroom/authz/gateway"
)

// GatewayOptions configure the forward-auth listener (serve
// --gateway-listen).
type GatewayOptions struct {
	// Routes are the per-route token requirements (serve --gateway-routes).
	Routes *gateway.Routes
	// CacheTTL is how long an opaque token's lookup is reused (serve
	// --gateway-cache-ttl): revocation takes effect within it. 0: every
	// request is looked up.
	CacheTTL time.Duration
}

// GatewayHandler builds the forward-auth endpoint (api/gateway) over the
// server's token service.
func (s *Server) GatewayHandler(opts GatewayOptions) (*apigateway.Server, error) {
	checker, err := gateway.New(gateway.Options{
		Tokens: s.OAuth.Tokens, Routes: opts.Routes, CacheTTL: opts.CacheTTL, Now: s.now,
	})
	if err != nil {
		return nil, err
	}
	return apigateway.New(checker, s.OAuth.Tokens.DPoPAlgorithms(), s.log), nil
}

// ServeGateway runs the forward-auth endpoint on its own listener ln until
// ctx ends, then shuts it down as Serve does the public one. It is never
// mounted on the public listener; it serves plain HTTP, meant for a
// loopback or private address that only the gateway reaches.
func (s *Server) ServeGateway(ctx context.Context, ln net.Listener, opts GatewayOptions) error {
	h, err := s.GatewayHandler(opts)
	if err != nil {
		return err
	}
	return httpListener{name: "gateway check", handler: h, drain: s.cfg.ShutdownDrain, log: s.log}.serve(ctx, ln)
}
