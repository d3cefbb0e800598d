package ratelimit

import (
	"net/netip"
)

// AddressKey is the key of a source address's limit: an IPv4 address (an
// IPv4-mapped IPv6 address counts as its IPv4 address) as it is, an IPv6
// address by its /64, the smallest block one subscriber is usually given
// (RFC 6177), so that hopping through the addresses of one's own /64 does
// not multiply one's budget. An unparseable address is its own key.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
