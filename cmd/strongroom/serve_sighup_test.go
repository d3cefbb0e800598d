package main

import (
	"crypto/tls"
	"io"
	"math/big"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGHUPReloadsCertificateKeepingConnections: after the
// certificate files are renewed on disk, SIGHUP makes new handshakes get the
// new certificate while a client's open keep-alive connection keeps working;
// a broken pair on the next SIGHUP is logged and the previous certificate
// stays; the server never stops.
func TestServeSIGHUPReloadsCertificateKeepingConnections(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, first := writeSelfSigned(t, dir)
	addr := freeAddr(t)
	issuer := "https://" + addr
	s := startServe(t, prodEnv(t), "serve", "--tls-cert", certFile, "--tls-key", keyFile, "--issuer", issuer, "--listen", addr,
		"--admin-listen", "off")
	s.waitListening()

	// The client pins nothing: it records which certificate each connection saw.
	kept := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer kept.CloseIdleConnections()
	get := func(c *http.Client) (serial *big.Int, reused bool) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, issuer+"/healthz", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET /healthz: %v\n%s", err, s.dump())
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber, reused
	}
	fresh := func() *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	if serial, _ := get(kept); serial.Cmp(first.SerialNumber) != 0 {
		t.Fatalf("first connection saw serial %v, want %v", serial, first.SerialNumber)
	}

	_, _, second := writeSelfSigned(t, dir) // renewed on disk
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the reload log line", func() bool { return strings.Contains(s.log.String(), "TLS certificate reloaded") })
	if serial, reused := get(kept); !reused || serial.Cmp(first.SerialNumber) != 0 {
		t.Errorf("open connection after reload: reused %v, serial %v; want the same connection and certificate", reused, serial)
	}
	if serial, _ := get(fresh()); serial.Cmp(second.SerialNumber) != 0 {
		t.Fatalf("a new connection after SIGHUP saw serial %v, want the renewed %v", serial, second.SerialNumber)
	}

	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the failed-reload log line", func() bool { return strings.Contains(s.log.String(), "TLS certificate not reloaded") })
	if serial, _ := get(fresh()); serial.Cmp(second.SerialNumber) != 0 {
		t.Fatalf("after a broken pair, serial %v; want the previous %v kept", serial, second.SerialNumber)
	}
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, s.dump())
	}
}

// TestServeSIGHUPWithoutTLSKeepsServing: SIGHUP to a plain-HTTP server
// (which used to kill it silently) is logged and the server keeps serving.
func TestServeSIGHUPWithoutTLSKeepsServing(t *testing.T) {
	s, d := startDev(t, "--admin-listen", "off")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the SIGHUP log line", func() bool { return strings.Contains(s.log.String(), "no TLS certificate to reload") })
	resp, err := http.Get(d.discovery)
	if err != nil {
		t.Fatalf("server gone after SIGHUP: %v", err)
	}
	resp.Body.Close()
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
}
