package password

import (
	"errors"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// cheapArgon2 keeps the tests fast; the format is what is under test.
var cheapArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func TestHashPassword(t *testing.T) {
	h1, err := Hash("correct horse battery", cheapArgon2)
	must(t, err)
	h2, err := Hash("correct horse battery", cheapArgon2)
	must(t, err)
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with the given parameters", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
	if strings.Contains(h1, "correct horse") {
		t.Fatal("hash contains the password")
	}
	for _, h := range []string{h1, h2} {
		ok, err := Verify(h, "correct horse battery")
		must(t, err)
		if !ok {
			t.Fatalf("round trip failed for %q", h)
		}
	}
}

func TestVerifyPassword(t *testing.T) {
	hash, err := Hash("correct horse battery", cheapArgon2)
	must(t, err)
	parts := strings.Split(hash, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name     string
		hash     string
		password string
		ok       bool
		err      bool
	}{
		{"ok/match", hash, "correct horse battery", true, false},
		{"ok/unicode", mustHash(t, "pässwörd-ünïcödé"), "pässwörd-ünïcödé", true, false},
		{"fail/wrong-password", hash, "correct horse batterY", false, false},
		{"fail/empty-password", hash, "", false, false},
		{"fail/password-prefix", hash, "correct horse batter", false, false},
		{"fail/empty-hash-string", "", "x", false, true},
		{"fail/bcrypt-wrong-password", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "x", false, false},
		{"ok/bcrypt", mustBcrypt(t, "correct horse battery"), "correct horse battery", true, false},
		{"fail/bcrypt-malformed", "$2a$10$short", "x", false, true},
		{"fail/too-few-fields", strings.Join(parts[:5], "$"), "correct horse battery", false, true},
		{"fail/too-many-fields", hash + "$extra", "correct horse battery", false, true},
		{"fail/algorithm-argon2i", with(1, "argon2i"), "correct horse battery", false, true},
		{"fail/version-16", with(2, "v=16"), "correct horse battery", false, true},
		{"fail/version-garbage", with(2, "version"), "correct horse battery", false, true},
		{"fail/params-garbage", with(3, "m=x,t=1,p=1"), "correct horse battery", false, true},
		{"fail/params-missing-threads", with(3, "m=64,t=1"), "correct horse battery", false, true},
		{"fail/params-threads-overflow", with(3, "m=64,t=1,p=256"), "correct horse battery", false, true},
		{"fail/params-zero-time", with(3, "m=64,t=0,p=1"), "correct horse battery", false, true},
		{"fail/params-zero-threads", with(3, "m=64,t=1,p=0"), "correct horse battery", false, true},
		{"fail/params-memory-unbounded", with(3, "m=4294967295,t=1,p=1"), "correct horse battery", false, true},
		{"fail/params-too-many-passes", with(3, "m=64,t=100000,p=1"), "correct horse battery", false, true},
		{"fail/params-trailing-text", with(3, "m=64,t=1,p=1,x=5"), "correct horse battery", false, true},
		{"fail/salt-not-base64", with(4, "!!!"), "correct horse battery", false, true},
		{"fail/key-not-base64", with(5, "!!!"), "correct horse battery", false, true},
		{"fail/key-empty", with(5, ""), "correct horse battery", false, true},
		{"fail/key-empty-any-password", with(5, ""), "wrong", false, true},
		{"fail/key-of-other-password", with(5, strings.Split(mustHash(t, "other password!"), "$")[5]), "correct horse battery", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ok bool
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Verify panicked on %q: %v", tc.hash, r)
					}
				}()
				ok, err = Verify(tc.hash, tc.password)
			}()
			if tc.err != (err != nil) {
				t.Fatalf("err = %v, want error: %v", err, tc.err)
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := Hash(pw, cheapArgon2)
	must(t, err)
	return h
}

// pw returns n bytes of an uncommon password; pwRunes n multi-byte runes.
func pw(n int) string { return strings.Repeat("Zq8#pL2!vR5m-Tx7&kW3@", n/21+1)[:n] }

func pwRunes(n int) string {
	return string([]rune(strings.Repeat("çé4ÿñ€ß∂ƒ©˙∆Ωπ", n/14+1))[:n])
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"ok/min-length", pw(MinLength), true},
		{"ok/min-length-in-runes", pwRunes(MinLength), true},
		{"ok/max-length", pw(MaxLength), true},
		{"fail/empty", "", false},
		{"fail/one-short", pw(MinLength - 1), false},
		{"fail/short-in-runes-long-in-bytes", pwRunes(MinLength - 1), false},
		{"fail/one-too-long", pw(MaxLength + 1), false},
		{"fail/too-long-in-bytes", strings.Repeat("é", MaxLength/2+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.password)
			if tc.ok != (err == nil) {
				t.Fatalf("Validate(%d bytes, %d runes) = %v, want ok=%v", len(tc.password), len([]rune(tc.password)), err, tc.ok)
			}
		})
	}
}

func TestAuthenticator(t *testing.T) {
	store := memory.New()
	t.Cleanup(store.Close)
	hash, err := Hash("correct horse battery", cheapArgon2)
	must(t, err)
	must(t, store.CreateUser(t.Context(), &storage.User{ID: "u1", Username: "alice", PasswordHash: hash}))
	must(t, store.CreateUser(t.Context(), &storage.User{ID: "u2", Username: "broken", PasswordHash: "not-a-phc-string"}))
	a, err := NewAuthenticator(store)
	must(t, err)
	tests := []struct {
		name, username, password string
		err                      error // nil: authenticated
	}{
		{"ok/alice", "alice", "correct horse battery", nil},
		{"fail/wrong-password", "alice", "wrong horse battery", ErrInvalidCredentials},
		{"fail/unknown-user", "mallory", "correct horse battery", ErrInvalidCredentials},
		{"fail/username-case", "Alice", "correct horse battery", ErrInvalidCredentials},
		{"fail/password-too-long", "alice", strings.Repeat("x", MaxLength+1), ErrInvalidCredentials},
		{"fail/username-too-long", strings.Repeat("a", 257), "correct horse battery", ErrInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := a.Authenticate(t.Context(), tc.username, tc.password)
			if tc.err == nil {
				must(t, err)
				if u.ID != "u1" {
					t.Fatalf("authenticated as %q", u.ID)
				}
				return
			}
			wantErr(t, err, tc.err)
			if u != nil {
				t.Fatal("user returned on failure")
			}
		})
	}
	t.Run("fail/corrupt-stored-hash-is-not-invalid-credentials", func(t *testing.T) {
		_, err := a.Authenticate(t.Context(), "broken", "whatever password")
		if err == nil || errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("err = %v: a corrupt hash must surface as an internal error", err)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr fails unless err matches target (errors.Is).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %q", err, target)
	}
}
