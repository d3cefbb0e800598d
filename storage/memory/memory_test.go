package memory_test

import (
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
	"github.com/strongroom/strongroom/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s := memory.New()
		t.Cleanup(s.Close)
		return s
	})
}

// TestAuditTamperEvidence: verification names a changed, deleted or
// reordered event and a forged checkpoint in the memory store.
func TestAuditTamperEvidence(t *testing.T) {
	storagetest.RunAuditTamper(t, func(t *testing.T) (storage.Store, storagetest.AuditTamperer) {
		s := memory.New()
		t.Cleanup(s.Close)
		return s, memory.AuditTamperer{S: s}
	})
}

func TestWithClock(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := memory.New(memory.WithClock(func() time.Time { return now }))
	t.Cleanup(s.Close)
	ctx := t.Context()
	if err := s.UseJTI(ctx, "jti", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.UseJTI(ctx, "jti", now.Add(time.Minute)); err == nil {
		t.Fatal("replay accepted before expiry")
	}
	now = now.Add(time.Minute) // expires_at > now no longer holds
	if err := s.UseJTI(ctx, "jti", now.Add(time.Minute)); err != nil {
		t.Fatalf("expired jti not reusable: %v", err)
	}
}
