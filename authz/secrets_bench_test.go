package authz_test

import (
	"context"
	"testing"

	"github.com/strongroom/strongroom/authz"
)

// BenchmarkSecretCompare measures the client-secret check done on every
// client_secret_basic/post authentication: one HMAC-SHA256 and a
// constant-time comparison (no slow hash: secrets carry 256 bits).
//
//	go test -run '^$' -bench SecretCompare -benchmem ./authz/
func BenchmarkSecretCompare(b *testing.B) {
	h, err := authz.NewSecretHasher([]byte("strongroom-bench-system-secret-0123456789"))
	if err != nil {
		b.Fatal(err)
	}
	secret, _ := authz.GenerateSecret()
	ctx := context.Background()
	hash, _ := h.Hash(ctx, []byte(secret))
	other, _ := h.Hash(ctx, []byte(secret+"x"))
	b.Run("match", func(b *testing.B) {
		for b.Loop() {
			if err := h.Compare(ctx, hash, []byte(secret)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// During a rotation fosite tries the newest secret first, then the
	// previous one: the old secret costs two checks.
	b.Run("rotating-old-secret", func(b *testing.B) {
		for b.Loop() {
			if h.Compare(ctx, other, []byte(secret)) == nil {
				b.Fatal("wrong secret matched")
			}
			if err := h.Compare(ctx, hash, []byte(secret)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
