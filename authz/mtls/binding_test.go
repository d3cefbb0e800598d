package mtls

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCertificateThumbprintIsBase64URLSHA256OfDER(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	sum := sha256.Sum256(leaf.Raw)
	want := strings.TrimRight(base64.URLEncoding.EncodeToString(sum[:]), "=")
	if got := Thumbprint(leaf); got != want {
		t.Fatalf("Thumbprint = %q, want %q", got, want)
	}
	// RFC 8705 §3.1's example form: 43 characters, no padding.
	if len(Thumbprint(leaf)) != 43 || strings.ContainsAny(Thumbprint(leaf), "+/=") {
		t.Fatalf("thumbprint %q is not unpadded base64url", Thumbprint(leaf))
	}
	// A known vector: SHA-256 of the bytes "abc".
	abc, _ := hex.DecodeString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	leaf.Raw = []byte("abc")
	if got, want := Thumbprint(leaf), base64.RawURLEncoding.EncodeToString(abc); got != want {
		t.Fatalf("Thumbprint(abc) = %q, want %q", got, want)
	}
}

func TestCertificateBoundTokenConfirmationClaim(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	js, err := json.Marshal(map[string]any{"cnf": ConfirmationFor(leaf)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"cnf":{"x5t#S256":"` + Thumbprint(leaf) + `"}}`; string(js) != want {
		t.Fatalf("cnf = %s, want %s", js, want)
	}
	var back struct{ Cnf map[string]string }
	if err := json.Unmarshal(js, &back); err != nil || back.Cnf[ConfirmationMethod] != Thumbprint(leaf) {
		t.Fatalf("cnf member %q not found in %s", ConfirmationMethod, js)
	}
}

func TestCertificateBoundTokenWithSameCertificateSucceeds(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	if err := VerifyBoundCertificate(presented(leaf), Thumbprint(leaf)); err != nil {
		t.Fatal(err)
	}
}

func TestCertificateBoundTokenWithOtherCertificateFails(t *testing.T) {
	bound, key := selfSigned(t, nil)
	other, _ := selfSigned(t, nil)
	if err := VerifyBoundCertificate(presented(other), Thumbprint(bound)); !errors.Is(err, ErrBindingMismatch) {
		t.Fatalf("got %v, want ErrBindingMismatch", err)
	}
	// Even a certificate for the same key is another certificate.
	ca := newTestCA(t, "CA")
	sameKey := ca.reissue(t, bound, key)
	if err := VerifyBoundCertificate(presented(sameKey), Thumbprint(bound)); !errors.Is(err, ErrBindingMismatch) {
		t.Fatalf("same key, other certificate: got %v, want ErrBindingMismatch", err)
	}
}

func TestCertificateBoundTokenWithoutCertificateFails(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	if err := VerifyBoundCertificate(nil, Thumbprint(leaf)); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("got %v, want ErrNoCertificate", err)
	}
}

func TestCertificateBoundTokenWithMalformedThumbprintFails(t *testing.T) {
	leaf, _ := selfSigned(t, nil)
	tp := Thumbprint(leaf)
	sum := sha256.Sum256(leaf.Raw)
	for name, bad := range map[string]string{
		"empty":          "",
		"padded":         base64.URLEncoding.EncodeToString(sum[:]),
		"std alphabet":   base64.StdEncoding.EncodeToString(sum[:]),
		"truncated":      tp[:40],
		"sha-1 length":   base64.RawURLEncoding.EncodeToString(sum[:20]),
		"not base64":     "!" + tp[1:],
		"trailing space": tp + " ",
	} {
		t.Run(name, func(t *testing.T) {
			if bad == tp {
				t.Skip("encodes the same")
			}
			if err := VerifyBoundCertificate(presented(leaf), bad); !errors.Is(err, ErrBindingMismatch) {
				t.Fatalf("got %v, want ErrBindingMismatch", err)
			}
		})
	}
}
