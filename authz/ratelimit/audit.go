package ratelimit

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Audit actions recorded by AuditTrail.
const (
	// ActionReject is a request refused under a limit (sampled).
	ActionReject = "ratelimit.reject"
	// ActionFallback is the limiter falling back to per-node limits
	// (outcome failure) or returning to the shared ones (success).
	ActionFallback = "ratelimit.fallback"
)

// AuditTrail is an Observer that records what it hears in the audit trail.
// Wrap it in Sample: it writes one event per report. A failed write is
// logged, never returned (the request was already refused).
type AuditTrail struct {
	Audit storage.Audit
	Log   *slog.Logger
	Now   func() time.Time
}

// OnReject implements Observer.
func (a *AuditTrail) OnReject(scope Scope, key string) {
	e := &storage.AuditEvent{Action: ActionReject, Actor: "anonymous", Target: key, Outcome: storage.OutcomeFailure,
		Details: map[string]string{"scope": string(scope)}}
	switch scope {
	case ScopeClient:
		if key != "" && key[0] != 0 { // not the shared key of unknown clients
			e.Actor = "client:" + key
		}
	case ScopeAddress:
		e.SourceIP = key
	}
	a.append(e)
}

// OnFallback implements Observer.
func (a *AuditTrail) OnFallback(active bool) {
	e := &storage.AuditEvent{Action: ActionFallback, Actor: "system", Target: "redis", Outcome: storage.OutcomeSuccess,
		Details: map[string]string{"per_node": strconv.FormatBool(active)}}
	if active {
		e.Outcome = storage.OutcomeFailure
	}
	a.append(e)
}

func (a *AuditTrail) append(e *storage.AuditEvent) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	e.Time = now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.Audit.AppendAudit(ctx, e); err != nil && a.Log != nil {
		a.Log.Warn("rate limits: could not record an audit event", "action", e.Action, "err", err)
	}
}

var _ Observer = (*AuditTrail)(nil)
