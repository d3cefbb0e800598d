package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KEKSize is the length in bytes of a key-encryption key (AES-256).
const KEKSize = 32

var (
	// ErrInvalidKEK reports a key-encryption key that is not 32 bytes in hex
	// or base64. The offending value is never part of the message.
	ErrInvalidKEK = errors.New("keys: invalid key-encryption key")
	// ErrDecrypt reports a private key that does not decrypt: the KEK is not
	// the one it was encrypted under, or the ciphertext was altered (or moved
	// to another kid).
	ErrDecrypt = errors.New("keys: cannot decrypt private key (wrong key-encryption key or corrupted data)")
)

// kekEncodings are tried in order by ParseKEK. Hex is tried first: a 64-digit
// hex string is also valid base64, but of the wrong length.
var kekEncodings = []struct {
	name   string
	decode func(string) ([]byte, error)
}{
	{"hex", hex.DecodeString},
	{"base64", base64.StdEncoding.DecodeString},
	{"base64 (raw url)", base64.RawURLEncoding.DecodeString},
	{"base64 (url)", base64.URLEncoding.DecodeString},
	{"base64 (raw)", base64.RawStdEncoding.DecodeString},
}

// ParseKEK decodes a key-encryption key from configuration. It accepts hex or
// base64 (standard or URL alphabet, padded or not) encoding of exactly 32
// bytes; surrounding white space is ignored (a trailing newline from a file
// or secret mount is common). Errors wrap ErrInvalidKEK and never echo the
// value.
func ParseKEK(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidKEK)
	}
	decodedLen := -1
	for _, enc := range kekEncodings {
		b, err := enc.decode(s)
		if err != nil {
			// Decoder errors can quote the offending character; drop them.
			continue
		}
		if len(b) == KEKSize {
			return b, nil
		}
		if decodedLen < 0 {
			decodedLen = len(b)
		}
		clear(b)
	}
	if decodedLen >= 0 {
		return nil, fmt.Errorf("%w: must decode to %d bytes, got %d", ErrInvalidKEK, KEKSize, decodedLen)
	}
	return nil, fmt.Errorf("%w: not hex or base64 encoded", ErrInvalidKEK)
}

// GenerateKEK returns a new random key-encryption key, base64 encoded, for
// development mode and for `strongroom keys` tooling. Store it like any
// other secret: losing it makes every stored private key unreadable.
func GenerateKEK() (string, error) {
	b := make([]byte, KEKSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("keys: generate KEK: %w", err)
	}
	defer clear(b)
	return base64.StdEncoding.EncodeToString(b), nil
}

// newAEAD returns AES-256-GCM under kek.
func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("%w: must be %d bytes, got %d", ErrInvalidKEK, KEKSize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: AES: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: GCM: %w", err)
	}
	return aead, nil
}

// seal encrypts plaintext with a random nonce, which it prepends, binding
// kid as additional authenticated data.
func seal(aead cipher.AEAD, kid string, plaintext []byte) ([]byte, error) {
	ns := aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return aead.Seal(out, out[:ns], plaintext, []byte(kid)), nil
}

// open reverses seal. Every failure wraps ErrDecrypt.
func open(aead cipher.AEAD, kid string, ciphertext []byte) ([]byte, error) {
	ns := aead.NonceSize()
	if len(ciphertext) < ns+aead.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext too short", ErrDecrypt)
	}
	plaintext, err := aead.Open(nil, ciphertext[:ns], ciphertext[ns:], []byte(kid))
	if err != nil {
		// The cipher's error says only "message authentication failed".
		return nil, ErrDecrypt
	}
	return plaintext, nil
}
