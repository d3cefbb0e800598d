package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api/httpmw"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/ratelimit"
)

// RateLimits are the request limits of the public listener
// (Options.RateLimits): the per-address limit on every request (health
// probes excepted), the per-client limit at the token, PAR, introspection
// and revocation endpoints.
type RateLimits struct {
	// Limiter counts (in process, or shared through Redis).
	Limiter *ratelimit.Limiter
	// Address is the limit of one source address (an IPv6 /64);
	// ratelimit.Off: none.
	Address ratelimit.Rate
	// Client is the default limit of one client; ratelimit.Off: none.
	Client ratelimit.Rate
	// ClientRate returns a registered client's own limit, if it has one
	// (override true), and whether the client exists and is enabled
	// (known). Requests naming an unknown client share one budget, so that
	// made-up client ids neither multiply the budget nor the counters.
	ClientRate func(ctx context.Context, clientID string) (r ratelimit.Rate, override, known bool)
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (httpmw.ClientAddr); empty: the peer is the client.
	TrustedProxies []netip.Prefix
}

// Header names of draft-ietf-httpapi-ratelimit-headers (-10): the policy
// (quota q over window w seconds) and the current state (r remaining, t
// seconds until the quota is whole again) of each limit that applied.
const (
	headerRateLimitPolicy = "RateLimit-Policy"
	headerRateLimit       = "RateLimit"
)

// unknownClientKey is the one key of every request that names no
// registered client.
const unknownClientKey = "\x00unknown"

// exemptFromAddressLimit are the health probes: a load balancer's probes
// come from its own address, and a node must not turn unready because of
// traffic it is refusing.
var exemptFromAddressLimit = map[string]bool{"/healthz": true, "/readyz": true}

// speaksOAuthJSON are the endpoints whose errors are OAuth JSON objects; a
// refusal elsewhere is the error page.
var speaksOAuthJSON = map[string]bool{
	authz.PathToken: true, authz.PathIntrospect: true, authz.PathRevoke: true, authz.PathPAR: true,
	authz.PathUserinfo: true,
}

// limitAddress applies the per-address limit to every request.
func (s *Server) limitAddress(next echo.HandlerFunc) echo.HandlerFunc {
	rl := s.opts.RateLimits
	return func(c echo.Context) error {
		r := c.Request()
		if exemptFromAddressLimit[r.URL.Path] {
			return next(c)
		}
		key := ratelimit.AddressKey(httpmw.ClientAddr(r, rl.TrustedProxies))
		d := rl.Limiter.Allow(r.Context(), ratelimit.ScopeAddress, key, rl.Address)
		if d.Rate.IsOff() {
			return next(c)
		}
		addRateLimitHeaders(c.Response().Header(), string(ratelimit.ScopeAddress), d)
		if !d.Allowed {
			return s.tooManyRequests(c, d, "Too many requests from this network address.")
		}
		return next(c)
	}
}

// limitClient applies the per-client limit; it runs after the form is
// parsed (rejectDuplicates), before the handler authenticates the client,
// so requests with a wrong secret count against the client they claim.
func (s *Server) limitClient(next echo.HandlerFunc) echo.HandlerFunc {
	rl := s.opts.RateLimits
	return func(c echo.Context) error {
		r := c.Request()
		rate, key := rl.Client, unknownClientKey
		if id := claimedClient(r); id != "" && rl.ClientRate != nil {
			own, override, known := rl.ClientRate(r.Context(), id)
			if known {
				key = id
				if override {
					rate = own
				}
			}
		}
		d := rl.Limiter.Allow(r.Context(), ratelimit.ScopeClient, key, rate)
		if d.Rate.IsOff() {
			return next(c)
		}
		addRateLimitHeaders(c.Response().Header(), string(ratelimit.ScopeClient), d)
		if !d.Allowed {
			return s.tooManyRequests(c, d, "Too many requests for this client.")
		}
		return next(c)
	}
}

// claimedClient is the client a request names before it is authenticated:
// the Basic user name or client_id parameter (claimedClientID), else the
// issuer of a client assertion (RFC 7523 §3: iss and sub are the client
// id), read without verifying it; authentication checks it afterwards.
func claimedClient(r *http.Request) string {
	if id := claimedClientID(r); id != "" {
		return id
	}
	assertion := r.PostForm.Get("client_assertion")
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 || len(parts[1]) > 8<<10 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Iss any `json:"iss"`
		Sub any `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	iss, _ := claims.Iss.(string)
	if sub, _ := claims.Sub.(string); sub != iss {
		return ""
	}
	return truncate(iss, 128)
}

// addRateLimitHeaders adds the policy and the state of one limit to the
// response's RateLimit-Policy and RateLimit fields (Structured Field lists:
// one member per limit, both limits in one field line each).
func addRateLimitHeaders(h http.Header, policy string, d ratelimit.Decision) {
	appendMember := func(name, member string) {
		if old := h.Get(name); old != "" {
			member = old + ", " + member
		}
		h.Set(name, member)
	}
	appendMember(headerRateLimitPolicy, fmt.Sprintf("%q;q=%d;w=%d", policy, d.Rate.Burst, ceilSeconds(d.Rate.Window())))
	appendMember(headerRateLimit, fmt.Sprintf("%q;r=%d;t=%d", policy, d.Remaining, ceilSeconds(d.ResetAfter)))
}

// ceilSeconds rounds d up to whole seconds (a client that waits that long is
// never early).
func ceilSeconds(d time.Duration) int64 {
	return int64(math.Ceil(max(d, 0).Seconds()))
}

// tooManyRequests answers 429 (RFC 6585 §4) with Retry-After: at the OAuth
// JSON endpoints the error temporarily_unavailable (the registered OAuth
// code for a server that cannot serve the request now because of load, as
// at our 503s; slow_down is the device flow's polling signal only), the
// error page elsewhere.
func (s *Server) tooManyRequests(c echo.Context, d ratelimit.Decision, what string) error {
	retry := max(ceilSeconds(d.RetryAfter), 1)
	h := c.Response().Header()
	h.Set("Retry-After", strconv.FormatInt(retry, 10))
	h.Set("Cache-Control", "no-store")
	desc := fmt.Sprintf("%s Retry after %ds.", what, retry)
	if speaksOAuthJSON[c.Request().URL.Path] {
		return c.JSON(http.StatusTooManyRequests, map[string]string{"error": "temporarily_unavailable", "error_description": desc})
	}
	s.browser.RenderError(c.Response(), http.StatusTooManyRequests, "temporarily_unavailable", desc)
	return nil
}
