package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// AppendAudit chains e to the head and records it in the caller's
// transaction (or a transaction of its own), setting e.ID, e.PrevHash and
// e.Hash. The head row stays locked until that transaction ends, so
// appends are serialised in chain order; ids are the head's id + 1.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	storage.NormalizeAuditEvent(e)
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("postgres: encode audit details: %w", err)
	}
	appendTo := func(q querier) error {
		var head storage.AuditHead
		if err := q.QueryRow(ctx, `SELECT last_id, last_hash FROM audit_chain FOR UPDATE`).Scan(&head.LastID, &head.LastHash); err != nil {
			return fmt.Errorf("lock the chain head: %w", mapError(err))
		}
		e.ID = head.LastID + 1
		e.PrevHash = head.LastHash
		e.Hash = storage.AuditHash(head.LastHash, e)
		_, err := q.Exec(ctx, `
WITH ins AS (
  INSERT INTO audit_events (id, time, actor, action, target, outcome, source_ip, user_agent, details, prev_hash, hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
)
UPDATE audit_chain SET last_id = $1, last_hash = $11`,
			e.ID, e.Time, e.Actor, e.Action, e.Target, e.Outcome, e.SourceIP, e.UserAgent, raw, e.PrevHash, e.Hash)
		if err != nil {
			return fmt.Errorf("insert: %w", mapError(err))
		}
		return nil
	}
	if tx := s.tx(ctx); tx != nil {
		err = appendTo(tx)
	} else {
		err = s.inTx(ctx, func(tx pgx.Tx) error { return appendTo(tx) })
	}
	if err != nil {
		return fmt.Errorf("postgres: append audit event %s: %w", e.Action, err)
	}
	return nil
}

const auditColumns = `id, time, actor, action, target, outcome, source_ip, user_agent, details, prev_hash, hash`

// auditWhere is the filter of ListAudit and WalkAudit over the arguments
// $1 action, $2 actor, $3 target, $4 outcome, $5 client, $6 subject,
// $7 since, $8 until.
const auditWhere = `($1 = '' OR action = $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR target = $3)
  AND ($4 = '' OR outcome = $4)
  AND ($5 = '' OR actor = 'client:' || $5 OR target = $5 OR details->>'client_id' = $5)
  AND ($6 = '' OR actor = 'user:' || $6 OR target = $6 OR details->>'subject' = $6)
  AND ($7::timestamptz IS NULL OR time >= $7) AND ($8::timestamptz IS NULL OR time < $8)`

func auditArgs(f storage.AuditFilter) []any {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return []any{f.Action, f.Actor, f.Target, f.Outcome, f.Client, f.Subject, opt(f.Since), opt(f.Until)}
}

func scanAudit(rows pgx.CollectableRow) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	var raw []byte
	if err := rows.Scan(&e.ID, &e.Time, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.SourceIP, &e.UserAgent, &raw, &e.PrevHash, &e.Hash); err != nil {
		return e, fmt.Errorf("scan audit event: %w", mapError(err))
	}
	e.Time = utc(e.Time)
	if err := json.Unmarshal(raw, &e.Details); err != nil {
		return e, fmt.Errorf("decode details of audit event %d: %w", e.ID, err)
	}
	if len(e.Details) == 0 {
		e.Details = nil
	}
	return e, nil
}

// ListAudit returns matching events, newest first.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE `+auditWhere+`
ORDER BY id DESC LIMIT $9`, append(auditArgs(f), limit)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit events: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit events: %w", err)
	}
	return out, nil
}

// WalkAudit calls fn with the events w selects, in id order, reading
// storage.AuditWalkBatch events per query (keyset pagination): no query
// stays open while fn runs.
func (s *Store) WalkAudit(ctx context.Context, w storage.AuditWalk, fn func(storage.AuditEvent) error) error {
	after := w.AfterID
	through := w.ThroughID
	if through == 0 {
		through = 1<<63 - 1
	}
	args := auditArgs(storage.AuditFilter{Since: w.Since, Until: w.Until})
	for {
		rows, err := s.q(ctx).Query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE `+auditWhere+`
  AND id > $9 AND id <= $10 ORDER BY id LIMIT $11`, append(args, after, through, storage.AuditWalkBatch)...)
		if err != nil {
			return fmt.Errorf("postgres: walk audit events: %w", mapError(err))
		}
		batch, err := pgx.CollectRows(rows, scanAudit)
		if err != nil {
			return fmt.Errorf("postgres: walk audit events: %w", err)
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(batch) < storage.AuditWalkBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}

// AuditHead returns the end of the chain.
func (s *Store) AuditHead(ctx context.Context) (storage.AuditHead, error) {
	var h storage.AuditHead
	if err := s.q(ctx).QueryRow(ctx, `SELECT last_id, last_hash FROM audit_chain`).Scan(&h.LastID, &h.LastHash); err != nil {
		return h, fmt.Errorf("postgres: audit head: %w", mapError(err))
	}
	return h, nil
}

// AuditCutBefore returns the newest event of the oldest run of events all
// older than before.
func (s *Store) AuditCutBefore(ctx context.Context, before time.Time) (storage.AuditEvent, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+auditColumns+` FROM audit_events
WHERE id < coalesce((SELECT min(id) FROM audit_events WHERE time >= $1), 9223372036854775807)
ORDER BY id DESC LIMIT 1`, before)
	if err != nil {
		return storage.AuditEvent{}, fmt.Errorf("postgres: audit cut before %s: %w", before.Format(time.RFC3339), mapError(err))
	}
	e, err := pgx.CollectExactlyOneRow(rows, scanAudit)
	if err != nil {
		return e, fmt.Errorf("postgres: audit cut before %s: %w", before.Format(time.RFC3339), mapError(err))
	}
	return e, nil
}

// PruneAudit deletes every event with id <= cp.CutID and records cp, in
// one transaction.
func (s *Store) PruneAudit(ctx context.Context, cp *storage.AuditCheckpoint) (int64, error) {
	cp.CreatedAt = cp.CreatedAt.UTC().Truncate(time.Microsecond)
	cp.CutTime = cp.CutTime.UTC().Truncate(time.Microsecond)
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM audit_events WHERE id <= $1`, cp.CutID)
		if err != nil {
			return fmt.Errorf("delete: %w", mapError(err))
		}
		n = tag.RowsAffected()
		err = tx.QueryRow(ctx, `
INSERT INTO audit_checkpoints (cut_id, cut_hash, cut_time, pruned, created_at, mac)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, cp.CutID, cp.CutHash, cp.CutTime, cp.Pruned, cp.CreatedAt, cp.MAC).Scan(&cp.ID)
		if err != nil {
			return fmt.Errorf("record checkpoint: %w", mapError(err))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune audit events through %d: %w", cp.CutID, err)
	}
	return n, nil
}

// ListAuditCheckpoints returns every checkpoint, oldest cut first.
func (s *Store) ListAuditCheckpoints(ctx context.Context) ([]storage.AuditCheckpoint, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT id, cut_id, cut_hash, cut_time, pruned, created_at, mac FROM audit_checkpoints ORDER BY cut_id, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit checkpoints: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.AuditCheckpoint, error) {
		var c storage.AuditCheckpoint
		err := r.Scan(&c.ID, &c.CutID, &c.CutHash, &c.CutTime, &c.Pruned, &c.CreatedAt, &c.MAC)
		c.CutTime, c.CreatedAt = utc(c.CutTime), utc(c.CreatedAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit checkpoints: %w", mapError(err))
	}
	return out, nil
}
