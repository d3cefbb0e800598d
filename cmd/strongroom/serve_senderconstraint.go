package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/oauth"
	"github.com/strongroom/strongroom/server"
)

// senderConstraintFlags are serve's flags for mutual TLS (RFC 8705) and
// DPoP (RFC 9449): where client certificates come from, what they are
// verified against, and the DPoP nonce policy.
type senderConstraintFlags struct {
	tlsClientCA      string
	clientCertHeader string
	dpopNonce        string
	redisURL         string
	mtlsBaseURL      string
	// jwksURIAllowPrivate lets jwks_uri fetches reach non-public addresses.
	jwksURIAllowPrivate bool
}

// envRedisURL is read for --redis-url when neither the flag, its
// STRONGROOM_REDIS_URL variable nor the --config file sets it (as
// DATABASE_URL is for --database-url), except with --dev.
const envRedisURL = "REDIS_URL"

func (f *senderConstraintFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM CA bundle that issues tls_client_auth client certificates; with --tls-cert the public listener then requests (never requires) client certificates")
	fl.StringVar(&f.clientCertHeader, "client-cert-header", "", "header in which a TLS-terminating proxy forwards the client certificate (PEM, URL-encoded PEM, base64 DER or Envoy's X-Forwarded-Client-Cert); believed only from --trusted-proxy addresses")
	fl.StringVar(&f.redisURL, "redis-url", "", "Redis URL (redis://[user:password@]host:port[/db] or rediss://…) that keeps every node's DPoP proof ids instead of the database and counts the rate limits of every node together (default $REDIS_URL, except with --dev); must be reachable at start")
	fl.StringVar(&f.mtlsBaseURL, "mtls-base-url", "", "https base URL of a separate host name that serves the endpoints with mutual TLS (e.g. https://mtls.auth.example.com): discovery lists the token, PAR, introspection, revocation and userinfo endpoints under it as mtls_endpoint_aliases (RFC 8705 §5)")
	fl.BoolVar(&f.jwksURIAllowPrivate, "jwks-uri-allow-private", false, "let private_key_jwt clients' jwks_uri reach loopback, private and link-local addresses (by default only public addresses are fetched, so a registered jwks_uri cannot make the server call an internal service)")
	fl.StringVar(&f.dpopNonce, "dpop-nonce", string(dpop.NonceOptional), "DPoP server nonces: required (every proof), optional (FAPI 2.0 clients must use them, others may) or off")
}

// apply checks the flags and sets the server configuration they describe.
// tlsOn says Strongroom terminates TLS itself (cfg.TLS is built after this
// call: see requestClientCertificates); cfg.TrustedProxies must be set.
// getenv supplies REDIS_URL.
func (f *senderConstraintFlags) apply(cfg *server.Config, tlsOn bool, getenv func(string) string) error {
	mode, err := dpop.ParseNonceMode(f.dpopNonce)
	if err != nil {
		return usageErrorf("--dpop-nonce %q: must be required, optional or off", f.dpopNonce)
	}
	cfg.DPoPNonce = mode

	redisURL, source := f.redisURL, "--redis-url"
	if redisURL == "" && !cfg.Dev { // as DATABASE_URL, REDIS_URL is not for the dev server
		redisURL, source = getenv(envRedisURL), envRedisURL
	}
	if redisURL != "" {
		// the URL may hold a password: never quote it
		if _, err := redis.ParseURL(redisURL); err != nil {
			return usageErrorf("%s is not a valid Redis URL: use redis://[user:password@]host:port[/db] or rediss://… (%s)", source, redisURLProblem(err))
		}
		cfg.RedisURL = redisURL
	}

	if f.mtlsBaseURL != "" {
		base, err := oauth.ParseMTLSBaseURL(f.mtlsBaseURL)
		if err != nil {
			return usageErrorf("--mtls-base-url: %v", err)
		}
		cfg.MTLSBaseURL = base
	}

	cfg.JWKSURIAllowPrivate = f.jwksURIAllowPrivate

	if f.clientCertHeader != "" && len(cfg.TrustedProxies) == 0 {
		return usageErrorf("--client-cert-header %s needs --trusted-proxy: the header is believed only from the proxies that set it", f.clientCertHeader)
	}
	src, err := mtls.NewCertificateSource(f.clientCertHeader, cfg.TrustedProxies)
	if err != nil {
		return usageErrorf("--client-cert-header: %s", mtlsConfigMessage(err))
	}
	cfg.ClientCertificates = src

	if f.tlsClientCA == "" {
		return nil
	}
	if !tlsOn && f.clientCertHeader == "" {
		return usageErrorf("--tls-client-ca needs client certificates to verify: serve TLS with --tls-cert and --tls-key, or take them from a TLS-terminating proxy with --client-cert-header and --trusted-proxy")
	}
	pool, err := mtls.LoadClientCAs(f.tlsClientCA)
	if err != nil {
		return usageErrorf("--tls-client-ca: %s", mtlsConfigMessage(err))
	}
	cfg.ClientCAs = pool
	return nil
}

// requestClientCertificates makes the public listener's TLS ask for client
// certificates, never require them, when client CAs are configured. No CA
// is advertised: self_signed_tls_client_auth certificates chain to none,
// and some clients send nothing when their issuer is not listed.
func requestClientCertificates(cfg *server.Config) {
	if cfg.TLS != nil && cfg.ClientCAs != nil {
		cfg.TLS = mtls.RequestClientCertificates(cfg.TLS, nil)
	}
}

// redisURLProblem is what go-redis found wrong with a URL, without the URL.
func redisURLProblem(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

// mtlsConfigMessage is an mtls configuration error without the package's
// sentinel text (it may be wrapped after a file name).
func mtlsConfigMessage(err error) string {
	return strings.ReplaceAll(err.Error(), mtls.ErrInvalidConfig.Error()+": ", "")
}
