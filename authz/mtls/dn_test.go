package mtls

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"testing"
)

func TestCertificateSubjectDNRegistersTheCertificate(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	leaf, _ := ca.issue(t, func(c *x509.Certificate) {
		c.Subject = pkix.Name{
			CommonName:         " Payments, Ltd. #1 ",
			Organization:       []string{"Example Bank"},
			OrganizationalUnit: []string{"A+B"},
			Country:            []string{"GB"},
			ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: "PSDGB-FCA-123456"},
				{Type: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: `odd "value"; <x>`},
			},
		}
	})
	s, err := CertificateSubjectDN(leaf)
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{SubjectDN: s}
	if err := id.Validate(); err != nil {
		t.Fatalf("the DN written for %v does not validate: %q: %v", leaf.Subject, s, err)
	}
	if err := NewAuthenticator(pool(ca.cert), fixedClock).TLSClientAuth(presented(leaf), id); err != nil {
		t.Fatalf("the DN written for the certificate (%q) does not authenticate it: %v", s, err)
	}
	want := `1.2.3.4=odd \"value\"\; \<x\>,organizationIdentifier=PSDGB-FCA-123456,CN=\ Payments\, Ltd. #1\ ,OU=A\+B,O=Example Bank,C=GB`
	if s != want {
		t.Fatalf("CertificateSubjectDN = %q,\n want %q", s, want)
	}
}

func TestParseDNWritesASN1Order(t *testing.T) {
	dn, err := ParseDN("CN=leaf, O=Org, C=GB")
	if err != nil {
		t.Fatal(err)
	}
	if len(dn) != 3 || dn[0][0].Value != "GB" || dn[2][0].Value != "leaf" {
		t.Fatalf("ParseDN order: %+v", dn)
	}
	if got := dn.String(); got != "CN=leaf,O=Org,C=GB" {
		t.Fatalf("String = %q", got)
	}
	back, err := ParseDN(dn.String())
	if err != nil || !back.Equal(dn) {
		t.Fatalf("round trip: %v, %v", back, err)
	}
}

func TestParseDNRefusesMalformedNames(t *testing.T) {
	for _, s := range []string{
		"", "CN", "=x", "CN=a,", ",CN=a", "CN=a+", `CN=a\`, `CN=a\g1`, `CN=a\4`, `CN="a`, `CN="a"b`,
		"CN=#zz", "CN=#0403", "CN=a<b", `CN=\ff`, "1.x=a", "01.2=a", "OID.=a",
	} {
		if _, err := ParseDN(s); !errors.Is(err, ErrInvalidRegistration) {
			t.Errorf("ParseDN(%q) = %v, want ErrInvalidRegistration", s, err)
		}
	}
}

func FuzzParseDN(f *testing.F) {
	for _, s := range []string{
		`CN=client\, "x",OU=A+UID=1,O=Bank,C=GB`, `cn = a , o = b`, `2.5.4.3=#0c0161`, `CN="q\"uoted"`, `CN=\e2\82\ac`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dn, err := ParseDN(s)
		if err != nil {
			return
		}
		back, err := ParseDN(dn.String())
		if err != nil {
			t.Fatalf("ParseDN(%q) = %v, its String %q does not parse: %v", s, dn, dn.String(), err)
		}
		if !back.Equal(dn) {
			t.Fatalf("ParseDN(%q).String() = %q reads back as another DN", s, dn.String())
		}
	})
}

// testdata/openssl-client.pem was made by OpenSSL (its key thrown away):
//
//	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
//	  -subj "/C=GB/O=Example, Bank/OU=Pay+UID=42/CN=client  x.example.com/emailAddress=ops@bank.example" \
//	  -addext "subjectAltName=DNS:client.example.com,URI:spiffe://bank.example/pay,IP:192.0.2.7,email:ops@bank.example"
//
// What OpenSSL prints for it must register it.
func TestTLSClientAuthIdentityFromOpenSSLOutputMatches(t *testing.T) {
	data, err := os.ReadFile("testdata/openssl-client.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificateHeader(string(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []Identity{
		{SubjectDN: `emailAddress=ops@bank.example,CN=client  x.example.com,UID=42+OU=Pay,O=Example\, Bank,C=GB`}, // -nameopt RFC2253
		{SubjectDN: `E=OPS@bank.example, CN=client x.example.com, OU=Pay+UID=42, O="Example, Bank", C=GB`},
		{SANDNS: "client.example.com"},
		{SANURI: "spiffe://bank.example/pay"},
		{SANIP: "192.0.2.7"},
		{SANEmail: "ops@bank.example"},
	} {
		if err := id.Matches(c.Leaf); err != nil {
			t.Errorf("%+v: %v", id, err)
		}
	}
	if err := (Identity{SubjectDN: "C = GB, O = \"Example, Bank\", OU = Pay + UID = 42, CN = client  x.example.com, emailAddress = ops@bank.example"}).Matches(c.Leaf); !errors.Is(err, ErrIdentityMismatch) {
		t.Errorf("OpenSSL's default (ASN.1-order) output matched: %v", err)
	}
}
