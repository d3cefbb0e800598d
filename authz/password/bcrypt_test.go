package password

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// TestBcryptLoginRehashesToArgon2id: a user imported with a bcrypt hash
// logs in with their password, and the successful login replaces the hash
// with argon2id under the current parameters; a wrong password leaves it.
func TestBcryptLoginRehashesToArgon2id(t *testing.T) {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			store := memory.New()
			t.Cleanup(store.Close)
			h, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.MinCost)
			must(t, err)
			hash := prefix + string(h[4:])
			must(t, store.CreateUser(t.Context(), &storage.User{ID: "u1", Username: "alice", PasswordHash: hash}))
			a, err := NewAuthenticator(store)
			must(t, err)
			a.Params = cheapArgon2

			_, err = a.Authenticate(t.Context(), "alice", "wrong horse battery")
			wantErr(t, err, ErrInvalidCredentials)
			u, err := store.GetUser(t.Context(), "u1")
			must(t, err)
			if u.PasswordHash != hash {
				t.Fatal("a failed login changed the bcrypt hash")
			}

			if _, err := a.Authenticate(t.Context(), "alice", "correct horse battery"); err != nil {
				t.Fatalf("bcrypt login: %v", err)
			}
			u, err = store.GetUser(t.Context(), "u1")
			must(t, err)
			if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("after login the stored hash is not argon2id with the current parameters (prefix %.12q)", u.PasswordHash)
			}
			if ok, err := Verify(u.PasswordHash, "correct horse battery"); err != nil || !ok {
				t.Fatalf("rehashed password does not verify: %v %v", ok, err)
			}
			if _, err := a.Authenticate(t.Context(), "alice", "correct horse battery"); err != nil {
				t.Fatalf("login after rehash: %v", err)
			}
		})
	}
}

// TestBcryptCostBounded: a bcrypt hash above MaxBcryptCost is refused at
// import and never computed at login.
func TestBcryptCostBounded(t *testing.T) {
	costly := "$2a$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	if err := CheckImportedHash(costly); err == nil {
		t.Fatal("bcrypt cost 31 accepted for import")
	}
	if ok, err := Verify(costly, "correct horse battery"); ok || err == nil {
		t.Fatalf("Verify with cost 31 = %v, %v; want an error without computing", ok, err)
	}
}

// TestImportedHashFormats: users import accepts argon2id PHC and bcrypt
// ($2a$, $2b$, $2y$) and refuses every other format, without quoting it.
func TestImportedHashFormats(t *testing.T) {
	argon := mustHash(t, "correct horse battery")
	tests := []struct {
		name, hash string
		ok         bool
	}{
		{"ok/argon2id", argon, true},
		{"ok/bcrypt-2a", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", true},
		{"ok/bcrypt-2b", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", true},
		{"ok/bcrypt-2y", "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", true},
		{"fail/empty", "", false},
		{"fail/plaintext", "hunter2hunter2", false},
		{"fail/md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", false},
		{"fail/sha512-crypt", "$6$saltsalt$abcdefghijklmnopqrstuvwxyz", false},
		{"fail/argon2i", strings.Replace(argon, "$argon2id$", "$argon2i$", 1), false},
		{"fail/pbkdf2", "$pbkdf2-sha256$29000$N2YuJcR4j1Hq$Cbb/0nx8Nd6Lik3Zcxnz1V3wMi9Ls4k46Xz8sOrfEvxk", false},
		{"fail/bcrypt-truncated", "$2a$10$N9qo8uLOick", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckImportedHash(tc.hash)
			if tc.ok != (err == nil) {
				t.Fatalf("CheckImportedHash = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && tc.hash != "" && strings.Contains(err.Error(), tc.hash) {
				t.Fatal("the error quotes the hash")
			}
		})
	}
}

func mustBcrypt(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	must(t, err)
	return string(h)
}
