package clientauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	fositejose "github.com/go-jose/go-jose/v3"
)

// jwksServer serves a one-key JWK Set and counts the requests it got.
func jwksServer(t *testing.T, tls bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	doc, err := json.Marshal(fositejose.JSONWebKeySet{Keys: []fositejose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	must(t, err)
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(doc)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &hits
}

// wantRefused fails unless err is a policy refusal (ErrJWKSURIRefused).
func wantRefused(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, ErrJWKSURIRefused) {
		t.Fatalf("%s: error = %v, want a refusal (ErrJWKSURIRefused)", what, err)
	}
}

// TestJWKSFetchRefusesLoopbackPrivateAndLinkLocalAddresses: a jwks_uri that
// reaches a non-public address (here the loopback test server, by IP and by
// a name that resolves to it) is refused when the connection is dialled,
// after resolution, so the server receives no request; explicitly allowed,
// the same URI is fetched.
func TestJWKSFetchRefusesLoopbackPrivateAndLinkLocalAddresses(t *testing.T) {
	srv, hits := jwksServer(t, false)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	f := NewJWKSFetcher(JWKSFetchPolicy{AllowHTTP: true})
	for _, uri := range []string{
		srv.URL + "/jwks.json",                         // 127.0.0.1
		"http://localhost:" + port + "/jwks.json",      // a name resolving to loopback
		"http://169.254.169.254/latest/meta-data/keys", // cloud metadata (refused before any packet)
		"http://10.0.0.1/jwks.json",
		"http://[::1]:" + port + "/jwks.json",
		"http://[::ffff:127.0.0.1]:" + port + "/jwks.json",
	} {
		_, err := f.Resolve(t.Context(), uri, false)
		wantRefused(t, err, uri)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests from a refused fetch", n)
	}
	allowed := NewJWKSFetcher(JWKSFetchPolicy{AllowHTTP: true, AllowPrivateAddresses: true})
	set, err := allowed.Resolve(t.Context(), srv.URL+"/jwks.json", false)
	must(t, err)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != "k1" {
		t.Fatalf("fetched %+v", set)
	}
}

// TestIsPublicAddress: the address check behind the dialer, including the
// IPv6 forms that embed an IPv4 address.
func TestIsPublicAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700:4700::1111": true, "93.184.216.34": true,
		"127.0.0.1": false, "127.8.9.10": false, "::1": false, "0.0.0.0": false, "::": false,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "fd00::1": false,
		"169.254.169.254": false, "fe80::1": false, "100.64.0.1": false, "224.0.0.1": false,
		"255.255.255.255": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
		"64:ff9b::a9fe:a9fe": false, "2002:7f00:1::": false, "192.0.2.1": false, "198.18.0.1": false,
	} {
		if got := IsPublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPublicAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestJWKSFetchIsHTTPSOnly: an http jwks_uri is refused before any
// connection unless the policy allows http (a development issuer); https
// is fetched.
func TestJWKSFetchIsHTTPSOnly(t *testing.T) {
	plain, plainHits := jwksServer(t, false)
	f := NewJWKSFetcher(JWKSFetchPolicy{AllowPrivateAddresses: true})
	_, err := f.Resolve(t.Context(), plain.URL+"/jwks.json", false)
	wantRefused(t, err, "http jwks_uri")
	if n := plainHits.Load(); n != 0 {
		t.Fatalf("an http jwks_uri was fetched (%d requests)", n)
	}
	for _, uri := range []string{"file:///etc/passwd", "gopher://x.example/", "https://user:pw@x.example/jwks"} {
		_, err := f.Resolve(t.Context(), uri, false)
		wantRefused(t, err, uri)
	}
	secure, _ := jwksServer(t, true)
	pool := secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	f = NewJWKSFetcher(JWKSFetchPolicy{AllowPrivateAddresses: true, RootCAs: pool})
	_, err = f.Resolve(t.Context(), secure.URL+"/jwks.json", false)
	must(t, err)
}

// TestJWKSFetchTimesOut: a jwks_uri that never answers costs the request at
// most the fetch timeout, not a goroutine held forever.
func TestJWKSFetchTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	const timeout = 300 * time.Millisecond
	f := NewJWKSFetcher(JWKSFetchPolicy{AllowHTTP: true, AllowPrivateAddresses: true, Timeout: timeout})
	start := time.Now()
	_, err := f.Resolve(t.Context(), srv.URL+"/jwks.json", false)
	if err == nil {
		t.Fatal("a hanging jwks_uri was answered")
	}
	// generous above the timeout (slow CI), far below "forever"
	if d := time.Since(start); d > timeout+5*time.Second {
		t.Fatalf("the fetch took %v with a %v timeout", d, timeout)
	}
}

// TestJWKSFetchCapsTheResponseSize: a JWK Set document over the cap is
// refused whether or not it declares its length; one under it is read.
func TestJWKSFetchCapsTheResponseSize(t *testing.T) {
	const limit = 4 << 10
	big := `{"keys":[],"pad":"` + strings.Repeat("a", 4*limit) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			_, _ = w.Write([]byte(big)) // Content-Length set by the server
		case "/chunked":
			for i := 0; i < len(big); i += 512 {
				_, _ = w.Write([]byte(big[i:min(i+512, len(big))]))
				w.(http.Flusher).Flush()
			}
		default:
			_, _ = w.Write([]byte(`{"keys":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	f := NewJWKSFetcher(JWKSFetchPolicy{AllowHTTP: true, AllowPrivateAddresses: true, MaxBytes: limit})
	for _, path := range []string{"/declared", "/chunked"} {
		_, err := f.Resolve(t.Context(), srv.URL+path, false)
		wantRefused(t, err, path)
	}
	_, err := f.Resolve(t.Context(), srv.URL+"/small", false)
	must(t, err)
}

// TestJWKSFetchDoesNotFollowRedirects: a jwks_uri that redirects (to an
// address the policy would otherwise allow) is refused; the target gets no
// request.
func TestJWKSFetchDoesNotFollowRedirects(t *testing.T) {
	target, hits := jwksServer(t, false)
	srv := httptest.NewServer(http.RedirectHandler(target.URL+"/jwks.json", http.StatusFound))
	t.Cleanup(srv.Close)
	f := NewJWKSFetcher(JWKSFetchPolicy{AllowHTTP: true, AllowPrivateAddresses: true})
	_, err := f.Resolve(t.Context(), srv.URL, false)
	wantRefused(t, err, "redirect")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

// TestJWKSFetchCachesAndSharesOneFetch: a cached set is reused until
// ignoreCache; parallel fetches of one URI are one request.
func TestJWKSFetchCachesAndSharesOneFetch(t *testing.T) {
	srv, hits := jwksServer(t, false)
	f := NewJWKSFetcher(JWKSFetchPolicy{AllowHTTP: true, AllowPrivateAddresses: true})
	for range 3 {
		_, err := f.Resolve(t.Context(), srv.URL, false)
		must(t, err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("3 cached resolves made %d requests, want 1", n)
	}
	_, err := f.Resolve(t.Context(), srv.URL, true)
	must(t, err)
	if n := hits.Load(); n != 2 {
		t.Fatalf("a forced refresh made %d requests in all, want 2", n)
	}
}
