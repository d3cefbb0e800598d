package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Outcomes of audit events.
const (
	OutcomeSuccess = storage.OutcomeSuccess
	OutcomeFailure = storage.OutcomeFailure
)

// Sources of audit events (the "source" detail): one word per way in.
const (
	SourceCLI      = "cli"       // the strongroom command line, on the database
	SourceAdminAPI = "admin-api" // the admin API (the CLI's remote mode too)
	SourceServer   = "server"    // the server itself (start, automatic key rotation)
)

// Actor is who performs an administrative change, as recorded in the audit
// trail: a name ("operator:alice", "client:ops-bot", "mtls:CN=ops") and where
// the change came from.
type Actor struct {
	Name      string
	Source    string // SourceCLI, SourceAdminAPI or SourceServer
	IP        string
	UserAgent string
}

// name is the actor's name in audit events ("anonymous" when unset).
func (a Actor) name() string {
	if a.Name == "" {
		return "anonymous"
	}
	return a.Name
}

// event builds the audit event of a successful change by a.
func (a Actor) event(now time.Time, action, target string, details map[string]string) *storage.AuditEvent {
	d := map[string]string{}
	for k, v := range details {
		d[k] = v
	}
	if a.Source != "" {
		d["source"] = a.Source
	}
	return &storage.AuditEvent{
		Time: now, Actor: a.name(), Action: action, Target: target, Outcome: storage.OutcomeSuccess,
		SourceIP: a.IP, UserAgent: a.UserAgent, Details: d,
	}
}

// AuditEvent is an audit event as the admin API and the CLI show it, and as
// the admin API's middleware records its own (refused authentications,
// reads).
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

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Action  string
	Actor   string
	Target  string
	Outcome string // OutcomeSuccess or OutcomeFailure
	// Client: events by or about this client (actor client:<id>, target,
	// or details client_id).
	Client string
	// Subject: events by or about this user (actor user:<id>, target, or
	// details subject).
	Subject string
	Since   time.Time // at or after
	Until   time.Time // before
	// Limit caps the listing (default 100, at most MaxAuditLimit).
	Limit int
}

// MaxAuditLimit caps one audit listing.
const MaxAuditLimit = 1000

// AuditLog is the audit trail as operators see it: one listing of every
// writer's events (clients, users, signing keys, logins), and the recording
// of events that belong to no change (the admin API's refusals and reads).
type AuditLog struct {
	store storage.Audit
}

// NewAuditLog returns the audit view over store.
func NewAuditLog(store storage.Audit) *AuditLog { return &AuditLog{store: store} }

// List returns matching audit events, newest first.
func (l *AuditLog) List(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxAuditLimit {
		f.Limit = MaxAuditLimit
	}
	events, err := l.store.ListAudit(ctx, storage.AuditFilter{
		Action: f.Action, Actor: f.Actor, Target: f.Target, Outcome: f.Outcome, Client: f.Client, Subject: f.Subject,
		Since: f.Since, Until: f.Until, Limit: f.Limit,
	})
	if err != nil {
		return nil, domainError(fmt.Errorf("list audit events: %w", err))
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

// Record appends e to the trail on its own (not in a change's transaction).
// The caller sets e.Time from its clock.
func (l *AuditLog) Record(ctx context.Context, e AuditEvent) error {
	err := l.store.AppendAudit(ctx, &storage.AuditEvent{
		Time: e.Time, Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome,
		SourceIP: e.SourceIP, UserAgent: e.UserAgent, Details: e.Details,
	})
	if err != nil {
		return domainError(fmt.Errorf("append audit event %s: %w", e.Action, err))
	}
	return nil
}
