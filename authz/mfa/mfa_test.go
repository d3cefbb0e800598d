package mfa

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestMatchTOTPWindow(t *testing.T) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Test", AccountName: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 15, 0, time.UTC)
	step := now.Unix() / totpPeriod
	for name, tc := range map[string]struct {
		offset time.Duration
		ok     bool
	}{
		"ok/current": {0, true}, "ok/one-step-back": {-30 * time.Second, true}, "ok/one-step-ahead": {30 * time.Second, true},
		"fail/two-steps-back": {-60 * time.Second, false}, "fail/two-steps-ahead": {60 * time.Second, false},
	} {
		t.Run(name, func(t *testing.T) {
			code, _ := totp.GenerateCode(key.Secret(), now.Add(tc.offset))
			got, ok := matchTOTP(key.Secret(), code, now)
			if ok != tc.ok || ok && got != step+int64(tc.offset/(30*time.Second)) {
				t.Fatalf("matchTOTP = %d, %v", got, ok)
			}
		})
	}
	if _, ok := matchTOTP(key.Secret(), "12345", now); ok {
		t.Fatal("fail/five-digits accepted")
	}
	if _, ok := matchTOTP(key.Secret(), strings.Repeat("1", 7), now); ok {
		t.Fatal("fail/seven-digits accepted")
	}
}

func TestSecretBoxBindsUser(t *testing.T) {
	box, err := newSecretBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.seal([]byte("JBSWY3DPEHPK3PXP"), totpAD("u1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "JBSWY3DP") {
		t.Fatal("secret stored in the clear")
	}
	if _, err := box.open(sealed, totpAD("u2")); err == nil {
		t.Fatal("fail/other-user: a sealed secret opened for another user")
	}
	if plain, err := box.open(sealed, totpAD("u1")); err != nil || string(plain) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("ok/same-user: %q, %v", plain, err)
	}
}
