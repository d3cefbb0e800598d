package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// AuditEvent is an audit event as the admin API and the CLI show it.
type AuditEvent struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	Outcome   string            `json:"outcome"`
	SourceIP  string            `json:"source_ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

// MaxAuditLimit caps one audit listing.
const MaxAuditLimit = 1000

// ListAudit returns matching audit events, newest first: every writer's
// events (clients, users, signing keys, logins) from the one trail.
func ListAudit(ctx context.Context, audit storage.Audit, f storage.AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxAuditLimit {
		f.Limit = MaxAuditLimit
	}
	events, err := audit.ListAudit(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	out := make([]AuditEvent, len(events))
	for i, e := range events {
		out[i] = AuditEvent{
			ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target,
			Outcome: e.Outcome, SourceIP: e.SourceIP, UserAgent: e.UserAgent, Details: e.Details,
		}
	}
	return out, nil
}
