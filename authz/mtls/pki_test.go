package mtls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// testNow is the clock of the unit tests; certificates are valid an hour
// either side of it unless a test says otherwise.
var testNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// testCA is a certificate authority made up for one test.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newTestCA makes a self-signed root CA.
func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Test PKI"}},
		NotBefore:             testNow.Add(-24 * time.Hour),
		NotAfter:              testNow.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: mustParse(t, der), key: key}
}

// intermediate makes a CA signed by ca.
func (ca *testCA) intermediate(t testing.TB, cn string) *testCA {
	t.Helper()
	return ca.intermediateWith(t, cn, nil)
}

// intermediateWith makes a CA signed by ca, restricted to eku when not nil.
func (ca *testCA) intermediateWith(t testing.TB, cn string, eku []x509.ExtKeyUsage) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             testNow.Add(-24 * time.Hour),
		NotAfter:              testNow.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: mustParse(t, der), key: key}
}

// leafTemplate is a client certificate: CN=client, clientAuth EKU, valid
// around testNow. Tests change what they need.
func leafTemplate(t testing.TB) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "client.example.com", Organization: []string{"Example Bank"}, Country: []string{"GB"}},
		NotBefore:    testNow.Add(-time.Hour),
		NotAfter:     testNow.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// issue signs a client certificate with ca; edit adjusts the template.
func (ca *testCA) issue(t testing.TB, edit func(*x509.Certificate)) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	tmpl := leafTemplate(t)
	if edit != nil {
		edit(tmpl)
	}
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, der), key
}

// selfSigned makes a self-signed client certificate.
func selfSigned(t testing.TB, edit func(*x509.Certificate)) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	tmpl := leafTemplate(t)
	if edit != nil {
		edit(tmpl)
	}
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, der), key
}

func mustParse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func pemOf(certs ...*x509.Certificate) string {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return string(out)
}

func presented(leaf *x509.Certificate, intermediates ...*x509.Certificate) *ClientCertificate {
	return &ClientCertificate{Leaf: leaf, Intermediates: intermediates, Source: SourceTLS}
}

// reissue makes a certificate from ca for the key of an existing one.
func (ca *testCA) reissue(t testing.TB, c *x509.Certificate, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := leafTemplate(t)
	tmpl.Subject = c.Subject
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return mustParse(t, der)
}
