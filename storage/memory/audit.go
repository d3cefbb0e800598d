package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/strongroom/strongroom/storage"
)

// AppendAudit records e (in the caller's transaction, if any) and sets e.ID.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	err := s.write(ctx, func(t *txn) error {
		s.auditSeq++
		e.ID = s.auditSeq
		c := *e
		c.Time = c.Time.UTC()
		c.Details = maps.Clone(e.Details)
		put(t, s.audit, c.ID, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: append audit event %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns matching events, newest first.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []storage.AuditEvent
	err := s.read(ctx, func() error {
		ids := slices.Sorted(maps.Keys(s.audit))
		for i := len(ids) - 1; i >= 0 && len(out) < limit; i-- {
			e := s.audit[ids[i]]
			if (f.Action != "" && e.Action != f.Action) || (f.Actor != "" && e.Actor != f.Actor) ||
				(f.Target != "" && e.Target != f.Target) || (!f.Since.IsZero() && e.Time.Before(f.Since)) {
				continue
			}
			e.Details = maps.Clone(e.Details)
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list audit events: %w", err)
	}
	return out, nil
}
