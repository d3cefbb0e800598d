package clientauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	fositejose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"golang.org/x/sync/singleflight"
)

// Defaults of JWKSFetchPolicy.
const (
	// DefaultJWKSFetchTimeout bounds one jwks_uri fetch, from the dial to
	// the last byte of the body.
	DefaultJWKSFetchTimeout = 5 * time.Second
	// DefaultJWKSMaxBytes caps a fetched JWK Set document: a few dozen keys
	// fit in far less.
	DefaultJWKSMaxBytes = 64 << 10
	// DefaultJWKSCacheTTL is how long a fetched JWK Set is used before it is
	// fetched again (an unknown kid refetches sooner: jwksRefreshLimiter).
	DefaultJWKSCacheTTL = time.Hour
)

// ErrJWKSURIRefused is wrapped by every fetch the policy refuses (scheme,
// address, redirect, size), as opposed to a network failure.
var ErrJWKSURIRefused = errors.New("jwks_uri refused")

// JWKSFetchPolicy says which jwks_uri the server fetches and how. The URI
// comes from a client's registration, and the fetch happens before the
// client is authenticated (the keys are what authenticates it), so the
// fetcher is a server-side request forgery surface: whoever can register a
// client (or send an assertion naming one) picks where the server connects.
// The zero value is the production policy.
type JWKSFetchPolicy struct {
	// AllowHTTP permits http jwks_uri (a development server whose issuer is
	// http). Otherwise only https is fetched.
	AllowHTTP bool
	// AllowPrivateAddresses permits connections to loopback, private
	// (RFC 1918, RFC 4193), link-local (cloud metadata services such as
	// 169.254.169.254), carrier-grade NAT and other non-public addresses.
	// Otherwise they are refused at dial time, after DNS resolution, so a
	// name that resolves (or re-resolves) to such an address is refused
	// too.
	AllowPrivateAddresses bool
	// Timeout bounds one fetch (DefaultJWKSFetchTimeout when zero).
	Timeout time.Duration
	// MaxBytes caps the response body (DefaultJWKSMaxBytes when zero).
	MaxBytes int64
	// CacheTTL is how long a fetched set is reused (DefaultJWKSCacheTTL when zero).
	CacheTTL time.Duration
	// RootCAs verify the jwks_uri's TLS certificate (nil: the system roots).
	RootCAs *x509.CertPool
}

// JWKSFetcher fetches and caches clients' JWK Sets (fosite's
// JWKSFetcherStrategy) under a JWKSFetchPolicy: no proxy from the
// environment, no redirects, one attempt, a timeout, a size cap, https only
// and public addresses only unless the policy allows more. Concurrent
// fetches of one URI share one request.
type JWKSFetcher struct {
	policy JWKSFetchPolicy
	client *http.Client
	now    func() time.Time
	group  singleflight.Group

	mu    sync.Mutex
	cache map[string]cachedJWKS // by jwks_uri; bounded by the registered clients
}

type cachedJWKS struct {
	set     *fositejose.JSONWebKeySet
	expires time.Time
}

var _ fosite.JWKSFetcherStrategy = (*JWKSFetcher)(nil)

// NewJWKSFetcher returns a fetcher that applies p (zero fields: defaults).
func NewJWKSFetcher(p JWKSFetchPolicy) *JWKSFetcher {
	if p.Timeout <= 0 {
		p.Timeout = DefaultJWKSFetchTimeout
	}
	if p.MaxBytes <= 0 {
		p.MaxBytes = DefaultJWKSMaxBytes
	}
	if p.CacheTTL <= 0 {
		p.CacheTTL = DefaultJWKSCacheTTL
	}
	dialer := &net.Dialer{Timeout: p.Timeout}
	if !p.AllowPrivateAddresses {
		dialer.Control = refuseNonPublicAddress
	}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would make the address check moot
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.RootCAs},
		TLSHandshakeTimeout:    p.Timeout,
		ResponseHeaderTimeout:  p.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &JWKSFetcher{
		policy: p,
		client: &http.Client{
			Transport: transport,
			Timeout:   p.Timeout,
			// A redirect is a second URI nobody registered.
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return fmt.Errorf("%w: the jwks_uri redirects", ErrJWKSURIRefused)
			},
		},
		now:   time.Now,
		cache: map[string]cachedJWKS{},
	}
}

// Resolve returns the JWK Set at location, from the cache unless
// ignoreCache is set or the cached copy expired.
func (f *JWKSFetcher) Resolve(ctx context.Context, location string, ignoreCache bool) (*fositejose.JSONWebKeySet, error) {
	if !ignoreCache {
		f.mu.Lock()
		c, ok := f.cache[location]
		f.mu.Unlock()
		if ok && f.now().Before(c.expires) {
			return c.set, nil
		}
	}
	// One fetch per location at a time; the callers waiting on it share its
	// answer. The fetch is not tied to the first caller's context, so a
	// caller hanging up does not fail the others; the timeout bounds it.
	v, err, _ := f.group.Do(location, func() (any, error) {
		set, err := f.fetch(context.WithoutCancel(ctx), location)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.cache[location] = cachedJWKS{set: set, expires: f.now().Add(f.policy.CacheTTL)}
		f.mu.Unlock()
		return set, nil
	})
	if err != nil {
		return nil, fosite.ErrServerError.WithHint("The client's JWK Set could not be fetched.").WithWrap(err).WithDebug(err.Error())
	}
	return v.(*fositejose.JSONWebKeySet), nil
}

// fetch GETs location under the policy and decodes the JWK Set.
func (f *JWKSFetcher) fetch(ctx context.Context, location string) (*fositejose.JSONWebKeySet, error) {
	u, err := url.Parse(location)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return nil, fmt.Errorf("%w: not an absolute URL", ErrJWKSURIRefused)
	case u.User != nil:
		return nil, fmt.Errorf("%w: user information in the URL", ErrJWKSURIRefused)
	case u.Scheme == "https":
	case u.Scheme == "http" && f.policy.AllowHTTP:
	default:
		return nil, fmt.Errorf("%w: scheme %q (https only)", ErrJWKSURIRefused, u.Scheme)
	}
	ctx, cancel := context.WithTimeout(ctx, f.policy.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks_uri: status %d", resp.StatusCode)
	}
	if resp.ContentLength > f.policy.MaxBytes {
		return nil, fmt.Errorf("%w: the JWK Set is larger than %d bytes", ErrJWKSURIRefused, f.policy.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.policy.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read jwks_uri: %w", err)
	}
	if int64(len(body)) > f.policy.MaxBytes {
		return nil, fmt.Errorf("%w: the JWK Set is larger than %d bytes", ErrJWKSURIRefused, f.policy.MaxBytes)
	}
	var set fositejose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode jwks_uri: %w", err)
	}
	return &set, nil
}

// refuseNonPublicAddress is the dialer's Control function: it runs for
// every connection with the address the name resolved to, so neither a name
// pointing at an internal address nor DNS rebinding between a check and the
// connection gets past it.
func refuseNonPublicAddress(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparseable address %q", ErrJWKSURIRefused, address)
	}
	if !IsPublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrJWKSURIRefused, ap.Addr())
	}
	return nil
}

// nonPublic are the special-purpose ranges (IANA IPv4 and IPv6
// Special-Purpose Address Registries) a jwks_uri must not reach, beyond
// what netip's predicates name.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: embeds any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo etc.)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4 address
}

// IsPublicAddress reports whether a is a globally reachable unicast address:
// not loopback, private, link-local, multicast, unspecified or another
// special-purpose range. IPv4-mapped IPv6 addresses are judged as IPv4.
func IsPublicAddress(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
