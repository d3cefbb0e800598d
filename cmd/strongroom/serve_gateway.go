package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/strongroom/strongroom/authz/gateway"
	"github.com/strongroom/strongroom/server"
)

// gatewayFlags are serve's flags for the forward-auth endpoint of API
// gateways (GET /gateway/check on a listener of its own).
type gatewayFlags struct {
	listen   string
	routes   string
	cacheTTL time.Duration
}

func (f *gatewayFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.listen, "gateway-listen", "", "address of the forward-auth listener for API gateways (GET /gateway/check: nginx auth_request, Envoy ext_authz, Traefik ForwardAuth); off when empty. Loopback or a private address only the gateway reaches")
	fl.StringVar(&f.routes, "gateway-routes", "", "YAML file of the routes behind the gateway: path prefix, methods and the scopes each requires (needed with --gateway-listen)")
	fl.DurationVar(&f.cacheTTL, "gateway-cache-ttl", gateway.DefaultCacheTTL, "how long the gateway reuses an opaque token's lookup: a revoked token is refused within this long (0: look up every request, at most 1m); JWT access tokens are verified locally and stay valid until they expire")
}

// gatewayListener is the bound forward-auth listener (nil when off).
type gatewayListener struct {
	ln   net.Listener
	opts server.GatewayOptions
}

func (l *gatewayListener) close() {
	if l != nil && l.ln != nil {
		_ = l.ln.Close()
	}
}

// listenGateway checks the gateway flags, loads the routes and binds the
// listener; nil when --gateway-listen is not set.
func listenGateway(f *gatewayFlags) (*gatewayListener, error) {
	if f.listen == "" || f.listen == "off" {
		if f.routes != "" {
			return nil, usageErrorf("--gateway-routes needs --gateway-listen")
		}
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return nil, usageErrorf("--gateway-listen: %v", err)
	}
	if f.routes == "" {
		return nil, usageErrorf("--gateway-listen needs --gateway-routes: the scopes each route behind the gateway requires")
	}
	if f.cacheTTL < 0 || f.cacheTTL > gateway.MaxCacheTTL {
		return nil, usageErrorf("--gateway-cache-ttl must be between 0 and %s", gateway.MaxCacheTTL)
	}
	routes, err := gateway.LoadRoutes(f.routes)
	if err != nil {
		return nil, usageErrorf("--gateway-routes: %v", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return nil, fmt.Errorf("gateway listener: %w", err)
	}
	return &gatewayListener{ln: ln, opts: server.GatewayOptions{Routes: routes, CacheTTL: f.cacheTTL}}, nil
}
