package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/backchannel"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// logoutReceiver is a relying party's logout side: the page the browser
// returns to after logout and the back-channel logout endpoint.
type logoutReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	tokens []string
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	lr := &logoutReceiver{}
	lr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/backchannel":
			if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("logout_token") == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			lr.mu.Lock()
			lr.tokens = append(lr.tokens, r.PostForm.Get("logout_token"))
			lr.mu.Unlock()
		case "/logged-out":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>Test RP</title><h1 id="rp-logged-out">Signed out at the relying party</h1>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(lr.srv.Close)
	return lr
}

func (lr *logoutReceiver) wait(t *testing.T) string {
	t.Helper()
	var first string
	delivered := func() bool {
		lr.mu.Lock()
		defer lr.mu.Unlock()
		if len(lr.tokens) > 0 {
			first = lr.tokens[0]
		}
		return first != ""
	}
	servertest.Eventually(t, 10*time.Second, "a back-channel logout token to reach the relying party", delivered)
	return first
}

// A user logs in in Chromium, the relying party sends the browser to the
// end-session endpoint (RP-Initiated Logout, without id_token_hint: the
// user confirms on the page), the browser lands on the registered
// post-logout page with the state, the session is gone, and a signed
// back-channel logout token for that session reaches the relying party.
func TestLogoutInBrowser(t *testing.T) {
	t.Parallel()
	e := startEnv(t, func(c *server.Config) {
		c.Backchannel = backchannel.Config{PollInterval: 50 * time.Millisecond, BaseDelay: 100 * time.Millisecond}
	})
	userID := e.createUser("dave", carolPassword)
	lr := newLogoutReceiver(t)
	postLogout := lr.srv.URL + "/logged-out"
	rp := newRP(t, e, func(c *storage.Client) {
		c.PostLogoutRedirectURIs = []string{postLogout}
		c.Metadata.BackchannelLogoutURI = lr.srv.URL + "/backchannel"
	})
	b := newChrome(t)

	ar := rp.authURL()
	b.run(chromedp.Navigate(ar.URL))
	b.signIn("dave", carolPassword)
	b.run(chromedp.WaitVisible(chromedp.CSS("button[value=allow]")),
		chromedp.Click(chromedp.CSS("button[value=allow]")), chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	var idClaims struct {
		SID string `json:"sid"`
	}
	if err := rp.idToken(ar).Claims(&idClaims); err != nil || idClaims.SID == "" {
		t.Fatalf("ID token sid: %v", err)
	}

	state := randString()
	logout := e.Issuer + authz.PathLogout + "?" + url.Values{
		"client_id": {rp.client.ID}, "post_logout_redirect_uri": {postLogout}, "state": {state},
	}.Encode()
	b.run(chromedp.Navigate(logout), chromedp.WaitVisible(chromedp.CSS("button[value=logout]")))
	if got := b.text("h2"); got != "Sign out?" {
		t.Fatalf("confirmation page heading %q", got)
	}
	b.screenshot("10-logout-confirm")
	b.run(chromedp.Click(chromedp.CSS("button[value=logout]")), chromedp.WaitVisible(chromedp.CSS("#rp-logged-out")))
	loc, _ := url.Parse(b.location())
	if !strings.HasPrefix(loc.String(), postLogout) || loc.Query().Get("state") != state {
		t.Fatalf("after logout the browser is at %s", loc)
	}
	if sessions, err := e.store().ListBrowserSessions(context.Background(), userID); err != nil || len(sessions) != 0 {
		t.Fatalf("sessions after logout: %v %v", sessions, err)
	}

	// The relying party receives a logout token for that session.
	token := lr.wait(t)
	ctx := context.Background()
	payload, err := oidc.NewRemoteKeySet(ctx, e.Issuer+"/.well-known/jwks.json").VerifySignature(ctx, token)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	for _, want := range []string{`"sid":"` + idClaims.SID + `"`, `"sub":"` + userID + `"`, `"aud":"` + rp.client.ID + `"`,
		`"http://schemas.openid.net/event/backchannel-logout":{}`} {
		if !strings.Contains(string(payload), want) {
			t.Fatalf("logout token %s lacks %s", payload, want)
		}
	}

	// The browser is logged out: prompt=none now answers login_required.
	ar = rp.authURL(oauth2.SetAuthURLParam("prompt", "none"))
	b.run(chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	if loc, _ := url.Parse(b.location()); loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none after logout: %s", loc)
	}

	// The logged-out page of the server itself (no redirect URI given).
	b.run(chromedp.Navigate(e.Issuer+authz.PathLogout), chromedp.WaitVisible(chromedp.CSS("p[role=status]")))
	b.screenshot("11-logged-out")
}
