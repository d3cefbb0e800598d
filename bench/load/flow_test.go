package load

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

const (
	testPassword = "correct horse battery staple"
	testRedirect = "https://app.example.test/callback"
)

// flowEnv is a real server (PostgreSQL store, HTTP listener) trusting the
// driver's loopback address as a proxy, with users and two clients.
type flowEnv struct {
	*servertest.Env
	flowCfg        FlowConfig
	ccID, ccSecret string
}

func startFlowEnv(t *testing.T, users int) *flowEnv {
	t.Helper()
	e := servertest.Start(t, func(c *server.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	web := &storage.Client{
		Name: "Bench App", RedirectURIs: []string{testRedirect}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "offline_access"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
	}
	secret := e.CreateClient(t, web)
	cc := &storage.Client{
		Name: "Bench Service", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, Metadata: storage.ClientMetadata{Introspect: true},
	}
	ccSecret := e.CreateClient(t, cc)
	names := make([]string, users)
	for i := range names {
		names[i] = "bench" + strconv.Itoa(i)
		e.CreateUser(t, names[i], testPassword)
	}
	return &flowEnv{Env: e, ccID: cc.ID, ccSecret: ccSecret, flowCfg: FlowConfig{
		BaseURL: e.Addr, ClientID: web.ID, ClientSecret: secret, RedirectURI: testRedirect,
		Scope: "openid offline_access", Usernames: names, Password: testPassword, ForwardedFor: true,
	}}
}

// TestAuthCodeFlow runs the flow, refresh and soak operations against one
// real server (one start: the package's tests run in make test).
func TestAuthCodeFlow(t *testing.T) {
	e := startFlowEnv(t, 2)
	t.Run("ConsentIsRemembered", func(t *testing.T) { testConsentIsRemembered(t, e) })
	t.Run("WrongPasswordFails", func(t *testing.T) { testWrongPasswordFails(t, e) })
	t.Run("RefreshPoolRotates", func(t *testing.T) { testRefreshPoolRotates(t, e) })
	t.Run("SoakShortRun", func(t *testing.T) { testSoakShortRun(t, e) })
}

func testConsentIsRemembered(t *testing.T, e *flowEnv) {
	cfg := e.flowCfg
	cfg.Usernames = cfg.Usernames[:1]
	f, err := NewFlow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	first, err := f.Do(ctx, hc)
	if err != nil {
		t.Fatalf("first flow: %v", err)
	}
	if !first.Consented || first.RefreshToken == "" || first.IDToken == "" {
		t.Fatalf("first flow: consented %v, refresh token %v, ID token %v; want all", first.Consented, first.RefreshToken != "", first.IDToken != "")
	}
	second, err := f.Do(ctx, hc)
	if err != nil {
		t.Fatalf("second flow: %v", err)
	}
	if second.Consented {
		t.Fatal("second flow of the same user asked for consent again")
	}
	if second.AccessToken == first.AccessToken {
		t.Fatal("two flows returned the same access token")
	}
}

func testWrongPasswordFails(t *testing.T, e *flowEnv) {
	cfg := e.flowCfg
	cfg.Usernames = []string{"nobody"} // no real account gets a failure counted
	cfg.Password = "not the password at all"
	f, err := NewFlow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Do(context.Background(), &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}); err == nil {
		t.Fatal("a flow with a wrong password succeeded")
	}
}

func testRefreshPoolRotates(t *testing.T, e *flowEnv) {
	f, err := NewFlow(e.flowCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	tok, err := f.Do(ctx, hc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewRefreshPool(e.Addr, e.flowCfg.ClientID, e.flowCfg.ClientSecret, []string{tok.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	op := p.Op()
	for i := 0; i < 3; i++ {
		if err := op(ctx, hc); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	if p.Len() != 1 {
		t.Fatalf("pool holds %d tokens after rotations, want 1", p.Len())
	}
	// the first token was rotated away: presenting it again is refused
	stale, _ := NewRefreshPool(e.Addr, e.flowCfg.ClientID, e.flowCfg.ClientSecret, []string{tok.RefreshToken})
	if err := stale.Op()(ctx, hc); err == nil {
		t.Fatal("a rotated refresh token was accepted again")
	}
}

func testSoakShortRun(t *testing.T, e *flowEnv) {
	f, err := NewFlow(e.flowCfg)
	if err != nil {
		t.Fatal(err)
	}
	cc := NewSoakClient(e.Addr, e.ccID, e.ccSecret, "payments")
	probe := func(context.Context) (Resources, error) {
		var rss int64
		if b, err := os.ReadFile("/proc/self/statm"); err == nil {
			var size, res int64
			if _, err := fmt.Sscan(string(b), &size, &res); err == nil {
				rss = res * int64(os.Getpagesize())
			}
		}
		return Resources{RSSBytes: rss, Goroutines: int64(runtime.NumGoroutine()), DBConns: 1, DBBytes: 1 << 20}, nil
	}
	res, err := Soak(context.Background(), SoakConfig{
		Mix:   []Weighted{{"client_credentials", 50, cc.Op()}, {"authorization_code", 15, f.Op()}, {"introspection", 5, cc.Introspect()}},
		Conns: 2, Duration: 2 * time.Second, Interval: 500 * time.Millisecond, Probe: probe,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Samples) < 3 {
		t.Fatalf("%d samples in 2 s at 500 ms, want at least 3", len(res.Samples))
	}
	// a loaded machine may complete few calls in 2 s: count them, whatever
	// the mix drew, and check every one is accounted to an operation
	var total, perOp int64
	for _, s := range res.Samples {
		total += s.Requests
		for _, n := range s.PerOp {
			perOp += n
		}
	}
	if total == 0 || perOp != total {
		t.Fatalf("requests %d, counted per operation %d; want the same, above zero (first errors %v)", total, perOp, res.FirstErrors)
	}
	if v := Judge(res.Samples, DefaultTolerances); len(v.Lines) != 4 {
		t.Fatalf("verdict lines %q, want one per resource", v.Lines)
	}
}

func TestFlowForwardedAddressesAreValidAndDistinct(t *testing.T) {
	f, err := NewFlow(FlowConfig{BaseURL: "http://x", ClientID: "c", RedirectURI: testRedirect, Usernames: []string{"u"}, ForwardedFor: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 249, 250, 255, 256, 70000} {
		b, err := f.browser(&http.Client{}, i)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := netip.ParseAddr(b.forwarded); err != nil || seen[b.forwarded] {
			t.Fatalf("user %d: address %q invalid or repeated", i, b.forwarded)
		}
		seen[b.forwarded] = true
	}
}
