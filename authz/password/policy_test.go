package password

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

func TestValidatePasswordPolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		password string
		wantErr  bool
	}{
		"ok/long-uncommon":           {"velvet-harbour-lantern-97", false},
		"fail/short":                 {"Tr0ub4dor&3", true},
		"fail/common-long":           {"qwertyuiop123", true},
		"fail/common-other-case":     {"PasswordPassword", true},
		"fail/common-plus-suffix":    {"Password2024!!", true},
		"fail/one-character-repeat":  {"zzzzzzzzzzzzzzzz", true},
		"fail/common-keyboard-walk":  {"1qaz2wsx3edc", true},
		"ok/common-word-inside-more": {"dragon-kite-violet-41", false},
	} {
		t.Run(name, func(t *testing.T) {
			err := Validate(tc.password)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ValidatePassword(%q) = %v, want error %v", tc.password, err, tc.wantErr)
			}
		})
	}
	if n := len(commonPasswords()); n < 3000 {
		t.Fatalf("common password list has %d entries", n)
	}
}

func TestRehashOnLogin(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	weak := Argon2Params{Memory: 8 * 1024, Time: 1, Threads: 1}
	hash, err := Hash("velvet-harbour-lantern-97", weak)
	if err != nil {
		t.Fatal(err)
	}
	u := &storage.User{ID: "u1", Username: "carol", PasswordHash: hash, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a, err := NewAuthenticator(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "carol", "wrong-password-here"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("fail/wrong-password: %v", err)
	}
	if got, _ := store.GetUser(ctx, "u1"); got.PasswordHash != hash {
		t.Fatal("fail/wrong-password: the hash changed")
	}
	if _, err := a.Authenticate(ctx, "carol", "velvet-harbour-lantern-97"); err != nil {
		t.Fatal(err)
	}
	got, _ := store.GetUser(ctx, "u1")
	p, err := hashParams(got.PasswordHash)
	if err != nil || p != DefaultArgon2 {
		t.Fatalf("ok/rehashed: params %+v (%v), want %+v", p, err, DefaultArgon2)
	}
	if ok, _ := Verify(got.PasswordHash, "velvet-harbour-lantern-97"); !ok {
		t.Fatal("ok/rehashed: new hash does not verify")
	}
}
