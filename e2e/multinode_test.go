package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// TestClientChangesReachEveryNode: two nodes on one database; a client
// disabled through one node's store stops authenticating on the other (which
// had it cached) within seconds, through LISTEN/NOTIFY, not the cache TTL.
func TestClientChangesReachEveryNode(t *testing.T) {
	a := start(t)
	b := a.StartPeer(t)
	c := webClient("client_credentials")
	secret := a.createClient(c)
	token := func(issuer string) int {
		code, _ := postForm(t, issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
		return code
	}
	if token(a.issuer) != 200 || token(b.Issuer) != 200 {
		t.Fatal("client does not work on both nodes")
	}
	start := time.Now()
	if err := a.srv.Store.UpdateClient(context.Background(), c.ID, func(cl *storage.Client) error {
		cl.Disabled = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, node := range []struct{ name, issuer string }{{"B", b.Issuer}, {"A", a.issuer}} {
		if !poll(5*time.Second-time.Since(start), func() bool { return token(node.issuer) != 200 }) {
			t.Fatalf("node %s still accepts a disabled client after 5 s", node.name)
		}
		t.Logf("node %s refused the disabled client %v after the change", node.name, time.Since(start).Round(time.Millisecond))
	}
	if code := token(a.issuer); code != 401 {
		t.Fatalf("disabled client: %d, want 401", code)
	}
}
