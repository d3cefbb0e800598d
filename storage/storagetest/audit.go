package storagetest

import (
	"context"
	"testing"
	"time"

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
	}
}
