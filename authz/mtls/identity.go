package mtls

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Identity is the certificate subject a tls_client_auth client registered
// (RFC 8705 §2.1.2): exactly one of the five values. The JSON names are the
// client metadata names of RFC 8705 §2.1.2.
type Identity struct {
	// SubjectDN is the expected subject distinguished name in RFC 4514
	// form, most specific RDN first: as `openssl x509 -noout -subject
	// -nameopt RFC2253` or CertificateSubjectDN print it (OpenSSL's default
	// output lists the RDNs the other way round, and will not match).
	SubjectDN string `json:"tls_client_auth_subject_dn,omitempty"`
	// SANDNS is an expected dNSName SAN entry (exact, case-insensitive; no
	// wildcard matching).
	SANDNS string `json:"tls_client_auth_san_dns,omitempty"`
	// SANURI is an expected uniformResourceIdentifier SAN entry.
	SANURI string `json:"tls_client_auth_san_uri,omitempty"`
	// SANIP is an expected iPAddress SAN entry, IPv4 dotted decimal or IPv6
	// text (RFC 5952); compared as addresses, not strings.
	SANIP string `json:"tls_client_auth_san_ip,omitempty"`
	// SANEmail is an expected rfc822Name SAN entry.
	SANEmail string `json:"tls_client_auth_san_email,omitempty"`
}

// matcher checks one registered subject value against a certificate.
type matcher struct {
	describe string
	match    func(*x509.Certificate) (bool, error)
	// found, when set, says what the certificate carries instead, for a
	// mismatch error that helps an operator fix the registration.
	found func(*x509.Certificate) string
}

// check runs the matcher; a mismatch wraps ErrIdentityMismatch.
func (m matcher) check(cert *x509.Certificate) error {
	ok, err := m.match(cert)
	if err != nil {
		return err
	}
	if !ok {
		if m.found != nil {
			return fmt.Errorf("%w: the certificate does not carry %s (its subject is %q)", ErrIdentityMismatch, m.describe, m.found(cert))
		}
		return fmt.Errorf("%w: the certificate does not carry %s", ErrIdentityMismatch, m.describe)
	}
	return nil
}

// Validate checks a registration: exactly one value, and that value well
// formed. Errors wrap ErrInvalidRegistration and say which value is wrong.
func (id Identity) Validate() error {
	_, err := id.matcher()
	return err
}

// Matches checks that a certificate carries the registered subject value;
// a mismatch wraps ErrIdentityMismatch. It does not verify the certificate:
// Authenticator.TLSClientAuth does both.
func (id Identity) Matches(cert *x509.Certificate) error {
	if cert == nil {
		return fmt.Errorf("%w: no certificate to match", ErrNoCertificate)
	}
	m, err := id.matcher()
	if err != nil {
		return err
	}
	return m.check(cert)
}

func (id Identity) matcher() (matcher, error) {
	values := []struct {
		name  string
		value string
		build func(string) (matcher, error)
	}{
		{"tls_client_auth_subject_dn", id.SubjectDN, subjectDNMatcher},
		{"tls_client_auth_san_dns", id.SANDNS, sanDNSMatcher},
		{"tls_client_auth_san_uri", id.SANURI, sanURIMatcher},
		{"tls_client_auth_san_ip", id.SANIP, sanIPMatcher},
		{"tls_client_auth_san_email", id.SANEmail, sanEmailMatcher},
	}
	var set []string
	var build func() (matcher, error)
	for _, v := range values {
		if strings.TrimSpace(v.value) != "" {
			set = append(set, v.name)
			build = func() (matcher, error) { return v.build(v.value) }
		}
	}
	if len(set) != 1 {
		return matcher{}, fmt.Errorf("%w: tls_client_auth needs exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip and tls_client_auth_san_email; %d are set %v", ErrInvalidRegistration, len(set), set)
	}
	return build()
}

func subjectDNMatcher(s string) (matcher, error) {
	want, err := ParseDN(s)
	if err != nil {
		return matcher{}, err
	}
	return matcher{
		describe: "the registered subject DN",
		match: func(c *x509.Certificate) (bool, error) {
			got, err := certificateSubject(c.RawSubject)
			if err != nil {
				return false, err
			}
			return got.Equal(want), nil
		},
		found: func(c *x509.Certificate) string {
			dn, err := CertificateSubjectDN(c)
			if err != nil {
				return "unreadable"
			}
			return dn
		},
	}, nil
}

func sanDNSMatcher(s string) (matcher, error) {
	want := strings.TrimSuffix(strings.TrimSpace(s), ".")
	if want == "" || strings.ContainsAny(want, " /:@*") {
		return matcher{}, fmt.Errorf("%w: tls_client_auth_san_dns %q is not a DNS name", ErrInvalidRegistration, s)
	}
	return matcher{
		describe: "the registered dNSName SAN",
		match: func(c *x509.Certificate) (bool, error) {
			for _, n := range c.DNSNames {
				if strings.EqualFold(strings.TrimSuffix(n, "."), want) {
					return true, nil
				}
			}
			return false, nil
		},
	}, nil
}

func sanURIMatcher(s string) (matcher, error) {
	want, err := url.Parse(strings.TrimSpace(s))
	if err != nil || want.Scheme == "" {
		return matcher{}, fmt.Errorf("%w: tls_client_auth_san_uri %q is not an absolute URI", ErrInvalidRegistration, s)
	}
	wantNorm := normalizeURI(want)
	return matcher{
		describe: "the registered URI SAN",
		match: func(c *x509.Certificate) (bool, error) {
			for _, u := range c.URIs {
				if normalizeURI(u) == wantNorm {
					return true, nil
				}
			}
			return false, nil
		},
	}, nil
}

// normalizeURI lower-cases the scheme and host, the parts RFC 3986 §6.2.2.1
// makes case-insensitive; everything else compares exactly.
func normalizeURI(u *url.URL) string {
	n := *u
	n.Scheme = strings.ToLower(n.Scheme)
	n.Host = strings.ToLower(n.Host)
	return n.String()
}

func sanIPMatcher(s string) (matcher, error) {
	want, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || want.Zone() != "" {
		return matcher{}, fmt.Errorf("%w: tls_client_auth_san_ip %q is not an IP address", ErrInvalidRegistration, s)
	}
	want = want.Unmap()
	return matcher{
		describe: "the registered IP address SAN",
		match: func(c *x509.Certificate) (bool, error) {
			for _, ip := range c.IPAddresses {
				if got, ok := netip.AddrFromSlice(ip); ok && got.Unmap() == want {
					return true, nil
				}
			}
			return false, nil
		},
	}, nil
}

func sanEmailMatcher(s string) (matcher, error) {
	want := strings.TrimSpace(s)
	local, domain, ok := splitEmail(want)
	if !ok || strings.ContainsAny(domain, " ") {
		return matcher{}, fmt.Errorf("%w: tls_client_auth_san_email %q is not an email address", ErrInvalidRegistration, s)
	}
	return matcher{
		describe: "the registered rfc822Name SAN",
		match: func(c *x509.Certificate) (bool, error) {
			// RFC 5280 §7.5: the local part is compared exactly, the
			// domain case-insensitively.
			for _, e := range c.EmailAddresses {
				l, d, ok := splitEmail(e)
				if ok && l == local && strings.EqualFold(d, domain) {
					return true, nil
				}
			}
			return false, nil
		},
	}, nil
}

// splitEmail splits an address at its last '@' (a quoted local part may
// hold one).
func splitEmail(s string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
