package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// An attacker who knows alice's password alternates wrong second factors
// (TOTP codes, recovery codes, passkey responses) with signing in again,
// each round in a new browser (a new flow, new cookies). The password must
// not wipe the failures before it: the fifth wrong factor locks the account,
// audited as account.locked, and the lock then refuses the password and the
// right code alike.
func TestPasswordDoesNotResetSecondFactorFailures(t *testing.T) {
	e := startWith(t, func(c *server.Config) {
		c.Authz.Issuer = servertest.Localhost
		// no waits (they would only slow the test down): the lock decides
		c.Authz.LoginThrottle = throttle.Config{
			Account: throttle.Policy{FreeFailures: 100, MaxFailures: 5, LockDuration: 15 * time.Minute, Window: 15 * time.Minute},
			IP:      throttle.Policy{FreeFailures: 1000, MaxFailures: 10000, LockDuration: time.Minute, Window: time.Minute},
		}
	})
	b, secret, page := e.mfaFixture(t)
	authURL := func(clientID string) string {
		v := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
			"scope": {"openid"}, "state": {randString()}, "prompt": {"login"}}
		return e.issuer + "/oauth2/authorize?" + v.Encode()
	}
	// the fixture's client is the only one requiring MFA; its id is in the page's flow
	clientID := e.mfaClientID(t)
	// a code far from now: never valid
	wrongCode := func(i int) string {
		c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(10+i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wrong := []url.Values{
		{"method": {"totp"}, "code": {wrongCode(0)}},
		{"method": {"recovery"}, "code": {"aaaa-bbbb-cccc"}},
		{"method": {"webauthn"}, "response": {`{"id":"x","rawId":"eA","type":"public-key","response":{}}`}},
		{"method": {"totp"}, "code": {wrongCode(1)}},
	}
	post := func(b *browser, page string, extra url.Values) (*http.Response, string) {
		f := formFields(t, page)
		for k, v := range extra {
			f[k] = v
		}
		return b.post(e.issuer+"/login/mfa", f)
	}
	password := func(b *browser) (*http.Response, string) {
		_, body := b.get(authURL(clientID))
		f := formFields(t, body)
		f.Set("username", "alice")
		f.Set("password", testPassword)
		return b.post(e.issuer+"/login", f)
	}
	failures := 0
	var locked *http.Response
	for round := 0; round < 3 && locked == nil; round++ {
		if round > 0 {
			b = newBrowser(t) // a second browser continues the count
			resp, body := password(b)
			if resp.Request.URL.Path != "/login/mfa" {
				t.Fatalf("round %d: the password did not lead to the second factor: %d at %s", round, resp.StatusCode, resp.Request.URL)
			}
			page = body
		}
		for _, w := range wrong {
			resp, body := post(b, page, w)
			if resp.StatusCode == http.StatusTooManyRequests {
				locked = resp
				break
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong factor %v: %d %s", w.Get("method"), resp.StatusCode, body)
			}
			failures++
		}
	}
	if failures != 5-1 && locked == nil {
		t.Fatalf("%d wrong second factors were checked and the account is not locked", failures)
	}
	if failures > 5 {
		t.Fatalf("%d wrong second factors were checked; the policy locks at 5", failures)
	}
	// The fifth failure locked: the answer after it is 429 with Retry-After.
	if locked == nil {
		t.Fatal("no lock after 5 failures")
	}
	if ra, err := strconv.Atoi(locked.Header.Get("Retry-After")); err != nil || ra < 60 {
		t.Fatalf("Retry-After of the lock = %q", locked.Header.Get("Retry-After"))
	}
	ev, err := e.srv.Store.ListAudit(context.Background(), storage.AuditFilter{Action: "account.locked", Target: e.userID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 {
		t.Fatalf("account.locked audit events: %d, want 1", len(ev))
	}
	// Locked: the right password and the right code are refused too.
	b2 := newBrowser(t)
	if resp, body := password(b2); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
		t.Fatalf("password while locked: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	if resp, _ := post(b, page, url.Values{"method": {"totp"}, "code": {code}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right code while locked: %d", resp.StatusCode)
	}
}

// mfaClientID is the id of the one client (of mfaFixture) that requires MFA.
func (e *env) mfaClientID(t *testing.T) string {
	t.Helper()
	cs, err := e.srv.Store.ListClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Metadata.RequireMFA {
			return c.ID
		}
	}
	t.Fatal("no client requires MFA")
	return ""
}

// loginPages opens n login pages (each its own flow and browser) for client.
func (e *env) loginPages(t *testing.T, clientID string, n int) ([]*browser, []url.Values) {
	t.Helper()
	bs, forms := make([]*browser, n), make([]url.Values, n)
	for i := range n {
		bs[i] = newBrowser(t)
		v := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
			"scope": {"openid"}, "state": {randString()}}
		resp, body := bs[i].get(e.issuer + "/oauth2/authorize?" + v.Encode())
		if resp.Request.URL.Path != "/login" {
			t.Fatalf("expected the login page, got %d at %s", resp.StatusCode, resp.Request.URL)
		}
		forms[i] = formFields(t, body)
	}
	return bs, forms
}

// burst posts every form to /login at once (released together) and returns
// the responses.
func (e *env) burst(t *testing.T, bs []*browser, forms []url.Values) []*http.Response {
	t.Helper()
	resps := make([]*http.Response, len(bs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range bs {
		// what a burst proves is counted, not timed: on a loaded machine
		// (the race detector, other tests) the admitted argon2id checks
		// queue for the hashing slots far beyond a browser's usual 10 s
		c := *bs[i].c
		c.Timeout = 3 * time.Minute
		wg.Go(func() {
			<-start
			resp, err := c.PostForm(e.issuer+"/login", forms[i])
			if err != nil {
				t.Errorf("POST /login: %v", err)
				return
			}
			resp.Body.Close()
			resps[i] = resp
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return resps
}

// 40 parallel logins (40 usernames) from one address: no more passwords are
// checked than the address's policy allows one after the other
// (FreeFailures + 1 before its first wait); the rest are refused with 429
// and Retry-After, never 5xx.
func TestParallelLoginsFromOneAddressAreAdmittedUpToTheLimit(t *testing.T) {
	e := startWith(t, func(c *server.Config) {
		// hashing slots are not what this test is about: never busy
		c.Authz.PasswordHashing = password.HashLimits{Wait: time.Minute}
		// The server's clock stands still, so the address's wait after its
		// free failures never runs out during the burst: on a loaded
		// machine the 40 requests arrive over more than that wait (1 s),
		// and an attempt after it is rightly admitted, as one after the
		// other would be.
		c.Now = servertest.NewClock(time.Now()).Now
	})
	e.createClient(webClient("authorization_code"))
	id := e.clientIDByName(t)
	const n = 40
	bs, forms := e.loginPages(t, id, n)
	for i := range forms {
		forms[i].Set("username", fmt.Sprintf("guess-%d", i))
		forms[i].Set("password", "wrong password number "+strconv.Itoa(i))
	}
	checked, refused := 0, 0
	for _, resp := range e.burst(t, bs, forms) {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			refused++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		default:
			t.Fatalf("unexpected status %d", resp.StatusCode)
		}
	}
	limit := throttle.Default.IP.FreeFailures + 1
	if checked != limit {
		t.Fatalf("%d of %d parallel logins from one address were checked, want %d (as one after the other)", checked, n, limit)
	}
	t.Logf("checked %d, refused %d", checked, refused)
}

// A burst beyond the hashing bound is answered 503 with Retry-After (the
// server is busy, not the client at fault), and never more argon2id
// computations run at once than the bound, measured by the server's own
// high-water mark.
func TestPasswordHashingBurstIsBoundedAndAnswersBusy(t *testing.T) {
	const bound = 2
	e := startWith(t, func(c *server.Config) {
		c.Authz.PasswordHashing = password.HashLimits{Concurrent: bound, Wait: time.Millisecond}
		lax := throttle.Policy{FreeFailures: 1000, MaxFailures: 10000, LockDuration: time.Second, Window: time.Minute}
		c.Authz.LoginThrottle = throttle.Config{Account: lax, IP: lax}
	})
	e.createClient(webClient("authorization_code"))
	id := e.clientIDByName(t)
	const n = 40
	bs, forms := e.loginPages(t, id, n)
	for i := range forms {
		forms[i].Set("username", "alice")
		if i%2 == 0 {
			forms[i].Set("username", fmt.Sprintf("nobody-%d", i)) // unknown users cost the same
		}
		forms[i].Set("password", "wrong password number "+strconv.Itoa(i))
	}
	checked, busy := 0, 0
	for _, resp := range e.burst(t, bs, forms) {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			checked++
		case http.StatusServiceUnavailable:
			busy++
			if resp.Header.Get("Retry-After") != "1" {
				t.Errorf("503 Retry-After = %q, want 1", resp.Header.Get("Retry-After"))
			}
		case http.StatusTooManyRequests:
			// alice's parallel attempts are answered one at a time
		default:
			t.Fatalf("unexpected status %d", resp.StatusCode)
		}
	}
	st := e.srv.Passwords.Limiter.Stats()
	t.Logf("checked %d, busy %d, stats %+v", checked, busy, st)
	if st.Bound != bound || st.Peak > bound || st.Peak == 0 {
		t.Fatalf("hashing stats %+v: the peak must be 1..%d", st, bound)
	}
	if busy == 0 || int64(busy) != st.Refused {
		t.Fatalf("%d busy answers, %d refusals counted: a burst of %d beyond %d slots must get busy answers", busy, st.Refused, n, bound)
	}
	if checked == 0 {
		t.Fatal("no login was checked")
	}
}

// clientIDByName returns the id of the newest "Test App" client.
func (e *env) clientIDByName(t *testing.T) string {
	t.Helper()
	cs, err := e.srv.Store.ListClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == "Test App" {
			return c.ID
		}
	}
	t.Fatal("no test client")
	return ""
}
