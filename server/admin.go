package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/strongroom/strongroom/api/admin"
)

// AdminOptions configure the admin API listener.
type AdminOptions struct {
	// ClientCAs, when set, makes the admin listener require a TLS client
	// certificate signed by one of them (mTLS); a verified certificate then
	// authenticates the operator without a bearer token. It needs the
	// server's TLS certificate (Config.TLS).
	ClientCAs *x509.CertPool
}

// AdminClientCAs loads a PEM bundle of CA certificates for AdminOptions.ClientCAs.
func AdminClientCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
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
		ClientChanged: s.OAuth.Clients.Invalidate,
	})
	return admin.New(admin.Options{
		Clients:  svc.Clients,
		Users:    svc.Users,
		Audit:    svc.Audit,
		Tokens:   s.OAuth.Tokens,
		Keys:     s.Keys,
		Sessions: svc.Sessions,
		MTLS:     opts.ClientCAs != nil,
		Now:      s.now,
		Log:      s.log,
	})
}

// ServeAdmin runs the admin API on its own listener ln until ctx ends, then
// shuts it down gracefully as Serve does the public one (it drains for
// Config.ShutdownDrain, keep-alives off, then closes and lets in-flight
// requests finish). It is never mounted on the public listener. With
// the server's TLS configuration it serves HTTPS (and mTLS with ClientCAs);
// without, plain HTTP, meant for a loopback address.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener, opts AdminOptions) error {
	h, err := s.AdminHandler(opts)
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
