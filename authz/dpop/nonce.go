package dpop

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// NonceSource issues and checks server nonces (RFC 9449 §8 and §9).
type NonceSource interface {
	// Nonce returns the nonce to send in a DPoP-Nonce header at now.
	Nonce(now time.Time) string
	// Valid reports whether nonce is one the server still accepts at now.
	Valid(nonce string, now time.Time) bool
}

// DefaultNoncePeriod is how long one nonce is handed out; it is accepted for
// up to twice as long (its own slot and the next).
const DefaultNoncePeriod = 5 * time.Minute

// minSecretLen is the shortest server secret HMACNonces accepts.
const minSecretLen = 32

// maxNonceLen bounds a nonce claim (ours are 43 characters).
const maxNonceLen = 256

// HMACNonces is a NonceSource that every node of a deployment shares without
// a store: the nonce of a time slot is base64url(HMAC-SHA256(key, slot)),
// with the key derived (HKDF-SHA256) from the server secret. A nonce is
// accepted during its own slot and the next one, so it lives between one and
// two periods; nodes need clocks that agree to well within one period.
type HMACNonces struct {
	key    []byte
	period time.Duration
}

// NewHMACNonces derives the nonce key from secret (at least 32 bytes, the
// same on every node) and rotates nonces every period (DefaultNoncePeriod
// when zero; at least one second).
func NewHMACNonces(secret []byte, period time.Duration) (*HMACNonces, error) {
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("dpop: nonce secret must be at least %d bytes", minSecretLen)
	}
	if period == 0 {
		period = DefaultNoncePeriod
	}
	if period < time.Second {
		return nil, errors.New("dpop: nonce period must be at least one second")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "strongroom dpop nonce v1", sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("dpop: derive nonce key: %w", err)
	}
	return &HMACNonces{key: key, period: period}, nil
}

// Nonce returns the nonce of now's slot.
func (n *HMACNonces) Nonce(now time.Time) string {
	return base64.RawURLEncoding.EncodeToString(n.mac(n.slot(now)))
}

// Valid reports whether nonce is the nonce of now's slot or of the slot
// before, comparing in constant time.
func (n *HMACNonces) Valid(nonce string, now time.Time) bool {
	if len(nonce) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil {
		return false
	}
	slot := n.slot(now)
	current := hmac.Equal(got, n.mac(slot))
	previous := hmac.Equal(got, n.mac(slot-1))
	return current || previous
}

func (n *HMACNonces) slot(now time.Time) int64 {
	return now.UnixNano() / int64(n.period)
}

func (n *HMACNonces) mac(slot int64) []byte {
	m := hmac.New(sha256.New, n.key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(slot))
	m.Write(b[:])
	return m.Sum(nil)
}
