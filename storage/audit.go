package storage

import (
	"context"
	"time"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditEvent is one security-relevant event: a login attempt, a failed client
// authentication, an operator's change. It never carries a secret, password,
// private key or whole token.
type AuditEvent struct {
	ID        int64     // assigned by the store, increasing
	Time      time.Time // set by the caller
	Actor     string    // who: "user:<id>", "client:<id>", "operator:<name>", "anonymous"
	Action    string    // what, dotted: "login.password", "client.create", "key.rotate"
	Target    string    // what it was done to: a user id, client id, kid
	Outcome   string    // OutcomeSuccess or OutcomeFailure
	SourceIP  string
	UserAgent string
	Details   map[string]string // extra context; never secrets
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Action string
	Actor  string
	Target string
	Since  time.Time
	Limit  int // default 100
}

// Audit is the audit trail. Writers call AppendAudit with the context of the
// transaction that makes the change, so the event and the change commit or
// roll back together.
type Audit interface {
	// AppendAudit records e and sets e.ID.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns matching events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}
