package authz

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/strongroom/strongroom/storage/memory"
)

func TestThrottlePolicy(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	th := NewThrottle(memory.New(), DefaultThrottle, clock)

	// Delays after failures 1..4: 0, 1 s, 2 s, 4 s; the 5th locks for 15 min.
	for i, want := range []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second} {
		a, err := th.Admit(ctx, "carol", "192.0.2.7")
		if err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		lock, err := a.Fail(ctx)
		if err != nil || lock != nil {
			t.Fatalf("failure %d: lock=%v err=%v", i+1, lock, err)
		}
		var te *ThrottleError
		err = th.Wait(ctx, "carol", "192.0.2.7")
		if want == 0 && err != nil || want > 0 && (!errors.As(err, &te) || te.Locked || te.RetryAfter != want) {
			t.Fatalf("after failure %d: %v, want a wait of %v", i+1, err, want)
		}
		now = now.Add(want)
	}
	a, err := th.Admit(ctx, "carol", "192.0.2.7")
	if err != nil {
		t.Fatalf("attempt 5 refused: %v", err)
	}
	lock, err := a.Fail(ctx)
	if err != nil || lock == nil {
		t.Fatalf("fail/fifth-failure-locks: lock=%v err=%v", lock, err)
	}
	var te *ThrottleError
	if _, err := th.Admit(ctx, "carol", "198.51.100.1"); !errors.As(err, &te) || !te.Locked {
		t.Fatalf("fail/locked-from-any-address: %v", err)
	}
	// Other accounts from the same address are not locked (address limit is higher).
	if _, err := th.Admit(ctx, "dave", "192.0.2.7"); err != nil {
		t.Fatalf("ok/other-account: %v", err)
	}
	// The lock expires by itself.
	now = now.Add(15*time.Minute + time.Second)
	if _, err := th.Admit(ctx, "carol", "198.51.100.1"); err != nil {
		t.Fatalf("ok/lock-expires: %v", err)
	}
	// Parallel guesses: an admitted attempt keeps the account busy until it
	// fails or succeeds, so a burst is answered one at a time.
	first, err := th.Admit(ctx, "erin", "192.0.2.8")
	if err != nil {
		t.Fatalf("ok/first-of-burst: %v", err)
	}
	if _, err := th.Admit(ctx, "erin", "192.0.2.9"); !errors.As(err, &te) || te.Locked {
		t.Fatalf("fail/second-of-burst-admitted: %v", err)
	}
	if _, err := first.Fail(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := th.Admit(ctx, "erin", "192.0.2.9")
	if err != nil {
		t.Fatalf("ok/next-after-failure (first failure is free): %v", err)
	}
	if err := next.Succeed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := th.Admit(ctx, "erin", "192.0.2.9"); err != nil {
		t.Fatalf("ok/next-after-success: %v", err)
	}
	// An IPv6 /64 counts as one address.
	if IPKey("2001:db8::1") != IPKey("2001:db8::ffff:1") || IPKey("2001:db8::1") == IPKey("2001:db8:0:1::1") {
		t.Fatal("IPv6 addresses are not grouped by /64")
	}
}

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
