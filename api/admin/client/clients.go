package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/authz/registration"
)

// CreateClient registers a client (POST /clients); the secret, for a client
// that authenticates with one, is shown this once.
func (c *Clients) CreateClient(ctx context.Context, spec registration.ClientSpec, opts authzadmin.CreateOptions) (*registration.ClientInfo, *authzadmin.IssuedSecret, error) {
	var q url.Values
	if opts.SecretExpiresIn > 0 {
		q = url.Values{"secret_expires_in": {opts.SecretExpiresIn.String()}}
	}
	var out struct {
		Client registration.ClientInfo  `json:"client"`
		Secret *authzadmin.IssuedSecret `json:"secret"`
	}
	if err := c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteClients), q, spec, &out); err != nil {
		return nil, nil, err
	}
	return &out.Client, out.Secret, nil
}

// ListClients lists every client.
func (c *Clients) ListClients(ctx context.Context) ([]registration.ClientInfo, error) {
	var out []registration.ClientInfo
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteClients), nil, nil, &out)
}

// GetClient returns one client.
func (c *Clients) GetClient(ctx context.Context, id string) (*registration.ClientInfo, error) {
	var out registration.ClientInfo
	return &out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteClient, id), nil, nil, &out)
}

// UpdateClient applies patch, a JSON object of ClientSpec fields.
func (c *Clients) UpdateClient(ctx context.Context, id string, patch []byte) (*registration.ClientInfo, error) {
	var out registration.ClientInfo
	return &out, c.t.call(ctx, http.MethodPatch, admin.Path(admin.RouteClient, id), nil, patch, &out)
}

// DeleteClient removes a client.
func (c *Clients) DeleteClient(ctx context.Context, id string) error {
	return c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteClient, id), nil, nil, nil)
}

// SetClientDisabled disables or enables a client.
func (c *Clients) SetClientDisabled(ctx context.Context, id string, disabled bool) (*registration.ClientInfo, error) {
	route := admin.RouteClientEnable
	if disabled {
		route = admin.RouteClientDisable
	}
	var out registration.ClientInfo
	return &out, c.t.call(ctx, http.MethodPost, admin.Path(route, id), nil, nil, &out)
}

// RotateSecret issues a new secret (shown once); the current one works
// until the grace period ends.
func (c *Clients) RotateSecret(ctx context.Context, id string, opts authzadmin.RotateOptions) (*authzadmin.IssuedSecret, error) {
	body := admin.RotateRequest{Grace: opts.Grace.String()}
	if opts.ExpiresIn > 0 {
		body.ExpiresIn = opts.ExpiresIn.String()
	}
	var out authzadmin.IssuedSecret
	return &out, c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteClientSecrets, id), nil, body, &out)
}

// RevokeSecret ends one secret of a client now.
func (c *Clients) RevokeSecret(ctx context.Context, id, secretID string) (*registration.ClientInfo, error) {
	var out registration.ClientInfo
	return &out, c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteClientSecret, id, secretID), nil, nil, &out)
}

// ImportClients registers every spec, all or nothing. The API reports no
// progress: progress is not called.
func (c *Clients) ImportClients(ctx context.Context, specs []registration.ClientSpec, _ func(done, total int)) ([]authzadmin.ImportResult, error) {
	var out struct {
		Imported []authzadmin.ImportResult `json:"imported"`
	}
	return out.Imported, c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteClientImport), nil, specs, &out)
}

// ExportClients returns the registrations of the named clients (all when
// ids is empty), without secrets.
func (c *Clients) ExportClients(ctx context.Context, ids []string) ([]registration.ClientSpec, error) {
	var out []registration.ClientSpec
	var q url.Values
	if len(ids) > 0 {
		q = url.Values{"id": ids}
	}
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteClientExport), q, nil, &out)
}

// VerifyAudit checks the audit trail's hash chain on the server (GET
// /audit/verify); a broken trail is a report with a Problem, not an error.
func (c *Clients) VerifyAudit(ctx context.Context) (audit.Report, error) {
	var out audit.Report
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteAuditVerify), nil, nil, &out)
}

// ListAudit returns matching audit events, newest first.
func (c *Clients) ListAudit(ctx context.Context, f authzadmin.AuditFilter) ([]authzadmin.AuditEvent, error) {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Action, "actor": f.Actor, "target": f.Target,
		"outcome": f.Outcome, "client": f.Client, "subject": f.Subject} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out []authzadmin.AuditEvent
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteAuditEvents), q, nil, &out)
}
