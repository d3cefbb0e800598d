package httpmw

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientAddrOnlyThroughTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "2001:db8:ffff::/48"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		peer    string
		xff     []string
		other   map[string]string // other headers
		trusted bool              // use the trusted ranges (else none configured)
		want    string
	}{
		"ok/no-proxy-configured-header-ignored": {peer: "203.0.113.5:4000", xff: []string{"198.51.100.7"}, want: "203.0.113.5"},
		"fail/spoofed-by-untrusted-peer":        {peer: "203.0.113.5:4000", xff: []string{"10.0.0.1, 198.51.100.7"}, trusted: true, want: "203.0.113.5"},
		"fail/spoofed-trusted-looking-hop":      {peer: "203.0.113.5:4000", xff: []string{"10.0.0.1"}, trusted: true, want: "203.0.113.5"},
		"fail/other-headers-never-read": {peer: "10.0.0.2:4000", trusted: true, want: "10.0.0.2",
			other: map[string]string{"X-Real-IP": "198.51.100.7", "Forwarded": "for=198.51.100.7"}},
		"ok/trusted-peer-rightmost-untrusted-hop": {peer: "10.0.0.2:4000", xff: []string{"6.6.6.6, 198.51.100.7"}, trusted: true, want: "198.51.100.7"},
		"ok/chain-of-trusted-proxies":             {peer: "10.0.0.2:4000", xff: []string{"6.6.6.6, 198.51.100.7, 10.1.2.3"}, trusted: true, want: "198.51.100.7"},
		"ok/several-header-lines":                 {peer: "10.0.0.2:4000", xff: []string{"6.6.6.6", "198.51.100.7"}, trusted: true, want: "198.51.100.7"},
		"ok/no-header-from-trusted-peer":          {peer: "10.0.0.2:4000", trusted: true, want: "10.0.0.2"},
		"ok/all-hops-trusted-farthest":            {peer: "10.0.0.2:4000", xff: []string{"10.9.9.9, 10.0.0.3"}, trusted: true, want: "10.9.9.9"},
		"fail/garbage-hop-stops-at-last-trusted":  {peer: "10.0.0.2:4000", xff: []string{"198.51.100.7, not-an-address"}, trusted: true, want: "10.0.0.2"},
		"fail/empty-hop-stops":                    {peer: "10.0.0.2:4000", xff: []string{"198.51.100.7, , 10.0.0.3"}, trusted: true, want: "10.0.0.3"},
		"ok/hop-with-port":                        {peer: "10.0.0.2:4000", xff: []string{"198.51.100.7:5555"}, trusted: true, want: "198.51.100.7"},
		"ok/ipv6-hop-in-brackets":                 {peer: "10.0.0.2:4000", xff: []string{"[2001:db8::1]:443"}, trusted: true, want: "2001:db8::1"},
		"ok/ipv6-trusted-peer":                    {peer: "[2001:db8:ffff::5]:443", xff: []string{"2001:db8:1::7"}, trusted: true, want: "2001:db8:1::7"},
		"ok/v4-mapped-peer-is-trusted":            {peer: "[::ffff:10.0.0.2]:443", xff: []string{"198.51.100.7"}, trusted: true, want: "198.51.100.7"},
		"ok/v4-mapped-hop-unmapped":               {peer: "10.0.0.2:4000", xff: []string{"::ffff:198.51.100.7"}, trusted: true, want: "198.51.100.7"},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for k, v := range tc.other {
				r.Header.Set(k, v)
			}
			var tr = trusted
			if !tc.trusted {
				tr = nil
			}
			if got := ClientAddr(r, tr); got != tc.want {
				t.Fatalf("ClientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	for name, tc := range map[string]struct {
		in      []string
		want    string
		wantErr string
	}{
		"ok/cidrs":            {in: []string{"10.0.0.0/8", "2001:db8::/32"}, want: "10.0.0.0/8 2001:db8::/32"},
		"ok/single-address":   {in: []string{"192.0.2.1", "2001:db8::1"}, want: "192.0.2.1/32 2001:db8::1/128"},
		"ok/host-bits-masked": {in: []string{"10.1.2.3/8"}, want: "10.0.0.0/8"},
		"ok/v4-mapped":        {in: []string{"::ffff:10.0.0.0/104"}, want: "10.0.0.0/8"},
		"fail/garbage":        {in: []string{"proxy.internal"}, wantErr: `"proxy.internal" is not a CIDR prefix`},
		"fail/bad-length":     {in: []string{"10.0.0.0/33"}, wantErr: "is not a CIDR prefix"},
		"fail/empty":          {in: []string{""}, wantErr: "is not a CIDR prefix"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseTrustedProxies(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != tc.want {
				t.Fatalf("got %v, want %s", s, tc.want)
			}
		})
	}
}
