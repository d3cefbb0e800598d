package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/storage"
)

// Deleting a user, changing their password or resetting their second
// factors signs them out everywhere: tokens, sessions and sign-ins in
// progress (issue 7, item 2).

// cliInput is e.cli with standard input.
func (e *env) cliInput(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	bin, err := cliBinary()
	if err != nil {
		t.Fatalf("build strongroom: %v", err)
	}
	secret, kek := e.Secrets()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.DBURL,
		"STRONGROOM_SECRET="+base64.StdEncoding.EncodeToString(secret),
		"STRONGROOM_KEK="+base64.StdEncoding.EncodeToString(kek))
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("strongroom %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

// signedIn is what alice holds before the operator acts: tokens at two
// clients (one with a back-channel logout endpoint) from one browser, and a
// second sign-in in progress in another browser, past the login and
// waiting at the consent page.
type signedIn struct {
	rp               *relyingParty
	c, other         *storage.Client
	secret, otherSec string
	b                *browser
	tok, otherTok    *oauth2.Token
	sessionID        string
	consentB         *browser
	consentForm      url.Values
	consentClient    *storage.Client
}

func (e *env) signIn(t *testing.T, rp *relyingParty) *signedIn {
	t.Helper()
	s := &signedIn{rp: rp, b: newBrowser(t), consentB: newBrowser(t)}
	s.c = webClient("authorization_code", "refresh_token")
	s.c.Metadata.BackchannelLogoutURI = rp.srv.URL + "/backchannel"
	s.secret = e.createClient(s.c)
	s.other = webClient("authorization_code", "refresh_token")
	s.other.AccessTokenFormat = storage.TokenFormatJWT // JWT access tokens are revoked too
	s.otherSec = e.createClient(s.other)
	s.tok = e.tokensFor(t, s.b, s.c, s.secret, true, "openid", "offline_access")
	s.otherTok = e.tokensFor(t, s.b, s.other, s.otherSec, true, "openid", "offline_access")
	s.sessionID = e.onlySession(t).ID
	for _, check := range []struct {
		c      *storage.Client
		secret string
		tok    *oauth2.Token
	}{{s.c, s.secret, s.tok}, {s.other, s.otherSec, s.otherTok}} {
		if !e.active(t, check.c, check.secret, check.tok.AccessToken) || !e.active(t, check.c, check.secret, check.tok.RefreshToken) {
			t.Fatal("tokens not active before the operator acts")
		}
	}
	if code, _ := e.userinfo(t, s.tok.AccessToken); code != http.StatusOK {
		t.Fatalf("userinfo before the operator acts: %d", code)
	}
	// another browser signs in and stops at the consent page
	s.consentClient = webClient("authorization_code")
	e.createClient(s.consentClient)
	_, body := s.consentB.get(e.issuer + "/oauth2/authorize?" + authQuery(s.consentClient, "openid").Encode())
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	resp, body := s.consentB.post(e.issuer+"/login", f)
	if resp.Request.URL.Path != "/consent" {
		t.Fatalf("want the consent page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	s.consentForm = formFields(t, body)
	s.consentForm.Set("decision", "allow")
	return s
}

// userinfo calls the userinfo endpoint with a bearer token.
func (e *env) userinfo(t *testing.T, accessToken string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// wantSignedOut checks that nothing alice held before the operator acted
// works any more, and that the back-channel logout reached the client.
func (e *env) wantSignedOut(t *testing.T, s *signedIn) {
	t.Helper()
	for _, held := range []struct {
		c      *storage.Client
		secret string
		tok    *oauth2.Token
	}{{s.c, s.secret, s.tok}, {s.other, s.otherSec, s.otherTok}} {
		if e.active(t, held.c, held.secret, held.tok.AccessToken) {
			t.Errorf("client %s: the old access token introspects active", held.c.ID)
		}
		if e.active(t, held.c, held.secret, held.tok.RefreshToken) {
			t.Errorf("client %s: the old refresh token introspects active", held.c.ID)
		}
		if code, _ := e.userinfo(t, held.tok.AccessToken); code != http.StatusUnauthorized {
			t.Errorf("client %s: userinfo with the old access token: %d, want 401", held.c.ID, code)
		}
		// the client refreshes the way it always does: golang.org/x/oauth2
		conf := &oauth2.Config{ClientID: held.c.ID, ClientSecret: held.secret,
			Endpoint: oauth2.Endpoint{TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
		_, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: held.tok.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadRequest || re.ErrorCode != "invalid_grant" {
			t.Errorf("client %s: refresh with the old refresh token: %v, want 400 invalid_grant", held.c.ID, err)
		}
	}
	// the old browser session yields no code: the user must log in again
	if e.promptNone(t, s.b, s.c) {
		t.Error("the old browser session still yields a code with prompt=none")
	}
	resp, _ := s.b.get(e.issuer + "/oauth2/authorize?" + authQuery(s.c, "openid").Encode())
	if resp.Request.URL.Path != "/login" {
		t.Errorf("the old browser session: %d at %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
	// the sign-in waiting at the consent page yields no code either
	resp, body := s.consentB.post(e.issuer+"/consent", s.consentForm)
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode == http.StatusSeeOther && loc.Query().Get("code") != "" {
		t.Error("consent given after the operator acted still yields a code")
	} else if resp.StatusCode >= 500 {
		t.Errorf("consent after the operator acted: %d %s", resp.StatusCode, body)
	}
	// the client with a back-channel endpoint is told, for the ended session
	e.checkLogoutToken(t, s.rp.waitTokens(t, 1)[0], s.c.ID, e.userID, e.srv.OAuth.Authorizer.SessionSID(s.sessionID))
	if n := e.count(t, "SELECT count(*) FROM browser_sessions WHERE user_id = $1", e.userID); n != 0 {
		t.Errorf("%d sessions of the user left", n)
	}
}

func TestUserDeletionSignsTheUserOutEverywhere(t *testing.T) {
	for name, del := range map[string]func(t *testing.T, e *env){
		"cli": func(t *testing.T, e *env) { e.cli(t, "users", "delete", "alice", "--yes") },
		"admin-api": func(t *testing.T, e *env) {
			e.startAdmin().do(http.MethodDelete, "/admin/v1/users/alice", "", http.StatusNoContent, nil)
		},
	} {
		t.Run("ok/"+name, func(t *testing.T) {
			rp := newRelyingParty(t, 0)
			e := startWith(t, fastBackchannel)
			s := e.signIn(t, rp)
			del(t, e)
			e.wantSignedOut(t, s)
			for _, table := range []string{"oauth2_requests", "consents", "auth_flows", "pending_logins"} {
				col := "subject"
				if table == "consents" || table == "pending_logins" {
					col = "user_id"
				}
				if n := e.count(t, "SELECT count(*) FROM "+table+" WHERE "+col+" = $1", e.userID); n != 0 {
					t.Errorf("%d rows of the deleted user left in %s", n, table)
				}
			}
		})
	}
}

func TestPasswordChangeSignsTheUserOutEverywhere(t *testing.T) {
	rp := newRelyingParty(t, 0)
	e := startWith(t, fastBackchannel)
	s := e.signIn(t, rp)
	const newPassword = "a completely different passphrase"
	e.cliInput(t, newPassword+"\n", "users", "set-password", "alice", "--password-stdin")
	e.wantSignedOut(t, s)
	t.Run("ok/new-password-signs-in", func(t *testing.T) {
		q := authQuery(s.c, "openid")
		if loc := e.login(newBrowser(t), e.issuer+"/oauth2/authorize?"+q.Encode(), "alice", newPassword, false); loc.Query().Get("code") == "" {
			t.Fatalf("no code after signing in with the new password: %s", loc)
		}
	})
	if n := e.count(t, "SELECT count(*) FROM audit_events WHERE action = 'user.password_set' AND details->>'tokens_revoked' = '4'"); n != 1 {
		t.Errorf("%d user.password_set audit events recording 4 revoked tokens (2 clients × access + refresh)", n)
	}
}

func TestSecondFactorResetSignsTheUserOutEverywhere(t *testing.T) {
	rp := newRelyingParty(t, 0)
	e := startWith(t, fastBackchannel)
	s := e.signIn(t, rp)
	e.cli(t, "users", "reset-mfa", "alice", "--yes")
	e.wantSignedOut(t, s)
}

// TestClientDeletionEndsItsTokens: a deleted client's access tokens (opaque
// and JWT) and refresh tokens stop working at once, whoever asks about them
// (the resource server's introspection, userinfo), through the CLI and the
// admin API alike; the client can no longer refresh and none of its rows is
// left.
func TestClientDeletionEndsItsTokens(t *testing.T) {
	for name, del := range map[string]func(t *testing.T, e *env, id string){
		"cli": func(t *testing.T, e *env, id string) { e.cli(t, "clients", "delete", id, "--yes") },
		"admin-api": func(t *testing.T, e *env, id string) {
			e.startAdmin().do(http.MethodDelete, "/admin/v1/clients/"+id, "", http.StatusNoContent, nil)
		},
	} {
		t.Run("ok/"+name, func(t *testing.T) {
			e := start(t)
			doomed, jwtClient := webClient("authorization_code", "refresh_token"), webClient("authorization_code", "refresh_token")
			jwtClient.AccessTokenFormat = storage.TokenFormatJWT
			observer := webClient("authorization_code")
			obsSecret := e.createClient(observer)
			b := newBrowser(t)
			for _, c := range []*storage.Client{doomed, jwtClient} {
				// The observer is the resource server of the doomed client's
				// access tokens (their audience), so it may introspect them;
				// the refresh token only its own client may introspect.
				c.Audience = []string{observer.ID}
				c.Metadata.Introspect = true
				secret := e.createClient(c)
				tok := e.tokensFor(t, b, c, secret, true, "openid", "offline_access")
				if !e.active(t, observer, obsSecret, tok.AccessToken) || !e.active(t, c, secret, tok.RefreshToken) {
					t.Fatal("tokens not active before the client is deleted")
				}
				del(t, e, c.ID)
				if e.active(t, observer, obsSecret, tok.AccessToken) {
					t.Errorf("%s: a deleted client's tokens introspect active", c.AccessTokenFormat)
				}
				if code, _ := e.userinfo(t, tok.AccessToken); code != http.StatusUnauthorized {
					t.Errorf("%s: userinfo with a deleted client's access token: %d", c.AccessTokenFormat, code)
				}
				// The token is gone at once (invalid_grant while this node's
				// client cache still holds the client); the client itself can no
				// longer authenticate once the cache hears of the deletion (a
				// LISTEN/NOTIFY round trip, at most a second).
				var code int
				var m map[string]any
				eventually(t, time.Second, "a deleted client's authentication to be refused", func() bool {
					code, m = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.ID, secret)
					if code == http.StatusOK {
						t.Fatalf("a deleted client refreshed its token: %v", m)
					}
					return code == http.StatusUnauthorized && m["error"] == "invalid_client"
				})
				if n := e.count(t, "SELECT count(*) FROM oauth2_requests WHERE client_id = $1", c.ID); n != 0 {
					t.Errorf("%d request rows of the deleted client left", n)
				}
			}
		})
	}
}
