package authz

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func newHasher(t testing.TB, systemSecret []byte) *SecretHasher {
	t.Helper()
	h, err := NewSecretHasher(systemSecret)
	must(t, err)
	return h
}

func TestSecretHasherCompare(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, testSystemSecret)
	secret := []byte("s3cr3t-of-the-client")
	hash, err := h.Hash(ctx, secret)
	must(t, err)
	other, err := newHasher(t, []byte("another-system-secret-0123456789abcdef")).Hash(ctx, secret)
	must(t, err)

	tests := []struct {
		name   string
		hash   []byte
		secret []byte
		ok     bool
	}{
		{"ok/match", hash, secret, true},
		{"fail/wrong-secret", hash, []byte("s3cr3t-of-the-clienT"), false},
		{"fail/secret-prefix", hash, secret[:len(secret)-1], false},
		{"fail/empty-secret", hash, nil, false},
		{"fail/empty-hash", nil, secret, false},
		{"fail/empty-hash-empty-secret", []byte{}, []byte{}, false},
		{"fail/truncated-hash", hash[:16], secret, false},
		{"fail/hash-under-other-system-secret", other, secret, false},
		{"fail/plain-sha256", func() []byte { s := sha256.Sum256(secret); return s[:] }(), secret, false},
		{"fail/secret-as-hash", secret, secret, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := h.Compare(ctx, tc.hash, tc.secret)
			if tc.ok {
				must(t, err)
				return
			}
			wantErr(t, err, ErrSecretMismatch)
		})
	}
}

func TestSecretHasherKeyed(t *testing.T) {
	ctx := t.Context()
	secret := []byte("client-secret")
	a1, _ := newHasher(t, testSystemSecret).Hash(ctx, secret)
	a2, _ := newHasher(t, bytes.Clone(testSystemSecret)).Hash(ctx, secret)
	b, _ := newHasher(t, append(bytes.Clone(testSystemSecret), 'x')).Hash(ctx, secret)
	if !bytes.Equal(a1, a2) {
		t.Fatal("the same system secret gives different hashes: stored hashes would not verify after a restart")
	}
	if bytes.Equal(a1, b) {
		t.Fatal("different system secrets give the same hash: the hash is not keyed")
	}
	if plain := sha256.Sum256(secret); bytes.Equal(a1, plain[:]) {
		t.Fatal("hash is plain SHA-256")
	}
	if len(a1) != sha256.Size {
		t.Fatalf("hash is %d bytes, want %d", len(a1), sha256.Size)
	}
	// The client-secret key is independent of the other derived keys.
	h := newHasher(t, testSystemSecret)
	for _, purpose := range []string{"token-hmac", "csrf"} {
		k, err := DeriveKey(testSystemSecret, purpose)
		must(t, err)
		if bytes.Equal(k, h.key) {
			t.Fatalf("client-secret key equals the %s key", purpose)
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s, err := GenerateSecret()
		must(t, err)
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("secret %q is not unpadded base64url: %v", s, err)
		}
		if len(raw) != 32 {
			t.Fatalf("secret carries %d bits, want 256", 8*len(raw))
		}
		if seen[s] {
			t.Fatalf("secret %q generated twice", s)
		}
		seen[s] = true
	}
}

func TestHashID(t *testing.T) {
	a, b := HashID("challenge-a"), HashID("challenge-b")
	if a == b || len(a) != 64 {
		t.Fatalf("HashID gives %q and %q", a, b)
	}
	if a != HashID("challenge-a") {
		t.Fatal("HashID is not deterministic")
	}
	if bytes.Contains([]byte(a), []byte("challenge")) {
		t.Fatal("HashID leaks its input")
	}
}

// TestDerivedClientSecretIsKeyedAndBoundToClientAndSecretID: the secret of
// a client_secret_jwt client is a function of the system secret, the
// client id and the secret id (each changes it; the NUL separator keeps
// (id, secret id) pairs apart), 64 bytes base64url (an HS512 key), under a
// key independent of the secret-hash key; DerivedSecretMatches tells a
// derived secret's hash from any other.
func TestDerivedClientSecretIsKeyedAndBoundToClientAndSecretID(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, testSystemSecret)
	s := h.DeriveSecret("client-a", "0123456789ab")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	must(t, err)
	if len(raw) != 64 || len(s) != 86 {
		t.Fatalf("derived secret of %d bytes (%d characters), want 64 (86)", len(raw), len(s))
	}
	if newHasher(t, bytes.Clone(testSystemSecret)).DeriveSecret("client-a", "0123456789ab") != s {
		t.Fatal("not deterministic: the server could not recompute it after a restart")
	}
	for name, other := range map[string]string{
		"other system secret": newHasher(t, append(bytes.Clone(testSystemSecret), 'x')).DeriveSecret("client-a", "0123456789ab"),
		"other client":        h.DeriveSecret("client-b", "0123456789ab"),
		"other secret id":     h.DeriveSecret("client-a", "0123456789ac"),
		"shifted boundary":    h.DeriveSecret("client-a0", "123456789ab"),
	} {
		if other == s {
			t.Errorf("%s derives the same secret", name)
		}
	}
	if bytes.Equal(h.deriveKey, h.key) {
		t.Fatal("the derivation key is the secret-hash key")
	}
	hash, err := h.Hash(ctx, []byte(s))
	must(t, err)
	if !h.DerivedSecretMatches(ctx, "client-a", "0123456789ab", hash) {
		t.Fatal("the derived secret's hash does not match")
	}
	random, err := h.Hash(ctx, []byte("a-random-secret-for-client_secret_basic"))
	must(t, err)
	for _, bad := range []struct {
		client, id string
		hash       []byte
	}{{"client-a", "0123456789ab", random}, {"client-b", "0123456789ab", hash}, {"client-a", "", hash}, {"client-a", "0123456789ab", nil}} {
		if h.DerivedSecretMatches(ctx, bad.client, bad.id, bad.hash) {
			t.Errorf("DerivedSecretMatches(%q, %q) holds for a hash that is not of its derived secret", bad.client, bad.id)
		}
	}
}
