package web

import (
	"net/http"
	"net/netip"

	"github.com/strongroom/strongroom/api/httpmw"
)

// ParseTrustedProxies parses the address ranges of the reverse proxies whose
// X-Forwarded-For header is believed (httpmw.ParseTrustedProxies, shared by
// every listener and the rate limits).
func ParseTrustedProxies(ranges []string) ([]netip.Prefix, error) {
	return httpmw.ParseTrustedProxies(ranges)
}

// clientAddr is the address a request comes from, for the login throttle and
// the audit trail: httpmw.ClientAddr, the one derivation the rate limits use
// too.
func clientAddr(r *http.Request, trusted []netip.Prefix) string { return httpmw.ClientAddr(r, trusted) }
