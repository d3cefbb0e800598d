package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server"
)

// lockedBuffer collects a process's output for the test to read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var reDevCurl = regexp.MustCompile(`curl -s -u (\S+):(\S+) -d grant_type=client_credentials -d scope=openid (http://\S+)/oauth2/token`)

// TestSIGTERMDrainsReadinessBeforeTheListenerCloses runs the real binary and
// sends it SIGTERM: /readyz turns 503 (with Retry-After) at once while
// /healthz and the token endpoint still answer, the listener stays open for
// the drain period, then closes, and the process exits cleanly.
func TestSIGTERMDrainsReadinessBeforeTheListenerCloses(t *testing.T) {
	bin, err := cliBinary()
	if err != nil {
		t.Fatalf("build strongroom: %v", err)
	}
	const drain = 2 * time.Second
	var out, errOut lockedBuffer
	cmd := exec.Command(bin, "serve", "--dev", "--listen", "127.0.0.1:0", "--admin-listen", "off", "--shutdown-drain", drain.String())
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	var m []string
	if !poll(30*time.Second, func() bool { m = reDevCurl.FindStringSubmatch(out.String()); return m != nil }) {
		t.Fatalf("no demo block:\n%s\n%s", out.String(), errOut.String())
	}
	clientID, secret, issuer := m[1], m[2], m[3]
	addr := strings.TrimPrefix(issuer, "http://")
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	status := func(path string) (int, http.Header) {
		resp, err := hc.Get(issuer + path)
		if err != nil {
			return 0, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	token := func() int {
		req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clientID, secret)
		resp, err := hc.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if !poll(10*time.Second, func() bool { code, _ := status("/readyz"); return code == http.StatusOK }) {
		t.Fatalf("never ready:\n%s", errOut.String())
	}

	// An in-flight request: headers sent, body pending across the drain.
	inflight, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer inflight.Close()
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth2/token", nil)
	req.SetBasicAuth(clientID, secret)
	_, err = io.WriteString(inflight, "POST /oauth2/token HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: "+req.Header.Get("Authorization")+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var readyz int
	var h http.Header
	if !poll(drain/2, func() bool { readyz, h = status("/readyz"); return readyz == http.StatusServiceUnavailable }) {
		t.Fatalf("/readyz still %d %v after SIGTERM", readyz, time.Since(sent))
	}
	if h.Get("Retry-After") != strconv.Itoa(server.RetryAfterSeconds) {
		t.Errorf("draining /readyz without Retry-After: %v", h)
	}
	// Everything else is still served while the load balancer catches up.
	if code, _ := status("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz during the drain: %d", code)
	}
	if code := token(); code != http.StatusOK {
		t.Errorf("token request during the drain: %d", code)
	}
	if time.Since(sent) > drain-300*time.Millisecond {
		t.Fatalf("the checks took %v, longer than the drain allows to judge", time.Since(sent))
	}

	// The listener closes after the drain, not before.
	var closedAfter time.Duration
	listenerClosed := func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			closedAfter = time.Since(sent)
			return true
		}
		c.Close()
		return false
	}
	if !poll(drain+10*time.Second, listenerClosed) {
		t.Fatalf("the listener still accepts %v after SIGTERM", time.Since(sent))
	}
	if closedAfter < drain {
		t.Errorf("the listener closed %v after SIGTERM, before the %v drain", closedAfter, drain)
	}
	// The request in flight since before SIGTERM still gets its answer.
	if _, err := io.WriteString(inflight, body); err != nil {
		t.Fatalf("finishing the in-flight request: %v", err)
	}
	_ = inflight.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(inflight), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight request across the drain: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited: %v\n%s", err, errOut.String())
		}
		exited <- nil // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatalf("serve still running after the drain\n%s", errOut.String())
	}
}
