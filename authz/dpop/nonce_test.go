package dpop_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/dpop"
)

var nonceSecret = bytes.Repeat([]byte("s"), 32)

func newNonces(t testing.TB, secret []byte) *dpop.HMACNonces {
	t.Helper()
	n, err := dpop.NewHMACNonces(secret, time.Minute)
	if err != nil {
		t.Fatalf("NewHMACNonces: %v", err)
	}
	return n
}

func TestNewHMACNoncesRefusesWeakSettings(t *testing.T) {
	if _, err := dpop.NewHMACNonces(make([]byte, 31), 0); err == nil {
		t.Error("a 31-byte secret was accepted")
	}
	if _, err := dpop.NewHMACNonces(nonceSecret, time.Millisecond); err == nil {
		t.Error("a 1 ms period was accepted")
	}
	if _, err := dpop.NewHMACNonces(nonceSecret, 0); err != nil {
		t.Errorf("default period: %v", err)
	}
}

func TestDPoPNoncesRotateAndAreAcceptedForOneMorePeriod(t *testing.T) {
	n := newNonces(t, nonceSecret)
	slotStart := testNow.Truncate(time.Minute)
	nonce := n.Nonce(slotStart)
	if nonce == "" || strings.ContainsAny(nonce, "+/=") {
		t.Fatalf("nonce %q is not base64url", nonce)
	}
	if n.Nonce(slotStart.Add(59*time.Second)) != nonce {
		t.Error("nonce changed within its slot")
	}
	if n.Nonce(slotStart.Add(time.Minute)) == nonce {
		t.Error("nonce did not rotate with the slot")
	}
	for offset, want := range map[time.Duration]bool{
		-time.Second:                 false, // not yet issued
		0:                            true,
		time.Minute + 59*time.Second: true, // the previous slot's nonce
		2 * time.Minute:              false,
		time.Hour:                    false,
	} {
		if got := n.Valid(nonce, slotStart.Add(offset)); got != want {
			t.Errorf("Valid at +%v = %v, want %v", offset, got, want)
		}
	}
	for _, bad := range []string{"", "x", nonce + "A", strings.ToUpper(nonce), nonce[:len(nonce)-1] + "!"} {
		if n.Valid(bad, slotStart) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestDPoPNonceFromOneNodeIsAcceptedByAnother(t *testing.T) {
	a, b := newNonces(t, nonceSecret), newNonces(t, bytes.Clone(nonceSecret))
	if !b.Valid(a.Nonce(testNow), testNow) {
		t.Error("a nonce of node a is refused by node b with the same secret")
	}
	other := newNonces(t, bytes.Repeat([]byte("t"), 32))
	if other.Valid(a.Nonce(testNow), testNow) {
		t.Error("a nonce is accepted under another secret")
	}
}

func TestDPoPStaleNonceAsksForANewOne(t *testing.T) {
	nonces := newNonces(t, nonceSecret)
	v, _ := newVerifier(t, dpop.Config{Nonces: nonces})
	for name, nonce := range map[string]string{
		"two periods old": nonces.Nonce(testNow.Add(-2 * time.Minute)),
		"made up":         "not-a-nonce",
		"too long":        strings.Repeat("n", 300),
	} {
		t.Run(name, func(t *testing.T) {
			c := claims("jti-" + name)
			c["nonce"] = nonce
			req := request(es256Proof(t, c))
			req.RequireNonce = name == "made up" // checked whether required or not
			_, err := v.Verify(t.Context(), req)
			de := wantRefused(t, err, dpop.CodeUseNonce, dpop.ErrNonce)
			if de.Nonce != nonces.Nonce(testNow) {
				t.Errorf("fresh nonce = %q, want the current one", de.Nonce)
			}
			if de.ResourceCode() != dpop.CodeUseNonce {
				t.Errorf("ResourceCode = %q", de.ResourceCode())
			}
		})
	}
}

func TestDPoPMissingNonceAsksForOneWhenRequired(t *testing.T) {
	nonces := newNonces(t, nonceSecret)
	v, _ := newVerifier(t, dpop.Config{Nonces: nonces})
	req := request(es256Proof(t, claims("jti")))
	req.RequireNonce = true
	_, err := v.Verify(t.Context(), req)
	de := wantRefused(t, err, dpop.CodeUseNonce, dpop.ErrNonce)
	if de.Nonce != v.Nonce() || de.Nonce == "" {
		t.Errorf("fresh nonce = %q, want %q", de.Nonce, v.Nonce())
	}

	// The client retries with it (a new proof, a new jti) and is accepted.
	c := claims("jti-retry")
	c["nonce"] = de.Nonce
	req = request(es256Proof(t, c))
	req.RequireNonce = true
	p, err := v.Verify(t.Context(), req)
	if err != nil {
		t.Fatalf("retry with the nonce: %v", err)
	}
	if p.Nonce != de.Nonce {
		t.Errorf("Proof.Nonce = %q", p.Nonce)
	}

	// Optional: no nonce is fine.
	if _, err := v.Verify(t.Context(), request(es256Proof(t, claims("jti-optional")))); err != nil {
		t.Fatalf("no nonce when optional: %v", err)
	}
}

func TestDPoPNonceOfThePreviousSlotIsAccepted(t *testing.T) {
	nonces := newNonces(t, nonceSecret)
	v, clk := newVerifier(t, dpop.Config{Nonces: nonces})
	nonce := v.Nonce()
	clk.Set(testNow.Add(time.Minute))
	c := claims("jti")
	c["nonce"] = nonce
	c["iat"] = clk.Now().Unix()
	req := request(es256Proof(t, c))
	req.RequireNonce = true
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("previous slot's nonce: %v", err)
	}
}

func TestDPoPNoncesOff(t *testing.T) {
	v, _ := newVerifier(t, dpop.Config{})
	if v.Nonce() != "" {
		t.Error("Nonce() with nonces off is not empty")
	}
	c := claims("jti")
	c["nonce"] = "anything"
	if _, err := v.Verify(t.Context(), request(es256Proof(t, c))); err != nil {
		t.Fatalf("a nonce claim with nonces off: %v", err)
	}
	req := request(es256Proof(t, claims("jti-2")))
	req.RequireNonce = true
	_, err := v.Verify(t.Context(), req)
	de := wantRefused(t, err, dpop.CodeInvalidProof, dpop.ErrNonce)
	if de.Nonce != "" {
		t.Error("a nonce was offered with nonces off")
	}
}

func TestNonceMode(t *testing.T) {
	for _, tc := range []struct {
		in          string
		fapi, other bool
	}{
		{"required", true, true},
		{"optional", true, false},
		{"off", false, false},
	} {
		m, err := dpop.ParseNonceMode(tc.in)
		if err != nil {
			t.Fatalf("ParseNonceMode(%q): %v", tc.in, err)
		}
		if m.Require(true) != tc.fapi || m.Require(false) != tc.other {
			t.Errorf("%s: Require(true)=%v Require(false)=%v", tc.in, m.Require(true), m.Require(false))
		}
	}
	for _, bad := range []string{"", "on", "Required"} {
		if _, err := dpop.ParseNonceMode(bad); err == nil {
			t.Errorf("ParseNonceMode(%q) accepted", bad)
		}
	}
}
