package mtls_test

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/mtls"
)

// How serve, client authentication and a resource endpoint use the package.
func Example() {
	logger := slog.Default()

	// serve --tls-client-ca FILE --client-cert-header NAME --trusted-proxy CIDR
	clientCAs, err := mtls.LoadClientCAs("/etc/strongroom/client-ca.pem")
	if err != nil {
		logger.Error("mTLS disabled", "err", err)
		return
	}
	source, err := mtls.NewCertificateSource("X-SSL-Client-Cert", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil {
		logger.Error("bad flags", "err", err)
		return
	}
	auth := mtls.NewAuthenticator(clientCAs, time.Now)
	server := &http.Server{TLSConfig: mtls.RequestClientCertificates(&tls.Config{MinVersion: tls.VersionTLS12}, nil)}

	// Token endpoint: authenticate the client by its registered method,
	// then bind the access token to the certificate.
	type client struct {
		method   string
		identity mtls.Identity
		jwks     *jose.JSONWebKeySet
	}
	token := func(r *http.Request, c client) (*mtls.Confirmation, error) {
		got, err := source.FromRequest(r)
		if got.IgnoredHeaderFrom != "" {
			logger.Warn("client certificate header from an untrusted peer ignored", "peer", got.IgnoredHeaderFrom)
		}
		if err != nil {
			return nil, err // invalid_client
		}
		switch c.method {
		case mtls.MethodTLSClientAuth:
			err = auth.TLSClientAuth(got.Certificate, c.identity)
		case mtls.MethodSelfSignedTLSClientAuth:
			err = auth.SelfSignedTLSClientAuth(got.Certificate, c.jwks)
		}
		if err != nil {
			return nil, err // invalid_client
		}
		cnf := mtls.ConfirmationFor(got.Certificate.Leaf) // "cnf": {"x5t#S256": …}
		return &cnf, nil
	}

	// Userinfo: a certificate-bound token only with its certificate.
	userinfo := func(r *http.Request, bound string) error {
		got, err := source.FromRequest(r)
		if err != nil {
			return err
		}
		// ErrNoCertificate or ErrBindingMismatch: 401 invalid_token.
		return mtls.VerifyBoundCertificate(got.Certificate, bound)
	}
	_, _, _ = server, token, userinfo
}
