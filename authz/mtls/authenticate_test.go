package mtls

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var subjectDN = Identity{SubjectDN: "CN=client.example.com,O=Example Bank,C=GB"}

func TestTLSClientAuthWithCertificateFromConfiguredCASucceeds(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, nil)
	a := NewAuthenticator(pool(ca.cert), fixedClock)
	if err := a.TLSClientAuth(presented(leaf), subjectDN); err != nil {
		t.Fatalf("TLSClientAuth: %v", err)
	}
}

func TestTLSClientAuthThroughIntermediateSentByClientSucceeds(t *testing.T) {
	root := newTestCA(t, "Root")
	inter := root.intermediate(t, "Issuing CA")
	leaf, _ := inter.issue(t, nil)
	a := NewAuthenticator(pool(root.cert), fixedClock)
	if err := a.TLSClientAuth(presented(leaf, inter.cert), subjectDN); err != nil {
		t.Fatalf("with the intermediate: %v", err)
	}
	if err := a.TLSClientAuth(presented(leaf), subjectDN); !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("without the intermediate: got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithCertificateFromAnotherCAFails(t *testing.T) {
	ours := newTestCA(t, "Client CA")
	other := newTestCA(t, "Client CA") // same name, other key
	leaf, _ := other.issue(t, nil)
	a := NewAuthenticator(pool(ours.cert), fixedClock)
	if err := a.TLSClientAuth(presented(leaf), subjectDN); !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("got %v, want ErrUntrustedCertificate", err)
	}
	// An intermediate the client sends along is never a trust anchor.
	if err := a.TLSClientAuth(presented(leaf, other.cert), subjectDN); !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("with its own CA sent along: got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithExpiredCertificateFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = testNow.Add(-2*time.Hour), testNow.Add(-time.Minute)
	})
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), subjectDN)
	if !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithNotYetValidCertificateFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = testNow.Add(time.Minute), testNow.Add(time.Hour)
	})
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), subjectDN)
	if !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithWrongExtendedKeyUsageFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), subjectDN)
	if !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithSelfSignedCertificateFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := selfSigned(t, nil)
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), subjectDN)
	if !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithoutCertificateFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(nil, subjectDN)
	if !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("got %v, want ErrNoCertificate", err)
	}
}

func TestTLSClientAuthWithoutConfiguredClientCAFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, nil)
	err := NewAuthenticator(nil, fixedClock).TLSClientAuth(presented(leaf), subjectDN)
	if !errors.Is(err, ErrUntrustedCertificate) {
		t.Fatalf("got %v, want ErrUntrustedCertificate", err)
	}
}

func TestTLSClientAuthWithWrongSubjectDNFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, func(c *x509.Certificate) { c.Subject.CommonName = "other.example.com" })
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), subjectDN)
	if !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("got %v, want ErrIdentityMismatch", err)
	}
	// The error shows what to register instead.
	if !strings.Contains(err.Error(), `"CN=other.example.com,O=Example Bank,C=GB"`) {
		t.Fatalf("error %q does not show the certificate's subject", err)
	}
}

// OpenSSL's default -subject output lists the RDNs in ASN.1 order, the
// reverse of RFC 4514: pasted as it is, it must not match.
func TestTLSClientAuthSubjectDNInOpenSSLDefaultOrderFails(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, nil)
	err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), Identity{SubjectDN: "C = GB, O = Example Bank, CN = client.example.com"})
	if !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("got %v, want ErrIdentityMismatch", err)
	}
}

func TestTLSClientAuthSubjectDNComparedByRDNs(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	// Subject (ASN.1 order): C=GB / O=Example Bank / OU=Payments+UID=42 /
	// CN=client, "quoted" (ACME); the OU and UID form one multi-valued RDN.
	subject := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{}}
	rdns := pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "GB"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Example Bank"}},
		{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "Payments"},
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: "42"},
		},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: `client, "quoted" (ACME)`}},
	}
	rawSubject, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := ca.issue(t, func(c *x509.Certificate) { c.Subject = subject; c.RawSubject = rawSubject })
	a := NewAuthenticator(pool(ca.cert), fixedClock)

	tests := map[string]struct {
		dn   string
		want error
	}{
		"ok/canonical":                  {dn: `CN=client\, \"quoted\" (ACME),OU=Payments+UID=42,O=Example Bank,C=GB`},
		"ok/attribute type case":        {dn: `cn=client\, \"quoted\" (ACME),ou=Payments+uid=42,o=Example Bank,c=GB`},
		"ok/value case":                 {dn: `CN=CLIENT\, \"QUOTED\" (acme),OU=payments+UID=42,O=example bank,C=gb`},
		"ok/whitespace around":          {dn: ` CN = client\, \"quoted\" (ACME) , OU=Payments + UID=42 ,O=Example   Bank, C=GB `},
		"ok/hex escapes":                {dn: `CN=client\2C \22quoted\22 (ACME),OU=Payments+UID=42,O=Example\20Bank,C=GB`},
		"ok/legacy quoted value":        {dn: `CN="client, \"quoted\" (ACME)",OU=Payments+UID=42,O=Example Bank,C=GB`},
		"ok/multi-valued RDN any order": {dn: `CN=client\, \"quoted\" (ACME),UID=42+OU=Payments,O=Example Bank,C=GB`},
		"ok/dotted OIDs":                {dn: `2.5.4.3=client\, \"quoted\" (ACME),OID.2.5.4.11=Payments+0.9.2342.19200300.100.1.1=42,O=Example Bank,2.5.4.6=GB`},
		"ok/hex BER value":              {dn: `CN=client\, \"quoted\" (ACME),OU=Payments+UID=42,O=Example Bank,C=#13024742`},
		"fail/RDN order":                {dn: `C=GB,O=Example Bank,OU=Payments+UID=42,CN=client\, \"quoted\" (ACME)`, want: ErrIdentityMismatch},
		"fail/missing RDN":              {dn: `CN=client\, \"quoted\" (ACME),OU=Payments+UID=42,C=GB`, want: ErrIdentityMismatch},
		"fail/extra RDN":                {dn: `CN=client\, \"quoted\" (ACME),OU=Payments+UID=42,O=Example Bank,L=London,C=GB`, want: ErrIdentityMismatch},
		"fail/multi-valued RDN split":   {dn: `CN=client\, \"quoted\" (ACME),OU=Payments,UID=42,O=Example Bank,C=GB`, want: ErrIdentityMismatch},
		"fail/other value":              {dn: `CN=client\, \"quoted\" (ACME),OU=Payments+UID=43,O=Example Bank,C=GB`, want: ErrIdentityMismatch},
		"fail/other type same value":    {dn: `CN=client\, \"quoted\" (ACME),OU=Payments+UID=42,OU=Example Bank,C=GB`, want: ErrIdentityMismatch},
		"fail/raw string compare trap":  {dn: `CN=client, "quoted" (ACME),OU=Payments+UID=42,O=Example Bank,C=GB`, want: ErrInvalidRegistration},
		"fail/unknown attribute name":   {dn: `XYZ=client,C=GB`, want: ErrInvalidRegistration},
		"fail/empty":                    {dn: ``, want: ErrInvalidRegistration},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := a.TLSClientAuth(presented(leaf), Identity{SubjectDN: tc.dn})
			if tc.want == nil && err != nil {
				t.Fatalf("%s: %v", tc.dn, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("%s: got %v, want %v", tc.dn, err, tc.want)
			}
		})
	}
}

func TestTLSClientAuthSubjectAlternativeNames(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	uri, _ := url.Parse("spiffe://bank.example/payments")
	leaf, _ := ca.issue(t, func(c *x509.Certificate) {
		c.DNSNames = []string{"other.example", "Client.Example.COM"}
		c.URIs = []*url.URL{uri}
		c.IPAddresses = []net.IP{net.ParseIP("192.0.2.10"), net.ParseIP("2001:db8::1")}
		c.EmailAddresses = []string{"Ops@Bank.Example"}
	})
	a := NewAuthenticator(pool(ca.cert), fixedClock)
	tests := map[string]struct {
		id   Identity
		want error
	}{
		"ok/dns case-insensitive":        {id: Identity{SANDNS: "client.example.com"}},
		"ok/uri scheme and host case":    {id: Identity{SANURI: "SPIFFE://Bank.Example/payments"}},
		"ok/ipv4":                        {id: Identity{SANIP: "192.0.2.10"}},
		"ok/ipv4-mapped":                 {id: Identity{SANIP: "::ffff:192.0.2.10"}},
		"ok/ipv6 other spelling":         {id: Identity{SANIP: "2001:0db8:0:0::1"}},
		"ok/email domain case":           {id: Identity{SANEmail: "Ops@bank.example"}},
		"fail/dns other":                 {id: Identity{SANDNS: "client.example.org"}, want: ErrIdentityMismatch},
		"fail/dns no wildcard matching":  {id: Identity{SANDNS: "example.com"}, want: ErrIdentityMismatch},
		"fail/uri path case":             {id: Identity{SANURI: "spiffe://bank.example/Payments"}, want: ErrIdentityMismatch},
		"fail/ip other":                  {id: Identity{SANIP: "192.0.2.11"}, want: ErrIdentityMismatch},
		"fail/email local part case":     {id: Identity{SANEmail: "ops@bank.example"}, want: ErrIdentityMismatch},
		"fail/dns value is not in DN":    {id: Identity{SubjectDN: "CN=Client.Example.COM"}, want: ErrIdentityMismatch},
		"fail/two values registered":     {id: Identity{SANDNS: "client.example.com", SANIP: "192.0.2.10"}, want: ErrInvalidRegistration},
		"fail/nothing registered":        {id: Identity{}, want: ErrInvalidRegistration},
		"fail/ip registration not an IP": {id: Identity{SANIP: "client.example.com"}, want: ErrInvalidRegistration},
		"fail/uri registration relative": {id: Identity{SANURI: "/payments"}, want: ErrInvalidRegistration},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := a.TLSClientAuth(presented(leaf), tc.id)
			if tc.want == nil && err != nil {
				t.Fatalf("%+v: %v", tc.id, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("%+v: got %v, want %v", tc.id, err, tc.want)
			}
		})
	}
}

func TestIdentityValidateRequiresExactlyOneWellFormedValue(t *testing.T) {
	for name, tc := range map[string]struct {
		id Identity
		ok bool
	}{
		"ok/dn":          {id: Identity{SubjectDN: "CN=a,O=b"}, ok: true},
		"ok/email":       {id: Identity{SANEmail: "a@b.example"}, ok: true},
		"fail/none":      {id: Identity{SANDNS: "  "}},
		"fail/two":       {id: Identity{SubjectDN: "CN=a", SANURI: "https://a.example"}},
		"fail/bad dn":    {id: Identity{SubjectDN: "CN=a,,O=b"}},
		"fail/bad hex":   {id: Identity{SubjectDN: `CN=a\zz`}},
		"fail/dns URL":   {id: Identity{SANDNS: "https://a.example"}},
		"fail/email":     {id: Identity{SANEmail: "a.example"}},
		"fail/ip zone":   {id: Identity{SANIP: "fe80::1%eth0"}},
		"fail/unescaped": {id: Identity{SubjectDN: `CN=a;b`}},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.id.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate(%+v) = %v", tc.id, err)
			}
			if err != nil && !errors.Is(err, ErrInvalidRegistration) {
				t.Fatalf("error %v does not wrap ErrInvalidRegistration", err)
			}
		})
	}
}

func TestSelfSignedTLSClientAuthKeyInJWKSSucceeds(t *testing.T) {
	leaf, key := selfSigned(t, nil)
	other := newKey(t)
	a := NewAuthenticator(nil, fixedClock)
	bare := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: other.Public(), KeyID: "other", Use: "sig"},
		{Key: key.Public(), KeyID: "tls", Use: "sig"},
	}}
	if err := a.SelfSignedTLSClientAuth(presented(leaf), bare); err != nil {
		t.Fatalf("bare key: %v", err)
	}
	withX5C := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "tls", Certificates: []*x509.Certificate{leaf}}}}
	if err := a.SelfSignedTLSClientAuth(presented(leaf), withX5C); err != nil {
		t.Fatalf("x5c: %v", err)
	}
	// The JWKS as a client registers it (JSON, public members only).
	js, err := bare.Keys[1].Public().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var parsed jose.JSONWebKey
	if err := parsed.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	if err := a.SelfSignedTLSClientAuth(presented(leaf), &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{parsed}}); err != nil {
		t.Fatalf("key from JSON: %v", err)
	}
}

func TestSelfSignedTLSClientAuthCertificateFromAnyIssuerWithRegisteredKeySucceeds(t *testing.T) {
	ca := newTestCA(t, "Somebody's CA")
	leaf, key := ca.issue(t, nil)
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public()}}}
	if err := NewAuthenticator(nil, fixedClock).SelfSignedTLSClientAuth(presented(leaf), jwks); err != nil {
		t.Fatal(err)
	}
}

func TestSelfSignedTLSClientAuthKeyNotInJWKSFails(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	a := NewAuthenticator(nil, fixedClock)
	for name, jwks := range map[string]*jose.JSONWebKeySet{
		"other key": {Keys: []jose.JSONWebKey{{Key: newKey(t).Public()}}},
		"empty":     {},
		"nil":       nil,
		"symmetric": {Keys: []jose.JSONWebKey{{Key: []byte("0123456789abcdef0123456789abcdef"), Algorithm: "HS256"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := a.SelfSignedTLSClientAuth(presented(leaf), jwks); !errors.Is(err, ErrKeyNotRegistered) {
				t.Fatalf("got %v, want ErrKeyNotRegistered", err)
			}
		})
	}
}

func TestSelfSignedTLSClientAuthEncryptionKeyDoesNotCount(t *testing.T) {
	leaf, key := selfSigned(t, nil)
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), Use: "enc"}}}
	if err := NewAuthenticator(nil, fixedClock).SelfSignedTLSClientAuth(presented(leaf), jwks); !errors.Is(err, ErrKeyNotRegistered) {
		t.Fatalf("got %v, want ErrKeyNotRegistered", err)
	}
}

func TestSelfSignedTLSClientAuthExpiredCertificateFails(t *testing.T) {
	for name, edit := range map[string]func(*x509.Certificate){
		"expired":       func(c *x509.Certificate) { c.NotAfter = testNow.Add(-time.Second) },
		"not yet valid": func(c *x509.Certificate) { c.NotBefore = testNow.Add(time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			leaf, key := selfSigned(t, edit)
			jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public()}}}
			if err := NewAuthenticator(nil, fixedClock).SelfSignedTLSClientAuth(presented(leaf), jwks); !errors.Is(err, ErrUntrustedCertificate) {
				t.Fatalf("got %v, want ErrUntrustedCertificate", err)
			}
		})
	}
}

func TestSelfSignedTLSClientAuthWithoutCertificateFails(t *testing.T) {
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: newKey(t).Public()}}}
	if err := NewAuthenticator(nil, fixedClock).SelfSignedTLSClientAuth(nil, jwks); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("got %v, want ErrNoCertificate", err)
	}
}

func TestValidateSelfSignedJWKS(t *testing.T) {
	key := newKey(t)
	for name, tc := range map[string]struct {
		jwks *jose.JSONWebKeySet
		ok   bool
	}{
		"ok/public signing key": {jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), Use: "sig"}}}, ok: true},
		"ok/no use given":       {jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public()}}}, ok: true},
		"fail/nil":              {jwks: nil},
		"fail/empty":            {jwks: &jose.JSONWebKeySet{}},
		"fail/private key":      {jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key}}}},
		"fail/symmetric key":    {jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: []byte("0123456789abcdef")}}}},
		"fail/encryption only":  {jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), Use: "enc"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			err := ValidateSelfSignedJWKS(tc.jwks)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidRegistration)) {
				t.Fatalf("ValidateSelfSignedJWKS = %v", err)
			}
		})
	}
}

// RFC 5280 §4.2.1.12: a certificate without the extension may be used for
// any purpose; an issuing CA restricted to server authentication cannot
// issue client certificates.
func TestTLSClientAuthExtendedKeyUsageRules(t *testing.T) {
	root := newTestCA(t, "Root")
	a := NewAuthenticator(pool(root.cert), fixedClock)
	for name, tc := range map[string]struct {
		eku  []x509.ExtKeyUsage
		want error
	}{
		"ok/no extension":       {},
		"ok/any":                {eku: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}},
		"ok/client and server":  {eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		"fail/email protection": {eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, want: ErrUntrustedCertificate},
		"fail/code signing":     {eku: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, want: ErrUntrustedCertificate},
	} {
		t.Run(name, func(t *testing.T) {
			leaf, _ := root.issue(t, func(c *x509.Certificate) { c.ExtKeyUsage = tc.eku })
			err := a.TLSClientAuth(presented(leaf), subjectDN)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("fail/issuing CA restricted to server authentication", func(t *testing.T) {
		inter := root.intermediateWith(t, "Server CA", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
		leaf, _ := inter.issue(t, nil)
		if err := a.TLSClientAuth(presented(leaf, inter.cert), subjectDN); !errors.Is(err, ErrUntrustedCertificate) {
			t.Fatalf("got %v, want ErrUntrustedCertificate", err)
		}
	})
}

func TestIdentityMatchesWithoutVerifyingTheChain(t *testing.T) {
	leaf, _ := selfSigned(t, func(c *x509.Certificate) { c.DNSNames = []string{"client.example.com"} })
	if err := (Identity{SANDNS: "client.example.com"}).Matches(leaf); err != nil {
		t.Fatal(err)
	}
	if err := (Identity{SANDNS: "other.example.com"}).Matches(leaf); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatalf("got %v, want ErrIdentityMismatch", err)
	}
	if err := (Identity{SANDNS: "client.example.com"}).Matches(nil); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("got %v, want ErrNoCertificate", err)
	}
	if err := (Identity{}).Matches(leaf); !errors.Is(err, ErrInvalidRegistration) {
		t.Fatalf("got %v, want ErrInvalidRegistration", err)
	}
}
