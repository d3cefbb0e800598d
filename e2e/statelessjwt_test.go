package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// statelessJWTClient registers a client_credentials client for JWT access
// tokens that may introspect, with the gateway's audience.
func statelessJWTClient(e *env, format string, audience ...string) (*storage.Client, string) {
	c := webClient("client_credentials")
	c.Scopes = []string{"accounts:read"}
	c.Audience = append([]string{gatewayAudience}, audience...)
	c.AccessTokenFormat = format
	c.Metadata.Introspect = true
	return c, e.createClient(c)
}

func introspect(t *testing.T, issuer string, c *storage.Client, secret, token string) answer {
	t.Helper()
	a := send(t, nil, "POST", issuer+authz.PathIntrospect, url.Values{"token": {token}}, c.ID, secret, nil)
	if a.status != http.StatusOK {
		t.Fatalf("introspect: %d %v", a.status, a.body)
	}
	return a
}

// TestClientCredentialsJWTWritesNoRow: a JWT client's client_credentials
// token is stateless (no oauth2_requests row), and its introspection answer
// has exactly the members, and apart from the times and the ids exactly the
// values, of an opaque (stored) token of the same registration.
func TestClientCredentialsJWTWritesNoRow(t *testing.T) {
	e := start(t)
	jc, jsecret := statelessJWTClient(e, storage.TokenFormatJWT)
	oc, osecret := statelessJWTClient(e, storage.TokenFormatOpaque)
	jwtToken := clientToken(t, e, jc.ID, jsecret, "accounts:read", nil)
	opaque := clientToken(t, e, oc.ID, osecret, "accounts:read", nil)
	if strings.Count(jwtToken, ".") != 2 {
		t.Fatalf("want a JWT, got %q", jwtToken)
	}
	if n := e.count(t, "SELECT count(*) FROM oauth2_requests WHERE client_id = $1", jc.ID); n != 0 {
		t.Fatalf("%d rows written for a stateless JWT", n)
	}
	if n := e.count(t, "SELECT count(*) FROM oauth2_requests WHERE client_id = $1", oc.ID); n != 1 {
		t.Fatalf("%d rows for an opaque token, want 1", n)
	}
	j := introspect(t, e.issuer, jc, jsecret, jwtToken).body
	o := introspect(t, e.issuer, oc, osecret, opaque).body
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(keys(j), keys(o)) {
		t.Fatalf("introspection members differ:\n jwt:    %v\n opaque: %v", keys(j), keys(o))
	}
	for k, v := range o {
		switch k {
		case "exp", "iat":
			if d := j[k].(float64) - v.(float64); d < -5 || d > 5 {
				t.Errorf("%s: %v vs %v", k, j[k], v)
			}
		case "client_id":
			if j[k] != jc.ID {
				t.Errorf("client_id %v", j[k])
			}
		default:
			jb, _ := json.Marshal(j[k])
			ob, _ := json.Marshal(v)
			if string(jb) != string(ob) {
				t.Errorf("%s: jwt %s, opaque %s", k, jb, ob)
			}
		}
	}
	if j["active"] != true || j["scope"] != "accounts:read" || j["token_type"] != "Bearer" {
		t.Fatalf("introspection of the stateless JWT: %v", j)
	}
}

// TestRevokedJWTIsInactiveOnEveryNode: two nodes on one database. A
// stateless JWT revoked on node A is inactive on A at once (read-your-
// writes) and on B after the notification; a revocation B missed while its
// notification connection was down is seen after B reconnects and reloads.
func TestRevokedJWTIsInactiveOnEveryNode(t *testing.T) {
	a := start(t)
	b := a.StartPeer(t)
	c, secret := statelessJWTClient(a, storage.TokenFormatJWT)
	token := clientToken(t, a, c.ID, secret, "accounts:read", nil)
	if introspect(t, b.Issuer, c, secret, token).body["active"] != true {
		t.Fatal("not active on node B before revocation")
	}
	if r := send(t, nil, "POST", a.issuer+authz.PathRevoke, url.Values{"token": {token}}, c.ID, secret, nil); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", r.status, r.body)
	}
	start := time.Now()
	if introspect(t, a.issuer, c, secret, token).body["active"] != false {
		t.Fatal("the revoking node still answers active")
	}
	if !poll(5*time.Second, func() bool { return introspect(t, b.Issuer, c, secret, token).body["active"] == false }) {
		t.Fatal("node B still answers active 5 s after the revocation")
	}
	t.Logf("node B refused the revoked JWT %v after the revocation returned", time.Since(start).Round(time.Microsecond))
	if n := a.count(t, "SELECT count(*) FROM oauth2_requests WHERE client_id = $1", c.ID); n != 0 {
		t.Fatalf("%d rows: revocation must not need one", n)
	}

	// The notification connections drop (every listener on this database),
	// and a revocation is made before they are back: B learns of it from
	// the reload after its reconnect.
	token2 := clientToken(t, a, c.ID, secret, "accounts:read", nil)
	if introspect(t, b.Issuer, c, secret, token2).body["active"] != true {
		t.Fatal("second token not active on node B")
	}
	pool, err := pgxpool.New(context.Background(), a.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var killed int
	if err := pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'strongroom-listen' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no notification connection found")
	}
	if r := send(t, nil, "POST", a.issuer+authz.PathRevoke, url.Values{"token": {token2}}, c.ID, secret, nil); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", r.status, r.body)
	}
	start = time.Now()
	if !poll(15*time.Second, func() bool { return introspect(t, b.Issuer, c, secret, token2).body["active"] == false }) {
		t.Fatal("node B still answers active 15 s after a revocation it may have missed")
	}
	t.Logf("node B refused the second revoked JWT %v after the revocation (connections killed first)", time.Since(start).Round(time.Millisecond))
}

// TestRevokedJWTIsRefusedAtUserinfoAndGateway: the resource checks that
// verify a stateless JWT without a read (userinfo through fosite's
// introspection, the gateway's local verification) refuse it once revoked.
func TestRevokedJWTIsRefusedAtUserinfoAndGateway(t *testing.T) {
	e := start(t)
	gw := startGateway(t, e, 0)
	c, secret := statelessJWTClient(e, storage.TokenFormatJWT)
	token := clientToken(t, e, c.ID, secret, "accounts:read", nil)
	auth := map[string]string{"Authorization": "Bearer " + token}
	// valid: userinfo refuses it for lack of openid (403), not as invalid (401)
	if code, _ := e.userinfo(t, token); code != http.StatusForbidden {
		t.Fatalf("userinfo before revocation: %d, want 403", code)
	}
	if status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth); status != http.StatusOK {
		t.Fatalf("gateway before revocation: %d", status)
	}
	if r := send(t, nil, "POST", e.issuer+authz.PathRevoke, url.Values{"token": {token}}, c.ID, secret, nil); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", r.status, r.body)
	}
	if code, _ := e.userinfo(t, token); code != http.StatusUnauthorized {
		t.Fatalf("userinfo after revocation: %d, want 401", code)
	}
	if status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth); status != http.StatusUnauthorized {
		t.Fatalf("gateway after revocation: %d, want 401", status)
	}
}

// TestJWTOfDeletedClientIsInactive: a stateless JWT stops when its client is
// disabled or deleted (the client cache, invalidated on every node through
// LISTEN/NOTIFY): introspection by its audience and the gateway refuse it.
func TestJWTOfDeletedClientIsInactive(t *testing.T) {
	for _, how := range []string{"disabled", "deleted"} {
		t.Run("ok/"+how, func(t *testing.T) {
			e := start(t)
			gw := startGateway(t, e, 0)
			observer := webClient("client_credentials")
			observer.Metadata.Introspect = true
			obsSecret := e.createClient(observer)
			// the observer is an audience of the token: it may introspect it
			c, secret := statelessJWTClient(e, storage.TokenFormatJWT, observer.ID)
			token := clientToken(t, e, c.ID, secret, "accounts:read", nil)
			auth := map[string]string{"Authorization": "Bearer " + token}
			if introspect(t, e.issuer, observer, obsSecret, token).body["active"] != true {
				t.Fatal("not active for its audience")
			}
			ctx := context.Background()
			var err error
			if how == "deleted" {
				err = e.srv.Store.DeleteClient(ctx, c.ID)
			} else {
				err = e.srv.Store.UpdateClient(ctx, c.ID, func(cl *storage.Client) error { cl.Disabled = true; return nil })
			}
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, 5*time.Second, "the JWT of a "+how+" client to be inactive", func() bool {
				return introspect(t, e.issuer, observer, obsSecret, token).body["active"] == false
			})
			eventually(t, 5*time.Second, "the gateway to refuse the JWT of a "+how+" client", func() bool {
				status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth)
				return status == http.StatusUnauthorized
			})
		})
	}
}

// TestForgedOrExpiredJWTIsInactive: a stateless JWT with a changed claim,
// one signed by another key under the server's kid, one with alg none, and
// an expired one are inactive (introspection, gateway), like unknown tokens.
func TestForgedOrExpiredJWTIsInactive(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.Authz.AccessTokenLifespan = 2 * time.Second })
	gw := startGateway(t, e, 0)
	c, secret := statelessJWTClient(e, storage.TokenFormatJWT)
	token := clientToken(t, e, c.ID, secret, "accounts:read", nil)
	parts := strings.Split(token, ".")
	var header, claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		t.Fatal("cannot decode the JWT")
	}
	if claims["gid"] == nil || claims["gid"] != claims["jti"] {
		t.Fatalf("a stateless JWT names its grant in gid and jti: %v", claims)
	}
	widened := map[string]any{}
	for k, v := range claims {
		widened[k] = v
	}
	widened["scope"] = "accounts:read accounts:write"
	wb, _ := json.Marshal(widened)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(wb) + "." + parts[2]

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", header["kid"]))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(wb)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := jws.CompactSerialize()
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."

	refused := func(name, tok string) {
		t.Helper()
		if a := introspect(t, e.issuer, c, secret, tok); a.body["active"] != false || len(a.body) != 1 {
			t.Errorf("%s: introspection %v, want exactly {active:false}", name, a.body)
		}
		if status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", map[string]string{"Authorization": "Bearer " + tok}); status != http.StatusUnauthorized {
			t.Errorf("%s: gateway %d, want 401", name, status)
		}
	}
	if introspect(t, e.issuer, c, secret, token).body["active"] != true {
		t.Fatal("the genuine token is not active")
	}
	refused("tampered", tampered)
	refused("forged", forged)
	refused("alg none", none)
	exp := time.Unix(int64(claims["exp"].(float64)), 0)
	waitPast(exp)
	refused("expired", token)
}
