package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// auditState is the audit trail: events by id, the chain head, checkpoints.
// Appends run under s.mu inside the writer's transaction (which holds txSem),
// so they are serialised on the head as in PostgreSQL; a rolled-back
// append restores the head through the undo log.
type auditState struct {
	events      map[int64]storage.AuditEvent
	head        map[struct{}]storage.AuditHead // one entry; a map so put/del can undo it
	checkpoints map[int64]storage.AuditCheckpoint
	cpSeq       int64
}

func newAuditState() auditState {
	return auditState{
		events:      map[int64]storage.AuditEvent{},
		head:        map[struct{}]storage.AuditHead{{}: {LastHash: storage.AuditGenesisHash()}},
		checkpoints: map[int64]storage.AuditCheckpoint{},
	}
}

// AppendAudit chains e to the head and records it (in the caller's
// transaction, if any), setting e.ID, e.PrevHash and e.Hash.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	storage.NormalizeAuditEvent(e)
	err := s.write(ctx, func(t *txn) error {
		head := s.audit.head[struct{}{}]
		prev := head.LastHash
		e.ID = head.LastID + 1
		e.PrevHash = bytes.Clone(prev)
		e.Hash = storage.AuditHash(prev, e)
		put(t, s.audit.events, e.ID, cloneEvent(*e))
		put(t, s.audit.head, struct{}{}, storage.AuditHead{LastID: e.ID, LastHash: bytes.Clone(e.Hash)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: append audit event %s: %w", e.Action, err)
	}
	return nil
}

func cloneEvent(e storage.AuditEvent) storage.AuditEvent {
	e.Details = maps.Clone(e.Details)
	e.PrevHash = bytes.Clone(e.PrevHash)
	e.Hash = bytes.Clone(e.Hash)
	return e
}

// matchAudit reports whether e passes f.
func matchAudit(e *storage.AuditEvent, f *storage.AuditFilter) bool {
	switch {
	case f.Action != "" && e.Action != f.Action,
		f.Actor != "" && e.Actor != f.Actor,
		f.Target != "" && e.Target != f.Target,
		f.Outcome != "" && e.Outcome != f.Outcome,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	}
	if f.Client != "" && e.Actor != "client:"+f.Client && e.Target != f.Client && e.Details["client_id"] != f.Client {
		return false
	}
	if f.Subject != "" && e.Actor != "user:"+f.Subject && e.Target != f.Subject && e.Details["subject"] != f.Subject {
		return false
	}
	return true
}

// ListAudit returns matching events, newest first.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []storage.AuditEvent
	err := s.read(ctx, func() error {
		ids := slices.Sorted(maps.Keys(s.audit.events))
		for i := len(ids) - 1; i >= 0 && len(out) < limit; i-- {
			e := s.audit.events[ids[i]]
			if matchAudit(&e, &f) {
				out = append(out, cloneEvent(e))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list audit events: %w", err)
	}
	return out, nil
}

// WalkAudit calls fn with the events w selects, in id order, reading a
// batch at a time under the lock and calling fn outside it.
func (s *Store) WalkAudit(ctx context.Context, w storage.AuditWalk, fn func(storage.AuditEvent) error) error {
	after := w.AfterID
	f := storage.AuditFilter{Since: w.Since, Until: w.Until}
	for {
		var batch []storage.AuditEvent
		err := s.read(ctx, func() error {
			ids := slices.Sorted(maps.Keys(s.audit.events))
			i, _ := slices.BinarySearch(ids, after+1)
			for ; i < len(ids) && len(batch) < storage.AuditWalkBatch; i++ {
				if w.ThroughID != 0 && ids[i] > w.ThroughID {
					break
				}
				e := s.audit.events[ids[i]]
				after = e.ID
				if matchAudit(&e, &f) {
					batch = append(batch, cloneEvent(e))
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("memory: walk audit events: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}

// AuditHead returns the end of the chain.
func (s *Store) AuditHead(ctx context.Context) (storage.AuditHead, error) {
	var h storage.AuditHead
	err := s.read(ctx, func() error {
		h = s.audit.head[struct{}{}]
		h.LastHash = bytes.Clone(h.LastHash)
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("memory: audit head: %w", err)
	}
	return h, nil
}

// AuditCutBefore returns the newest event of the oldest run of events all
// older than before.
func (s *Store) AuditCutBefore(ctx context.Context, before time.Time) (storage.AuditEvent, error) {
	var out storage.AuditEvent
	found := false
	err := s.read(ctx, func() error {
		for _, id := range slices.Sorted(maps.Keys(s.audit.events)) {
			e := s.audit.events[id]
			if !e.Time.Before(before) {
				break
			}
			out, found = e, true
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("memory: audit cut before %s: %w", before.Format(time.RFC3339), err)
	}
	if !found {
		return out, fmt.Errorf("memory: audit cut before %s: %w", before.Format(time.RFC3339), storage.ErrNotFound)
	}
	return cloneEvent(out), nil
}

// PruneAudit deletes every event with id <= cp.CutID and records cp.
func (s *Store) PruneAudit(ctx context.Context, cp *storage.AuditCheckpoint) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for id := range s.audit.events {
			if id <= cp.CutID {
				del(t, s.audit.events, id)
				n++
			}
		}
		s.audit.cpSeq++
		cp.ID = s.audit.cpSeq
		cp.CreatedAt = cp.CreatedAt.UTC().Truncate(time.Microsecond)
		cp.CutTime = cp.CutTime.UTC().Truncate(time.Microsecond)
		c := *cp
		c.CutHash, c.MAC = bytes.Clone(cp.CutHash), bytes.Clone(cp.MAC)
		put(t, s.audit.checkpoints, c.ID, c)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: prune audit events through %d: %w", cp.CutID, err)
	}
	return n, nil
}

// ListAuditCheckpoints returns every checkpoint, oldest cut first.
func (s *Store) ListAuditCheckpoints(ctx context.Context) ([]storage.AuditCheckpoint, error) {
	var out []storage.AuditCheckpoint
	err := s.read(ctx, func() error {
		for _, c := range s.audit.checkpoints {
			c.CutHash, c.MAC = bytes.Clone(c.CutHash), bytes.Clone(c.MAC)
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: list audit checkpoints: %w", err)
	}
	slices.SortFunc(out, func(a, b storage.AuditCheckpoint) int {
		if a.CutID != b.CutID {
			return cmp.Compare(a.CutID, b.CutID)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}
