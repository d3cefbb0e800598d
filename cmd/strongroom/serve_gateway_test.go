package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeGatewayFlagsAreCheckedBeforeStart: the forward-auth listener
// needs its routes file, a routes file needs the listener, the cache TTL
// is bounded, and a routes file with a problem is a usage error naming it.
func TestServeGatewayFlagsAreCheckedBeforeStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("routes:\n  - path: payments\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(good, []byte("routes:\n  - path: /a/\n    scopes: [x]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--gateway-listen", "127.0.0.1:0"}, "--gateway-listen needs --gateway-routes"},
		{[]string{"--gateway-routes", good}, "--gateway-routes needs --gateway-listen"},
		{[]string{"--gateway-listen", "127.0.0.1:0", "--gateway-routes", good, "--gateway-cache-ttl", "2m"}, "--gateway-cache-ttl must be between"},
		{[]string{"--gateway-listen", "127.0.0.1:0", "--gateway-routes", bad}, "routes[0]"},
		{[]string{"--gateway-listen", "nonsense", "--gateway-routes", good}, "--gateway-listen"},
	} {
		args := append([]string{"serve", "--dev", "--listen", "127.0.0.1:0", "--admin-listen", "off"}, c.args...)
		r, _ := runServeOnce(t, env{}, args...)
		if r.code != exitUsage || !strings.Contains(r.errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error with %q", c.args, r.code, r.errOut, c.want)
		}
	}
}

// TestServeRunsTheGatewayCheckOnItsOwnListener: with --gateway-listen the
// check answers there (401 with a Bearer challenge without a token), and
// not on the public listener.
func TestServeRunsTheGatewayCheckOnItsOwnListener(t *testing.T) {
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(routes, []byte("routes:\n  - path: /a/\n    scopes: [x]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	s, d := startDev(t, "--admin-listen", "off", "--gateway-listen", addr, "--gateway-routes", routes)
	s.waitFor("the gateway listener", func() bool { return strings.Contains(s.log.String(), "gateway check listening") })
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/gateway/check", nil)
	req.Header.Set("X-Forwarded-Uri", "/a/1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("gateway check: %v\n%s", err, s.dump())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("gateway check without a token: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Get(d.issuer + "/gateway/check")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("gateway check on the public listener: %d", resp.StatusCode)
	}
}
