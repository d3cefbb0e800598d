package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/strongroom/strongroom/authz/backchannel"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

func TestServeSessionFlags(t *testing.T) {
	for name, tc := range map[string]struct {
		args    []string
		want    func(t *testing.T, cfg server.Config)
		wantErr string
	}{
		"ok/defaults": {
			want: func(t *testing.T, cfg server.Config) {
				if cfg.Authz.BrowserSessionIdleTimeout != 30*time.Minute || cfg.Authz.BrowserSessionLifespan != 12*time.Hour ||
					cfg.Backchannel.Timeout != 5*time.Second || cfg.Backchannel.MaxAttempts != 10 {
					t.Fatalf("defaults: %+v %+v", cfg.Authz, cfg.Backchannel)
				}
			},
		},
		"ok/custom": {
			args: []string{"--session-idle-timeout", "5m", "--session-lifetime", "8h", "--backchannel-logout-timeout", "2s", "--backchannel-logout-attempts", "3"},
			want: func(t *testing.T, cfg server.Config) {
				if cfg.Authz.BrowserSessionIdleTimeout != 5*time.Minute || cfg.Authz.BrowserSessionLifespan != 8*time.Hour ||
					cfg.Backchannel.Timeout != 2*time.Second || cfg.Backchannel.MaxAttempts != 3 {
					t.Fatalf("custom: %+v %+v", cfg.Authz, cfg.Backchannel)
				}
			},
		},
		"ok/idle-equal-to-lifetime": {args: []string{"--session-idle-timeout", "1h", "--session-lifetime", "1h"}},
		"fail/zero-idle":            {args: []string{"--session-idle-timeout", "0s"}, wantErr: "--session-idle-timeout must be positive"},
		"fail/negative-lifetime":    {args: []string{"--session-lifetime", "-1h"}, wantErr: "--session-lifetime must be positive"},
		"fail/zero-backchannel-timeout": {
			args: []string{"--backchannel-logout-timeout", "0s"}, wantErr: "--backchannel-logout-timeout must be positive",
		},
		"fail/zero-attempts":     {args: []string{"--backchannel-logout-attempts", "0"}, wantErr: "--backchannel-logout-attempts must be positive"},
		"fail/negative-attempts": {args: []string{"--backchannel-logout-attempts", "-2"}, wantErr: "--backchannel-logout-attempts must be positive"},
		"fail/idle-exceeds-lifetime": {
			args: []string{"--session-idle-timeout", "2h", "--session-lifetime", "1h"}, wantErr: "must not exceed --session-lifetime",
		},
	} {
		t.Run(name, func(t *testing.T) {
			var s sessionFlags
			fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			s.register(fl)
			if err := fl.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var cfg server.Config
			err := s.apply(&cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("apply: %v, want %q", err, tc.wantErr)
				}
				if cfg.Authz.BrowserSessionIdleTimeout != 0 || cfg.Authz.BrowserSessionLifespan != 0 || cfg.Backchannel != (backchannel.Config{}) {
					t.Fatalf("a refused flag changed the config: %+v", cfg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				tc.want(t, cfg)
			}
		})
	}
}

// Bad values are usage errors (exit 2) of the real command, refused before
// anything listens or opens.
func TestServeSessionFlagsUsage(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		msg  string
	}{
		"fail/idle-zero":          {[]string{"--session-idle-timeout", "0"}, "--session-idle-timeout must be positive"},
		"fail/lifetime-negative":  {[]string{"--session-lifetime", "-5m"}, "--session-lifetime must be positive"},
		"fail/timeout-zero":       {[]string{"--backchannel-logout-timeout", "0s"}, "--backchannel-logout-timeout must be positive"},
		"fail/attempts-zero":      {[]string{"--backchannel-logout-attempts", "0"}, "--backchannel-logout-attempts must be positive"},
		"fail/idle-over-lifetime": {[]string{"--session-idle-timeout", "13h"}, "must not exceed --session-lifetime (12h0m0s)"},
		"fail/attempts-not-int":   {[]string{"--backchannel-logout-attempts", "many"}, "invalid argument"},
	} {
		t.Run(name, func(t *testing.T) {
			r := run(t, env{}, "", append([]string{"serve", "--dev", "--listen", "127.0.0.1:0"}, tc.args...)...)
			wantFail(t, r, exitUsage, tc.msg)
			if strings.Contains(r.out, "issuer") {
				t.Fatalf("the server started:\n%s", r.out)
			}
		})
	}
	t.Run("ok/help-lists-the-flags", func(t *testing.T) {
		r := mustRun(t, env{}, "", "serve", "--help")
		for _, f := range []string{"--session-idle-timeout", "--session-lifetime", "--backchannel-logout-timeout", "--backchannel-logout-attempts"} {
			if !strings.Contains(r.out, f) {
				t.Errorf("serve --help lacks %s", f)
			}
		}
	})
}

var (
	reHiddenChallenge = regexp.MustCompile(`name="login_challenge" value="([^"]+)"`)
	reHiddenCSRF      = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// signInDemo signs the demo user in through the pages of a dev server,
// returning the browser's client (cookie jar, no redirects followed) and
// the response that set the session cookie.
func signInDemo(t *testing.T, d demoBlock) (*http.Client, *http.Response) {
	t.Helper()
	c, resp := postLogin(t, d, d.password, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login POST: %d", resp.StatusCode)
	}
	return c, resp
}

// postLogin starts the demo authorization request and posts the login form
// with password, and with an X-Forwarded-For header when xff is set.
func postLogin(t *testing.T, d demoBlock, password, xff string) (*http.Client, *http.Response) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := c.Get(d.authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Path != "/login" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = c.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ch, csrf := reHiddenChallenge.FindSubmatch(page), reHiddenCSRF.FindSubmatch(page)
	if ch == nil || csrf == nil {
		t.Fatalf("login page without challenge or CSRF token:\n%s", page)
	}
	form := url.Values{
		"login_challenge": {string(ch[1])}, "csrf_token": {string(csrf[1])},
		"username": {d.username}, "password": {password},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, loc.Scheme+"://"+loc.Host+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c, resp
}

// silentAuthError asks for prompt=none and returns the error the client gets.
func silentAuthError(t *testing.T, c *http.Client, d demoBlock) string {
	t.Helper()
	resp, err := c.Get(d.authorizeURL + "&prompt=none")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("prompt=none: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("error")
}

// The flags reach the running server: the session cookie lives for
// --session-lifetime, and a session unused for --session-idle-timeout is
// gone (prompt=none then answers login_required, not consent_required).
func TestServeSessionFlagsApplied(t *testing.T) {
	t.Parallel()
	_, d := startDev(t, "--session-idle-timeout", "2s", "--session-lifetime", "90m")
	c, resp := signInDemo(t, d)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "strongroom-session" {
			session = ck
		}
	}
	if session == nil || session.MaxAge != int((90*time.Minute).Seconds()) {
		t.Fatalf("session cookie %+v, want Max-Age %d (--session-lifetime 90m)", session, int((90 * time.Minute).Seconds()))
	}
	// The demo user has not consented yet: a live session makes prompt=none
	// fail on consent, not on login.
	if got := silentAuthError(t, c, d); got != "consent_required" {
		t.Fatalf("prompt=none with a fresh session: error %q, want consent_required", got)
	}
	time.Sleep(3 * time.Second)
	if got := silentAuthError(t, c, d); got != "login_required" {
		t.Fatalf("prompt=none after the idle timeout: error %q, want login_required", got)
	}
}

// --trusted-proxy: the login throttle and the audit trail take the client's
// address from X-Forwarded-For only when the peer is a trusted proxy.
func TestServeTrustedProxy(t *testing.T) {
	t.Run("fail/not-a-cidr", func(t *testing.T) {
		r := run(t, env{}, "", "serve", "--dev", "--listen", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "proxy.internal")
		wantFail(t, r, exitUsage, `--trusted-proxy: trusted proxy "proxy.internal" is not a CIDR prefix or an IP address`)
	})
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"ok/trusted-peer-names-the-client":   {[]string{"--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1"}, "198.51.100.7"},
		"fail/untrusted-peer-header-ignored": {[]string{"--trusted-proxy", "10.0.0.0/8"}, "127.0.0.1"},
		"fail/no-proxy-header-ignored":       {nil, "127.0.0.1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, d := startDev(t, append([]string{"--database-url", e[envDatabaseURL]}, tc.args...)...)
			if _, resp := postLogin(t, d, "not the password", "203.0.113.66, 198.51.100.7"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", resp.StatusCode)
			}
			st := openTestStore(t, e)
			events, err := st.ListAudit(t.Context(), storage.AuditFilter{Action: "login.password"})
			if err != nil || len(events) != 1 {
				t.Fatalf("audit: %+v %v", events, err)
			}
			if events[0].SourceIP != tc.want || events[0].Outcome == storage.OutcomeSuccess {
				t.Fatalf("audited source %q outcome %q, want %q", events[0].SourceIP, events[0].Outcome, tc.want)
			}
			if _, err := st.GetLoginThrottle(t.Context(), throttle.IPKey(tc.want)); err != nil {
				t.Fatalf("no failure counted for %s: %v", tc.want, err)
			}
		})
	}
}
