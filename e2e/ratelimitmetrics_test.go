package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/server"
)

// TestRateLimitRejectionsAreCountedInMetrics: every 429 (not the audit
// trail's sample) is counted in strongroom_rate_limit_rejections_total by
// scope, as the alert rules expect.
func TestRateLimitRejectionsAreCountedInMetrics(t *testing.T) {
	limit := perMinute(2)
	e := startWith(t, func(c *server.Config) { c.RateLimits = server.RateLimits{Client: limit} })
	admin := e.StartAdmin(t, server.AdminOptions{})
	c := webClient("client_credentials")
	secret := e.createClient(c)
	for range 2 {
		if got := ccToken(t, e.Addr, c.ID, secret); got.status != http.StatusOK {
			t.Fatalf("within the limit: %d", got.status)
		}
	}
	for range 3 {
		wantRateLimited(t, "over the limit", ccToken(t, e.Addr, c.ID, secret), "client", limit)
	}
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `strongroom_rate_limit_rejections_total{scope="client"} 3`; !strings.Contains(string(body), want) {
		var lines []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.Contains(l, "rate_limit") {
				lines = append(lines, l)
			}
		}
		t.Fatalf("metrics lack %q:\n%s", want, strings.Join(lines, "\n"))
	}
}
