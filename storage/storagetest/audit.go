package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/storage"
)

func auditTests() []test {
	ev := func(action, actor, target string, at time.Time) *storage.AuditEvent {
		return &storage.AuditEvent{Time: at, Actor: actor, Action: action, Target: target, Outcome: storage.OutcomeSuccess,
			SourceIP: "192.0.2.1", UserAgent: "test", Details: map[string]string{"k": "v"}}
	}
	return []test{
		{"ok/audit/append-and-list-newest-first", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			a := ev("client.create", "operator:root", "c1", base)
			b := ev("login.password", "user:u1", "u1", base.Add(time.Minute))
			must(t, s.AppendAudit(ctx, a))
			must(t, s.AppendAudit(ctx, b))
			if a.ID == 0 || b.ID <= a.ID {
				t.Fatalf("ids not increasing: %d %d", a.ID, b.ID)
			}
			got, err := s.ListAudit(ctx, storage.AuditFilter{})
			must(t, err)
			if len(got) != 2 {
				t.Fatalf("got %d events", len(got))
			}
			equal(t, got[0], *b)
			equal(t, got[1], *a)
		}},
		{"ok/audit/filters", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for i, e := range []*storage.AuditEvent{
				ev("login.password", "user:u1", "u1", base),
				ev("login.password", "user:u2", "u2", base.Add(time.Hour)),
				ev("client.create", "operator:root", "c1", base.Add(2*time.Hour)),
			} {
				must(t, s.AppendAudit(ctx, e))
				_ = i
			}
			count := func(f storage.AuditFilter, want int) {
				t.Helper()
				got, err := s.ListAudit(ctx, f)
				must(t, err)
				if len(got) != want {
					t.Fatalf("filter %+v: %d events, want %d", f, len(got), want)
				}
			}
			count(storage.AuditFilter{Action: "login.password"}, 2)
			count(storage.AuditFilter{Actor: "operator:root"}, 1)
			count(storage.AuditFilter{Target: "u2"}, 1)
			count(storage.AuditFilter{Since: base.Add(30 * time.Minute)}, 2)
			count(storage.AuditFilter{Limit: 1}, 1)
		}},
		{"ok/audit/rolls-back-with-the-transaction", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			err := storage.InTx(ctx, s, func(ctx context.Context) error {
				must(t, s.AppendAudit(ctx, ev("client.delete", "operator:root", "c1", base)))
				return errBoom
			})
			wantErr(t, err, errBoom)
			must(t, storage.InTx(ctx, s, func(ctx context.Context) error {
				return s.AppendAudit(ctx, ev("client.create", "operator:root", "c2", base))
			}))
			got, err := s.ListAudit(ctx, storage.AuditFilter{})
			must(t, err)
			if len(got) != 1 || got[0].Action != "client.create" {
				t.Fatalf("after rollback and commit: %+v", got)
			}
		}},
		{"ok/audit/filters-outcome-client-subject-until", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			a := ev("client.auth", "client:c1", "c1", base)
			a.Outcome = storage.OutcomeFailure
			b := ev("login.password", "user:u1", "u1", base.Add(time.Hour))
			b.Details = map[string]string{"client_id": "c1"}
			c := ev("consent.revoke", "operator:root", "c2", base.Add(2*time.Hour))
			c.Details = map[string]string{"subject": "u1"}
			for _, e := range []*storage.AuditEvent{a, b, c} {
				must(t, s.AppendAudit(ctx, e))
			}
			ids := func(f storage.AuditFilter) []int64 {
				t.Helper()
				got, err := s.ListAudit(ctx, f)
				must(t, err)
				var out []int64
				for _, e := range got {
					out = append(out, e.ID)
				}
				return out
			}
			equal(t, ids(storage.AuditFilter{Outcome: storage.OutcomeFailure}), []int64{a.ID})
			equal(t, ids(storage.AuditFilter{Client: "c1"}), []int64{b.ID, a.ID})  // actor, details
			equal(t, ids(storage.AuditFilter{Client: "c2"}), []int64{c.ID})        // target
			equal(t, ids(storage.AuditFilter{Subject: "u1"}), []int64{c.ID, b.ID}) // details, actor
			equal(t, ids(storage.AuditFilter{Until: base.Add(time.Hour)}), []int64{a.ID})
			equal(t, ids(storage.AuditFilter{Since: base.Add(time.Hour), Until: base.Add(2 * time.Hour)}), []int64{b.ID})
		}},
		{"ok/audit/chain-links-every-event", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			head, err := s.AuditHead(ctx)
			must(t, err)
			equal(t, head, storage.AuditHead{LastHash: storage.AuditGenesisHash()})
			prev := storage.AuditGenesisHash()
			for i := range 3 {
				e := ev("login.password", "user:u1", "u1", base.Add(time.Duration(i)*time.Second))
				must(t, s.AppendAudit(ctx, e))
				if e.ID != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, storage.AuditHash(prev, e)) {
					t.Fatalf("event %d: id %d prev %x hash %x", i, e.ID, e.PrevHash, e.Hash)
				}
				prev = e.Hash
			}
			head, err = s.AuditHead(ctx)
			must(t, err)
			equal(t, head, storage.AuditHead{LastID: 3, LastHash: prev})
		}},
		{"ok/audit/rollback-restores-the-chain-head", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.AppendAudit(ctx, ev("a", "x", "", base)))
			err := storage.InTx(ctx, s, func(ctx context.Context) error {
				must(t, s.AppendAudit(ctx, ev("b", "x", "", base)))
				return errBoom
			})
			wantErr(t, err, errBoom)
			c := ev("c", "x", "", base)
			must(t, s.AppendAudit(ctx, c))
			if c.ID != 2 {
				t.Fatalf("id after a rolled-back append = %d, want 2 (no gap)", c.ID)
			}
			verifyIntact(t, s, 2)
		}},
		{"ok/audit/normalises-what-the-database-cannot-store", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			e := ev("login.password", "anonymous", "", base.Add(1234567*time.Nanosecond).In(time.FixedZone("X", 3600)))
			e.UserAgent = "curl\x00/\xff"
			e.Details = map[string]string{"k\x00": "v\xfe"}
			must(t, s.AppendAudit(ctx, e))
			got, err := s.ListAudit(ctx, storage.AuditFilter{})
			must(t, err)
			if len(got) != 1 {
				t.Fatalf("%d events", len(got))
			}
			if got[0].UserAgent != "curl\uFFFD/\uFFFD" || got[0].Details["k\uFFFD"] != "v\uFFFD" ||
				!got[0].Time.Equal(base.Add(1234*time.Microsecond)) || got[0].Time.Location() != time.UTC {
				t.Fatalf("stored %+v", got[0])
			}
			equal(t, got[0], *e) // what AppendAudit hashed is what is stored
			verifyIntact(t, s, 1)
		}},
		{"ok/audit/concurrent-appends-form-one-valid-chain", func(t *testing.T, s storage.Store) {
			// Writers in transactions of their own, some rolling back, some
			// appending twice: the chain has no fork and no gap.
			const n = 40
			var committed atomic.Int64
			errs := Race(n, func(i int) error {
				err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
					for j := range 1 + i%2 {
						if err := s.AppendAudit(ctx, ev(fmt.Sprintf("w%d.%d", i, j), "user:u", "", base)); err != nil {
							return err
						}
					}
					if i%5 == 0 {
						return errBoom
					}
					return nil
				})
				if err == nil {
					committed.Add(int64(1 + i%2))
				}
				return err
			})
			for i, err := range errs {
				if (i%5 == 0) != (err != nil) {
					t.Fatalf("writer %d: %v", i, err)
				}
			}
			verifyIntact(t, s, committed.Load())
			head, err := s.AuditHead(t.Context())
			must(t, err)
			if head.LastID != committed.Load() {
				t.Fatalf("head id %d, want %d (ids without gaps)", head.LastID, committed.Load())
			}
		}},
		{"ok/audit/walk-streams-in-id-order-across-batches", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			total := storage.AuditWalkBatch*2 + 5
			must(t, storage.InTx(ctx, s, func(ctx context.Context) error {
				for i := range total {
					if err := s.AppendAudit(ctx, ev("a", "x", "", base.Add(time.Duration(i)*time.Second))); err != nil {
						return err
					}
				}
				return nil
			}))
			var last, n int64
			must(t, s.WalkAudit(ctx, storage.AuditWalk{}, func(e storage.AuditEvent) error {
				if e.ID != last+1 {
					return fmt.Errorf("event %d after %d", e.ID, last)
				}
				last, n = e.ID, n+1
				return nil
			}))
			if n != int64(total) {
				t.Fatalf("walked %d, want %d", n, total)
			}
			n = 0
			must(t, s.WalkAudit(ctx, storage.AuditWalk{AfterID: 10, ThroughID: 20, Since: base.Add(12 * time.Second), Until: base.Add(15 * time.Second)},
				func(e storage.AuditEvent) error { n++; return nil }))
			if n != 3 { // ids 13, 14, 15
				t.Fatalf("bounded walk: %d events, want 3", n)
			}
			stop := fmt.Errorf("stop")
			wantErr(t, s.WalkAudit(ctx, storage.AuditWalk{}, func(storage.AuditEvent) error { return stop }), stop)
		}},
		{"ok/audit/cut-never-passes-a-newer-event", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			_, err := s.AuditCutBefore(ctx, future)
			wantErr(t, err, storage.ErrNotFound)
			for _, at := range []time.Time{base, base.Add(time.Hour), base.Add(3 * time.Hour), base.Add(2 * time.Hour)} {
				must(t, s.AppendAudit(ctx, ev("a", "x", "", at)))
			}
			cut, err := s.AuditCutBefore(ctx, base.Add(150*time.Minute))
			must(t, err)
			if cut.ID != 2 { // event 4 is older than the cutoff but follows the newer event 3
				t.Fatalf("cut at %d, want 2", cut.ID)
			}
			_, err = s.AuditCutBefore(ctx, base)
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"ok/audit/prune-deletes-through-the-cut-and-keeps-the-checkpoint", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			var evs []*storage.AuditEvent
			for i := range 4 {
				e := ev("a", "x", "", base.Add(time.Duration(i)*time.Hour))
				must(t, s.AppendAudit(ctx, e))
				evs = append(evs, e)
			}
			cp := &storage.AuditCheckpoint{CutID: 2, CutHash: evs[1].Hash, CutTime: evs[1].Time, Pruned: 2,
				CreatedAt: base.Add(5 * time.Hour), MAC: []byte("mac")}
			n, err := s.PruneAudit(ctx, cp)
			must(t, err)
			if n != 2 || cp.ID == 0 {
				t.Fatalf("pruned %d, checkpoint id %d", n, cp.ID)
			}
			got, err := s.ListAudit(ctx, storage.AuditFilter{})
			must(t, err)
			if len(got) != 2 || got[1].ID != 3 {
				t.Fatalf("after prune: %+v", got)
			}
			cps, err := s.ListAuditCheckpoints(ctx)
			must(t, err)
			equal(t, cps, []storage.AuditCheckpoint{*cp})
			head, err := s.AuditHead(ctx)
			must(t, err)
			equal(t, head, storage.AuditHead{LastID: 4, LastHash: evs[3].Hash})
		}},
	}
}

// testAuditKey is the checkpoint key of the conformance tests.
var testAuditKey = bytes.Repeat([]byte{7}, 32)

// verifyIntact fails t unless the trail of s verifies with n events.
func verifyIntact(t *testing.T, s storage.Store, n int64) {
	t.Helper()
	trail, err := audit.New(s, testAuditKey, nil)
	must(t, err)
	rep, err := trail.Verify(t.Context(), audit.VerifyOptions{})
	must(t, err)
	if rep.Problem != nil || rep.Events != n {
		t.Fatalf("verify: %d events (want %d), problem %v", rep.Events, n, rep.Problem)
	}
}

// AuditTamperer changes a store's audit trail behind its back, as an
// attacker with write access to the database would. Each store's tests
// provide one for RunAuditTamper.
type AuditTamperer interface {
	// SetAuditDetails rewrites the details of event id, leaving its hashes.
	SetAuditDetails(ctx context.Context, id int64, details map[string]string) error
	// DeleteAudit deletes event id.
	DeleteAudit(ctx context.Context, id int64) error
	// SwapAuditIDs exchanges the ids of two events (reordering them).
	SwapAuditIDs(ctx context.Context, a, b int64) error
	// SetCheckpointCutHash rewrites the cut hash of checkpoint id.
	SetCheckpointCutHash(ctx context.Context, id int64, hash []byte) error
}

// RunAuditTamper checks that verification (authz/audit over the store)
// names the first changed, deleted or reordered event and a forged
// checkpoint, and that a prune keeps the trail verifiable. newStore returns
// a fresh, empty store and its tamperer.
func RunAuditTamper(t *testing.T, newStore func(t *testing.T) (storage.Store, AuditTamperer)) {
	// setup appends 5 events an hour apart (ids 1-5) and returns the trail.
	setup := func(t *testing.T) (storage.Store, AuditTamperer, *audit.Trail) {
		s, tamper := newStore(t)
		for i := range 5 {
			must(t, s.AppendAudit(t.Context(), &storage.AuditEvent{Time: base.Add(time.Duration(i) * time.Hour),
				Actor: "operator:root", Action: "client.update", Target: fmt.Sprintf("c%d", i+1),
				Outcome: storage.OutcomeSuccess, Details: map[string]string{"field": "name"}}))
		}
		trail, err := audit.New(s, testAuditKey, func() time.Time { return base.Add(10 * time.Hour) })
		must(t, err)
		return s, tamper, trail
	}
	check := func(t *testing.T, trail *audit.Trail, kind string, eventID int64, words ...string) {
		t.Helper()
		rep, err := trail.Verify(t.Context(), audit.VerifyOptions{})
		must(t, err)
		p := rep.Problem
		if p == nil {
			t.Fatalf("verify passed a tampered trail (%d events)", rep.Events)
		}
		if p.Kind != kind || p.EventID != eventID {
			t.Fatalf("problem %s at event %d (%s), want %s at event %d", p.Kind, p.EventID, p.Message, kind, eventID)
		}
		for _, w := range words {
			if !strings.Contains(p.Message, w) {
				t.Errorf("message %q does not say %q", p.Message, w)
			}
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T, s storage.Store, tamper AuditTamperer, trail *audit.Trail)
	}{
		{"intact-trail-verifies", func(t *testing.T, s storage.Store, _ AuditTamperer, trail *audit.Trail) {
			rep, err := trail.Verify(t.Context(), audit.VerifyOptions{})
			must(t, err)
			if rep.Problem != nil || rep.Events != 5 || rep.FirstID != 1 || rep.Head.EventID != 5 {
				t.Fatalf("report %+v", rep)
			}
		}},
		{"update-of-details-is-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			must(t, tamper.SetAuditDetails(t.Context(), 3, map[string]string{"field": "redirect_uris"}))
			check(t, trail, audit.ProblemChanged, 3, "event 3", "changed")
		}},
		{"delete-of-a-middle-event-is-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			must(t, tamper.DeleteAudit(t.Context(), 3))
			check(t, trail, audit.ProblemBroken, 4, "event 4", "3 to 3", "deleted")
		}},
		{"delete-of-the-first-event-is-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			must(t, tamper.DeleteAudit(t.Context(), 1))
			check(t, trail, audit.ProblemBroken, 2, "event 2", "1 to 1", "deleted")
		}},
		{"delete-of-the-newest-event-is-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			must(t, tamper.DeleteAudit(t.Context(), 5))
			check(t, trail, audit.ProblemTruncated, 5, "5 to 5", "deleted")
		}},
		{"swapped-ids-are-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			must(t, tamper.SwapAuditIDs(t.Context(), 2, 4))
			check(t, trail, audit.ProblemBroken, 2, "event 2", "reordered")
		}},
		{"prune-keeps-the-trail-verifiable", func(t *testing.T, s storage.Store, _ AuditTamperer, trail *audit.Trail) {
			// Retention 7h at 10:00 past base: events 1-3 (base+0..2h) go.
			res, err := trail.Prune(t.Context(), 7*time.Hour, storage.AuditEvent{Actor: "operator:root"})
			must(t, err)
			if res.Pruned != 3 || res.CutID != 3 {
				t.Fatalf("prune: %+v", res)
			}
			rep, err := trail.Verify(t.Context(), audit.VerifyOptions{})
			must(t, err)
			if rep.Problem != nil || rep.Events != 3 || rep.FirstID != 4 || rep.StartCut != 3 || rep.Checkpoints != 1 {
				t.Fatalf("after prune: %+v %v", rep, rep.Problem)
			}
			got, err := s.ListAudit(t.Context(), storage.AuditFilter{Action: audit.ActionPrune})
			must(t, err)
			if len(got) != 1 || got[0].Details["pruned"] != "3" || got[0].Target != "3" {
				t.Fatalf("prune event: %+v", got)
			}
			// Nothing old enough: no checkpoint, nothing deleted.
			res, err = trail.Prune(t.Context(), 100*time.Hour, storage.AuditEvent{Actor: "operator:root"})
			must(t, err)
			if res.Pruned != 0 || res.Checkpoint != nil {
				t.Fatalf("second prune: %+v", res)
			}
		}},
		{"forged-checkpoint-is-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			res, err := trail.Prune(t.Context(), 7*time.Hour, storage.AuditEvent{Actor: "operator:root"})
			must(t, err)
			// The attacker rewrites event 4 and re-points the checkpoint so
			// the links would hold: the MAC gives it away.
			must(t, tamper.SetCheckpointCutHash(t.Context(), res.Checkpoint.ID, bytes.Repeat([]byte{1}, 32)))
			rep, err := trail.Verify(t.Context(), audit.VerifyOptions{})
			must(t, err)
			if rep.Problem == nil || rep.Problem.Kind != audit.ProblemCheckpoint || rep.Problem.CheckpointID != res.Checkpoint.ID ||
				!strings.Contains(rep.Problem.Message, "forged") {
				t.Fatalf("forged checkpoint: problem %+v", rep.Problem)
			}
		}},
		{"deleted-checkpoint-is-named", func(t *testing.T, _ storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			// Without the checkpoint the first remaining event follows nothing.
			must(t, tamper.DeleteAudit(t.Context(), 1))
			must(t, tamper.DeleteAudit(t.Context(), 2))
			check(t, trail, audit.ProblemBroken, 3, "event 3", "1 to 2")
		}},
		{"prune-refuses-a-broken-trail", func(t *testing.T, s storage.Store, tamper AuditTamperer, trail *audit.Trail) {
			must(t, tamper.SetAuditDetails(t.Context(), 2, map[string]string{"field": "secret_hidden"}))
			_, err := trail.Prune(t.Context(), 7*time.Hour, storage.AuditEvent{Actor: "operator:root"})
			wantErr(t, err, audit.ErrBrokenTrail)
			cps, err := s.ListAuditCheckpoints(t.Context())
			must(t, err)
			if len(cps) != 0 {
				t.Fatalf("checkpoint written over a broken trail: %+v", cps)
			}
		}},
		{"anchor-recorded-outside-detects-a-rewrite", func(t *testing.T, s storage.Store, _ AuditTamperer, trail *audit.Trail) {
			rep, err := trail.Verify(t.Context(), audit.VerifyOptions{})
			must(t, err)
			anchor := rep.Head
			rep, err = trail.Verify(t.Context(), audit.VerifyOptions{Anchors: []audit.Anchor{anchor}})
			must(t, err)
			if rep.Problem != nil {
				t.Fatalf("true anchor refused: %v", rep.Problem)
			}
			forged := audit.Anchor{EventID: 4, Hash: bytes.Repeat([]byte{9}, 32)}
			rep, err = trail.Verify(t.Context(), audit.VerifyOptions{Anchors: []audit.Anchor{forged}})
			must(t, err)
			if rep.Problem == nil || rep.Problem.Kind != audit.ProblemAnchor || rep.Problem.EventID != 4 {
				t.Fatalf("wrong anchor: problem %+v", rep.Problem)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, tamper, trail := setup(t)
			tc.run(t, s, tamper, trail)
		})
	}
}
