package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/server"
)

// rawStatus sends one HTTP/1.1 GET of target with the given extra header
// lines over a fresh TCP connection and returns the response status. The
// request is written byte for byte, so the sizes the limits see are exact:
// the header fields are "Host: <addr>\r\n", the extra lines and
// "Connection: close\r\n".
func rawStatus(t *testing.T, addr, target string, extra ...string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + target + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	for _, h := range extra {
		req += h + "\r\n"
	}
	req += "Connection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a %d-byte target: %v", len(target), err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// padTarget is path plus a query that makes the request target exactly n bytes.
func padTarget(path string, n int) string {
	prefix := path + "?pad="
	return prefix + strings.Repeat("a", n-len(prefix))
}

// padHeader is one "X-Pad: aaa…" line that makes the header fields exactly
// n bytes on a connection to addr (see rawStatus).
func padHeader(addr string, n int) string {
	fixed := len("Host: "+addr+"\r\n") + len("Connection: close\r\n") + len("X-Pad: \r\n")
	return "X-Pad: " + strings.Repeat("a", n-fixed)
}

// TestOversizeRequestTargetAndHeadersAreRefused: on the public and the admin
// listener, a request target over 8 KiB is 414 and header fields over
// 16 KiB are 431, before any handler runs; at the limits the request gets
// its normal answer.
func TestOversizeRequestTargetAndHeadersAreRefused(t *testing.T) {
	e := start(t)
	adm := e.startAdmin()
	for name, tc := range map[string]struct {
		addr, path string
		normal     int
	}{
		"public": {strings.TrimPrefix(e.issuer, "http://"), "/healthz", http.StatusOK},
		"admin":  {strings.TrimPrefix(adm.url, "http://"), "/admin/v1/clients", http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			cases := []struct {
				name   string
				target string
				header string
				want   int
			}{
				{"ok/target-at-limit", padTarget(tc.path, server.MaxRequestURIBytes), "", tc.normal},
				{"fail/target-over-limit", padTarget(tc.path, server.MaxRequestURIBytes+1), "", http.StatusRequestURITooLong},
				{"fail/target-far-over-limit", padTarget(tc.path, 20<<10), "", http.StatusRequestURITooLong},
				{"ok/headers-at-limit", tc.path, padHeader(tc.addr, server.MaxHeaderBytes), tc.normal},
				{"fail/headers-over-limit", tc.path, padHeader(tc.addr, server.MaxHeaderBytes+1), http.StatusRequestHeaderFieldsTooLarge},
				{"fail/headers-far-over-limit", tc.path, padHeader(tc.addr, 64<<10), http.StatusRequestHeaderFieldsTooLarge},
				{"ok/both-at-limit", padTarget(tc.path, server.MaxRequestURIBytes), padHeader(tc.addr, server.MaxHeaderBytes), tc.normal},
			}
			for _, c := range cases {
				var extra []string
				if c.header != "" {
					extra = append(extra, c.header)
				}
				if got := rawStatus(t, tc.addr, c.target, extra...); got != c.want {
					t.Errorf("%s: %d, want %d", c.name, got, c.want)
				}
			}
		})
	}
	// A real client library sees the 414 as a status, not a broken connection.
	resp, err := http.Get(e.issuer + "/oauth2/authorize?state=" + strings.Repeat("s", 9<<10))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestURITooLong || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("authorize with a 9 KiB query: %d %v", resp.StatusCode, resp.Header)
	}
}

// flowForms returns the stored parameters of every pending flow.
func (e *env) flowForms(t *testing.T) []string {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(context.Background(), "SELECT form FROM auth_flows")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// TestUnauthenticatedAuthorizeStoresABoundedFlow: a browser without a
// session posting an authorization request padded with 30 KB of unknown
// parameters gets its login page, and the stored flow holds only the
// parameters the server understands; understood parameters beyond 8 KiB are
// refused to the client (invalid_request) and store nothing.
func TestUnauthenticatedAuthorizeStoresABoundedFlow(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	e.createClient(c)
	_, challenge := pkcePair()
	good := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	padded := url.Values{}
	for k, v := range good {
		padded[k] = v
	}
	for i := range 30 {
		padded.Set(fmt.Sprintf("x_pad_%d", i), strings.Repeat("p", 1000))
	}
	resp, body := newBrowser(t).post(e.issuer+"/oauth2/authorize", padded)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("padded request: no login page: %d %.300s", resp.StatusCode, body)
	}
	forms := e.flowForms(t)
	if len(forms) != 1 || len(forms[0]) > 1024 || strings.Contains(forms[0], "x_pad") {
		t.Fatalf("stored flows %d, first %d bytes: %.200q", len(forms), len(forms[0]), forms[0])
	}

	huge := url.Values{}
	for k, v := range good {
		huge[k] = v
	}
	huge.Set("state", strings.Repeat("s", 9<<10))
	b := newBrowser(t)
	resp, _ = b.post(e.issuer+"/oauth2/authorize", huge)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), redirectURI) ||
		loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("oversize request: %d %.200s; want a redirect with error=invalid_request", resp.StatusCode, loc)
	}
	if n := len(e.flowForms(t)); n != 1 {
		t.Fatalf("the oversize request stored a flow (%d flows)", n)
	}
}
