package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/metrics"
)

// AdminOptions configure the admin API listener.
type AdminOptions struct {
	// ClientCAs, when set, makes the admin listener require a TLS client
	// certificate signed by one of them (mTLS); a verified certificate then
	// authenticates the operator without a bearer token. It needs the
	// server's TLS certificate (Config.TLS).
	ClientCAs *x509.CertPool
	// MetricsToken, when set (serve --metrics-token-file), is the bearer
	// token every scrape of /metrics must present; empty: the metrics are
	// readable by whoever reaches the listener, as scrapers expect of an
	// internal listener.
	MetricsToken []byte
}

// AdminClientCAs loads a PEM bundle of CA certificates for AdminOptions.ClientCAs.
func AdminClientCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file) // #nosec G304 -- the operator's --admin-client-ca file
	if err != nil {
		return nil, fmt.Errorf("admin client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("admin client CA %s: no PEM certificate found", file)
	}
	return pool, nil
}

// AdminHandler builds the admin API over the server's store and token service.
func (s *Server) AdminHandler(opts AdminOptions) (*admin.Server, error) {
	svc := NewAdminServices(s.Store, AdminServicesOptions{
		Hasher: s.OAuth.Hasher, HashLimiter: s.Passwords.Limiter,
		Now: s.now, IDTokenAlgs: s.cfg.Authz.IDTokenAlgs,
		ClientChanged:  s.OAuth.Clients.Invalidate,
		RedirectPolicy: registration.Policy{AllowInsecureRedirects: s.cfg.Dev || s.cfg.AllowInsecureRedirects},
	})
	auditKey, err := authz.DeriveKey(s.cfg.Authz.SystemSecret, audit.KeyPurpose)
	if err != nil {
		return nil, err
	}
	trail, err := audit.New(s.Store, auditKey, s.now)
	if err != nil {
		return nil, err
	}
	return admin.New(admin.Options{
		AuditTrail:         trail,
		Clients:            svc.Clients,
		Users:              svc.Users,
		Audit:              svc.Audit,
		Tokens:             s.OAuth.Tokens,
		Keys:               s.Keys,
		Ping:               s.Store.Ping,
		Sessions:           svc.Sessions,
		MTLS:               opts.ClientCAs != nil,
		Now:                s.now,
		Log:                s.log,
		AuthorizationTypes: svc.AuthorizationTypes,
		Metrics:            s.Metrics.HTTP("admin"),
	})
}

// adminListenerHandler is what the admin listener serves: the metrics at
// metrics.Path (GET; behind MetricsToken when set), the admin API at every
// other path.
func (s *Server) adminListenerHandler(opts AdminOptions) (http.Handler, error) {
	api, err := s.AdminHandler(opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metrics.Path, s.Metrics.Handler(opts.MetricsToken, s.log))
	mux.Handle("/", api)
	return mux, nil
}

// ServeAdmin runs the admin API and the Prometheus metrics (/metrics) on
// their own listener ln until ctx ends, then
// shuts it down gracefully as Serve does the public one (it drains for
// Config.ShutdownDrain, keep-alives off, then closes and lets in-flight
// requests finish). It is never mounted on the public listener. With
// the server's TLS configuration it serves HTTPS (and mTLS with ClientCAs);
// without, plain HTTP, meant for a loopback address.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener, opts AdminOptions) error {
	h, err := s.adminListenerHandler(opts)
	if err != nil {
		return err
	}
	var tlsCfg *tls.Config
	switch {
	case opts.ClientCAs != nil && s.cfg.TLS == nil:
		return errors.New("admin mTLS needs the server's TLS certificate")
	case s.cfg.TLS != nil:
		// A config of its own, never a Clone of the public one: the public
		// http.Server writes to that one (HTTP/2 setup) while it starts.
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: s.cfg.TLS.Certificates, GetCertificate: s.cfg.TLS.GetCertificate}
		if opts.ClientCAs != nil {
			tlsCfg.ClientAuth = tls.RequireAndVerifyClientCert
			tlsCfg.ClientCAs = opts.ClientCAs
		}
	}
	return httpListener{name: "admin API", handler: h, tls: tlsCfg, drain: s.cfg.ShutdownDrain, log: s.log}.serve(ctx, ln)
}
