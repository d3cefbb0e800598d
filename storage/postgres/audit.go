package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// AppendAudit records e (in the caller's transaction, if any) and sets e.ID.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("postgres: encode audit details: %w", err)
	}
	err = s.q(ctx).QueryRow(ctx, `
INSERT INTO audit_events (time, actor, action, target, outcome, source_ip, user_agent, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.Time, e.Actor, e.Action, e.Target, e.Outcome, e.SourceIP, e.UserAgent, raw).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgres: append audit event %s: %w", e.Action, mapError(err))
	}
	return nil
}

// ListAudit returns matching events, newest first.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	rows, err := s.q(ctx).Query(ctx, `
SELECT id, time, actor, action, target, outcome, source_ip, user_agent, details
FROM audit_events
WHERE ($1 = '' OR action = $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR target = $3)
  AND ($4::timestamptz IS NULL OR time >= $4)
ORDER BY id DESC LIMIT $5`, f.Action, f.Actor, f.Target, since, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit events: %w", mapError(err))
	}
	defer rows.Close()
	var out []storage.AuditEvent
	for rows.Next() {
		var e storage.AuditEvent
		var raw []byte
		if err := rows.Scan(&e.ID, &e.Time, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.SourceIP, &e.UserAgent, &raw); err != nil {
			return nil, fmt.Errorf("postgres: scan audit event: %w", mapError(err))
		}
		e.Time = utc(e.Time)
		if err := json.Unmarshal(raw, &e.Details); err != nil {
			return nil, fmt.Errorf("postgres: decode audit details: %w", err)
		}
		if len(e.Details) == 0 {
			e.Details = nil
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list audit events: %w", mapError(err))
	}
	return out, nil
}
