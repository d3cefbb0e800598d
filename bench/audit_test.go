package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

func benchEvent() *storage.AuditEvent {
	return &storage.AuditEvent{Time: time.Now(), Actor: "user:bench", Action: "login.password", Target: "bench",
		Outcome: storage.OutcomeFailure, SourceIP: "192.0.2.1", UserAgent: "bench", Details: map[string]string{"reason": "bad_password"}}
}

// BenchmarkAuditAppendParallel: 16 writers appending audit events, each in
// a transaction of its own, all serialised on the chain head (one row lock
// held until commit): audited events per second. Compare with
// BenchmarkFloorPgxInsert (unserialised single-row commits).
func BenchmarkAuditAppendParallel(b *testing.B) {
	env := servertest.Start(b, bigPool)
	store := env.Server.Store
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := store.AppendAudit(context.Background(), benchEvent()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkClientCredentialsOpaqueUnderAuditLoad is
// BenchmarkClientCredentialsOpaque while 8 writers append audit events as
// fast as the chain lets them: token issuance writes no audit event, so
// the chain head's lock is not on its path (compare the two tokens/s).
func BenchmarkClientCredentialsOpaqueUnderAuditLoad(b *testing.B) {
	tokenLoopUnder(b, storage.TokenFormatOpaque, func(env *servertest.Env) func() {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var n atomic.Int64
		start := time.Now()
		for range 8 {
			wg.Go(func() {
				for ctx.Err() == nil {
					if err := env.Server.Store.AppendAudit(ctx, benchEvent()); err != nil && ctx.Err() == nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			})
		}
		return func() {
			cancel()
			wg.Wait()
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "audit-events/s")
		}
	})
}
