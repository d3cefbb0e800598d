package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// propagationBound is what the issue promises: every node serves a key change
// within 5 s.
const propagationBound = 5 * time.Second

var e2eOperator = keys.Origin{Actor: "operator:e2e"}

// peer wraps another node of e's deployment in the test env (same user).
func (e *env) peer(t *testing.T) *env {
	t.Helper()
	p := e.StartPeer(t)
	return &env{Env: p, t: t, srv: p.Server, issuer: p.Issuer, userID: e.userID}
}

// jwks fetches a node's JWKS and returns its kids and Cache-Control header.
func jwks(t *testing.T, issuer string) ([]string, string) {
	t.Helper()
	resp, err := http.Get(issuer + "/.well-known/jwks.json")
	if err != nil {
		t.Fatalf("GET JWKS: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, body)
	}
	var kids []string
	for _, k := range doc.Keys {
		kids = append(kids, k.KID)
	}
	return kids, resp.Header.Get("Cache-Control")
}

// jwtKID reads the kid from a compact JWS header without verifying it.
func jwtKID(t *testing.T, token string) string {
	t.Helper()
	part, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	_ = json.Unmarshal(b, &h)
	return h.KID
}

// refresher exchanges a refresh token at any node, chaining the rotated
// refresh tokens, and returns the new ID token: a cheap way to have a node
// sign a fresh ID token.
type refresher struct {
	t       *testing.T
	client  *storage.Client
	secret  string
	refresh string
}

func (r *refresher) idToken(issuer string) string {
	r.t.Helper()
	code, m := postForm(r.t, issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.refresh}}, r.client.ID, r.secret)
	if code != http.StatusOK {
		r.t.Fatalf("refresh at %s: %d %v", issuer, code, m)
	}
	r.refresh, _ = m["refresh_token"].(string)
	id, _ := m["id_token"].(string)
	if id == "" || r.refresh == "" {
		r.t.Fatalf("refresh at %s: no id_token or refresh_token: %v", issuer, m)
	}
	return id
}

// verifyAt verifies an ID token issued by issuer against the JWKS that node
// publishes, with go-oidc (a fresh key set: nothing cached).
func verifyAt(ctx context.Context, issuer, jwksNode, clientID, idToken string) error {
	ks := oidc.NewRemoteKeySet(ctx, jwksNode+"/.well-known/jwks.json")
	_, err := oidc.NewVerifier(issuer, ks, &oidc.Config{ClientID: clientID}).Verify(ctx, idToken)
	return err
}

// TestKeyRotationReachesEveryNode: three servers on one database. A next key
// is published and, once it may sign, rotated in; within 5 s every node
// publishes the new keys and signs ID tokens with the new kid, while an ID
// token issued before the rotation still verifies with go-oidc against the
// JWKS of every node.
func TestKeyRotationReachesEveryNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startWith(t, func(c *server.Config) { c.JWKSCacheLifetime = time.Second })
	nodes := []*env{a, a.peer(t), a.peer(t)}
	c := webClient("authorization_code", "refresh_token")
	secret := a.createClient(c)

	// An ID token from node 1 before anything changes.
	_, tok := a.codeFlowTokens(t, c, secret, true)
	oldID, _ := tok.Extra("id_token").(string)
	oldKID := jwtKID(t, oldID)
	if kid, _ := a.srv.Keys.ActiveKID(keys.RS256); kid != oldKID || oldKID == "" {
		t.Fatalf("ID token kid %q, active RS256 key %q", oldKID, kid)
	}
	_, cacheControl := jwks(t, a.issuer)
	if cacheControl != "public, max-age=1" {
		t.Errorf("JWKS Cache-Control %q, want max-age of the JWKS cache lifetime", cacheControl)
	}

	// Step 1: publish a next key (the deployment has none yet).
	prep, err := a.srv.Keys.Rotate(ctx, keys.RS256, keys.RotateOptions{Origin: e2eOperator})
	if err != nil {
		t.Fatal(err)
	}
	if prep.Activated != "" || prep.Next == "" {
		t.Fatalf("preparation %+v", prep)
	}
	published := time.Now()
	took := waitEveryNode(t, nodes, published, "publishes the next key", func(n *env) bool {
		kids, _ := jwks(t, n.issuer)
		return slices.Contains(kids, prep.Next)
	})
	t.Logf("next key published by all %d nodes in %v (slowest node)", len(nodes), took.Round(time.Millisecond))
	// It may not sign before relying parties have had the JWKS cache lifetime to fetch it.
	if _, err := a.srv.Keys.Rotate(ctx, keys.RS256, keys.RotateOptions{Origin: e2eOperator}); err == nil || !strings.Contains(err.Error(), "may sign from") {
		t.Fatalf("rotation before the next key is cached everywhere: %v", err)
	}
	r := &refresher{t: t, client: c, secret: secret, refresh: tok.RefreshToken}
	waitPast(prep.NextReadyAt) // the instant the server named; nothing observable changes then

	// Step 2: the rotation, by an operator with the real CLI.
	var results []keys.RotateResult
	out := a.cli(t, "keys", "rotate", "--alg", keys.RS256, "--jwks-cache-lifetime", "1s", "--actor", "e2e", "-o", "json")
	if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != 1 {
		t.Fatalf("keys rotate output %q: %v", out, err)
	}
	res := results[0]
	rotated := time.Now()
	if res.Activated != prep.Next || res.Retired != oldKID || res.Next == "" {
		t.Fatalf("rotation %+v", res)
	}
	took = waitEveryNode(t, nodes, rotated, "publishes the new next key and signs with the new key", func(n *env) bool {
		kids, _ := jwks(t, n.issuer)
		return slices.Contains(kids, res.Next) && slices.Contains(kids, oldKID) && jwtKID(t, r.idToken(n.issuer)) == res.Activated
	})
	t.Logf("rotation reached all %d nodes in %v (slowest node)", len(nodes), took.Round(time.Millisecond))

	for i, n := range nodes {
		// The old token still verifies against every node's JWKS ...
		if err := verifyAt(ctx, a.issuer, n.issuer, c.ID, oldID); err != nil {
			t.Errorf("node %d: ID token issued before the rotation does not verify: %v", i+1, err)
		}
		// ... and so does a new one, signed with the new key (a refreshed ID
		// token keeps the issuer of the login, node 1).
		newID := r.idToken(n.issuer)
		if kid := jwtKID(t, newID); kid != res.Activated {
			t.Errorf("node %d signs with %s, want %s", i+1, kid, res.Activated)
		}
		if err := verifyAt(ctx, a.issuer, n.issuer, c.ID, newID); err != nil {
			t.Errorf("node %d: new ID token does not verify: %v", i+1, err)
		}
	}
	// A new login on another node signs with the new key as well.
	_, tok3 := nodes[2].codeFlowTokens(t, c, secret, false)
	id3, _ := tok3.Extra("id_token").(string)
	if jwtKID(t, id3) != res.Activated {
		t.Errorf("code flow on node 3 signs with %s", jwtKID(t, id3))
	}
	if err := verifyAt(ctx, nodes[2].issuer, nodes[1].issuer, c.ID, id3); err != nil {
		t.Errorf("node 3's new ID token against node 2's JWKS: %v", err)
	}
	evs, err := a.srv.Store.ListAudit(ctx, storage.AuditFilter{Action: keys.ActionRotate})
	if err != nil || len(evs) < 2 || evs[0].Actor != e2eOperator.Actor || evs[0].Target != res.Activated {
		t.Errorf("audit trail: %+v, %v", evs, err)
	}
}

// TestKeyRevocationReachesEveryNode: revoking the active keys withdraws them
// from every node's JWKS within 5 s; ID tokens they signed stop verifying with
// go-oidc and a JWT access token they signed introspects active:false, while
// new tokens are signed by the keys that took over.
func TestKeyRevocationReachesEveryNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startWith(t, nil)
	b := a.peer(t)
	nodes := []*env{a, b}
	c := webClient("authorization_code", "refresh_token", "client_credentials")
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := a.createClient(c)

	_, tok := a.codeFlowTokens(t, c, secret, true)
	idToken, _ := tok.Extra("id_token").(string)
	cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: a.issuer + "/oauth2/token", Scopes: []string{"payments"}}
	at, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idKID, atKID := jwtKID(t, idToken), jwtKID(t, at.AccessToken)
	if idKID == "" || atKID == "" || idKID == atKID {
		t.Fatalf("kids: ID token %q, access token %q (want RS256 and ES256 keys)", idKID, atKID)
	}
	introspect := func(n *env, token string) any {
		_, m := postForm(t, n.issuer+"/oauth2/introspect", url.Values{"token": {token}}, c.ID, secret)
		return m["active"]
	}
	for i, n := range nodes {
		if err := verifyAt(ctx, a.issuer, n.issuer, c.ID, idToken); err != nil {
			t.Fatalf("node %d: ID token does not verify before revocation: %v", i+1, err)
		}
		if introspect(n, at.AccessToken) != true {
			t.Fatalf("node %d: JWT access token inactive before revocation", i+1)
		}
	}

	var replacements []string
	for _, kid := range []string{idKID, atKID} {
		res, err := a.srv.Keys.Revoke(ctx, kid, e2eOperator)
		if err != nil {
			t.Fatal(err)
		}
		if res.PreviousState != storage.KeyStateActive || res.Activated == "" {
			t.Fatalf("revoke %s: %+v", kid, res)
		}
		replacements = append(replacements, res.Activated)
	}
	revoked := time.Now()
	took := waitEveryNode(t, nodes, revoked, "withdraws the revoked keys", func(n *env) bool {
		kids, _ := jwks(t, n.issuer)
		return !slices.Contains(kids, idKID) && !slices.Contains(kids, atKID) &&
			verifyAt(ctx, a.issuer, n.issuer, c.ID, idToken) != nil && introspect(n, at.AccessToken) == false
	})
	t.Logf("revocation reached all %d nodes in %v (slowest node)", len(nodes), took.Round(time.Millisecond))

	for i, n := range nodes {
		if err := verifyAt(ctx, a.issuer, n.issuer, c.ID, idToken); err == nil || !strings.Contains(err.Error(), "verify") {
			t.Errorf("node %d: ID token of a revoked key: %v", i+1, err)
		}
		// New tokens come from the keys that took over and are valid.
		cc.TokenURL = n.issuer + "/oauth2/token"
		fresh, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if kid := jwtKID(t, fresh.AccessToken); kid != replacements[1] {
			t.Errorf("node %d: new access token signed by %s, want %s", i+1, kid, replacements[1])
		}
		if introspect(n, fresh.AccessToken) != true {
			t.Errorf("node %d: new JWT access token inactive", i+1)
		}
	}
	_, tok2 := b.codeFlowTokens(t, c, secret, false)
	newID, _ := tok2.Extra("id_token").(string)
	if jwtKID(t, newID) != replacements[0] {
		t.Errorf("new ID token signed by %s, want %s", jwtKID(t, newID), replacements[0])
	}
	if err := verifyAt(ctx, b.issuer, a.issuer, c.ID, newID); err != nil {
		t.Errorf("new ID token: %v", err)
	}
}

// TestAutomaticRotationByExactlyOneNode: three nodes rotate on a (very short)
// interval against one database; each step is taken by exactly one of them:
// one next key prepared per algorithm, each key activated once, and never
// more than one active and one next key per algorithm.
func TestAutomaticRotationByExactlyOneNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startWith(t, func(c *server.Config) {
		c.KeyRotationInterval = time.Second    // checks every second
		c.JWKSCacheLifetime = time.Millisecond // a next key may sign after ~5 s
	})
	a.peer(t)
	a.peer(t)
	algs := []string{keys.RS256, keys.ES256} // the default ID token algorithms

	var evs []storage.AuditEvent
	everyAlgRotated := func() bool {
		var err error
		evs, err = a.srv.Store.ListAudit(ctx, storage.AuditFilter{Action: keys.ActionRotate, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		activated := map[string]bool{}
		for _, ev := range evs {
			if ev.Details["activated"] != "" {
				activated[ev.Details["alg"]] = true
			}
		}
		return len(activated) == len(algs)
	}
	if !poll(30*time.Second, everyAlgRotated) {
		t.Fatalf("no automatic rotation of every algorithm within 30 s: %+v", evs)
	}
	prepared := map[string]int{}
	seen := map[string]bool{} // "activated:<kid>", "next:<kid>"
	for _, ev := range evs {
		if ev.Actor != keys.ActorAutoRotation || ev.Outcome != storage.OutcomeSuccess {
			t.Errorf("unexpected event %+v", ev)
		}
		if ev.Details["activated"] == "" {
			prepared[ev.Details["alg"]]++
		}
		for _, step := range []string{"activated", "next"} {
			if kid := ev.Details[step]; kid != "" {
				if seen[step+":"+kid] {
					t.Errorf("key %s %s twice: %+v", kid, step, evs)
				}
				seen[step+":"+kid] = true
			}
		}
	}
	for _, alg := range algs {
		if prepared[alg] != 1 {
			t.Errorf("%s: %d nodes prepared a next key, want exactly 1", alg, prepared[alg])
		}
	}
	rows, err := a.srv.Store.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range algs {
		count := map[string]int{}
		for _, k := range rows {
			if k.Alg == alg {
				count[k.State]++
			}
		}
		if count[storage.KeyStateActive] != 1 || count[storage.KeyStateNext] != 1 {
			t.Errorf("%s: %v keys by state, want one active and one next", alg, count)
		}
	}
	t.Logf("%d automatic rotation steps by 3 nodes, each taken once", len(evs))
}

// waitEveryNode polls until done holds on every node and fails the test if
// that takes longer than propagationBound after since. It returns the time
// the slowest node took.
func waitEveryNode(t *testing.T, nodes []*env, since time.Time, what string, done func(*env) bool) time.Duration {
	t.Helper()
	var slowest time.Duration
	for i, n := range nodes {
		if !poll(propagationBound-time.Since(since), func() bool { return done(n) }) {
			t.Fatalf("node %d: not done %v after the change: %s", i+1, propagationBound, what)
		}
		slowest = max(slowest, time.Since(since))
	}
	return slowest
}
