package dpop

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// ReplayCache records that a proof was used, so it is accepted once across
// every node of a deployment.
type ReplayCache interface {
	// Use records key until the given time. It returns ErrReplay (wrapped)
	// when key is already recorded and not yet expired; of several
	// concurrent calls with one key, exactly one succeeds. Any other error
	// means the cache could not answer: the proof must then be refused.
	Use(ctx context.Context, key string, until time.Time) error
}

// ReplayKey is the key a proof is recorded under: "dpop:" and the hex
// SHA-256 of jkt|jti (the jkt length-prefixed, so no two pairs share an
// input). Hashing bounds its length whatever the jti, and the jkt makes a
// jti collide only with the same key's proofs. The "dpop:" namespace keeps
// it apart from client-assertion jtis in a shared table.
func ReplayKey(jkt, jti string) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(jkt)))
	h.Write(n[:])
	h.Write([]byte(jkt))
	h.Write([]byte{'|'})
	h.Write([]byte(jti))
	return "dpop:" + hex.EncodeToString(h.Sum(nil))
}

// StoreReplayCache is a ReplayCache over storage.JTIs (the
// client_assertion_jtis table of PostgreSQL, or the memory store), whose
// janitor already deletes expired rows. Every node on one database shares it.
type StoreReplayCache struct {
	JTIs storage.JTIs
}

// NewStoreReplayCache returns a ReplayCache that records keys in jtis.
func NewStoreReplayCache(jtis storage.JTIs) *StoreReplayCache {
	return &StoreReplayCache{JTIs: jtis}
}

// Use records key until the given time; ErrReplay on a second use.
func (c *StoreReplayCache) Use(ctx context.Context, key string, until time.Time) error {
	err := c.JTIs.UseJTI(ctx, key, until)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrAlreadyExists):
		return fmt.Errorf("dpop: store replay cache: %w", ErrReplay)
	default:
		return fmt.Errorf("dpop: store replay cache: %w", err)
	}
}
