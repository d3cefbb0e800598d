package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/storage"
)

// adminBackend is what the clients and audit commands act on: the database
// directly (local, DATABASE_URL) or a remote admin API (--endpoint). Both
// return the same values, so the commands print the same output.
type adminBackend interface {
	CreateClient(ctx context.Context, spec authzadmin.ClientSpec, opts authzadmin.CreateOptions) (*authzadmin.ClientInfo, *authzadmin.IssuedSecret, error)
	ListClients(ctx context.Context) ([]authzadmin.ClientInfo, error)
	GetClient(ctx context.Context, id string) (*authzadmin.ClientInfo, error)
	UpdateClient(ctx context.Context, id string, patch []byte) (*authzadmin.ClientInfo, error)
	DeleteClient(ctx context.Context, id string) error
	SetClientDisabled(ctx context.Context, id string, disabled bool) (*authzadmin.ClientInfo, error)
	RotateSecret(ctx context.Context, id string, opts authzadmin.RotateOptions) (*authzadmin.IssuedSecret, error)
	RevokeSecret(ctx context.Context, id, secretID string) (*authzadmin.ClientInfo, error)
	ImportClients(ctx context.Context, specs []authzadmin.ClientSpec, progress func(done, total int)) ([]authzadmin.ImportResult, error)
	ExportClients(ctx context.Context, ids []string) ([]authzadmin.ClientSpec, error)
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]authzadmin.AuditEvent, error)
	// Remote reports whether the backend is a remote admin API.
	Remote() bool
	Close()
}

// remoteFlags are the persistent --endpoint and --token-file flags of the
// commands that can act on a remote admin API.
type remoteFlags struct {
	endpoint  string
	tokenFile string
}

func addRemoteFlags(cmd *cobra.Command, rf *remoteFlags) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&rf.endpoint, "endpoint", "", "act on the admin API at this URL (e.g. https://auth.internal:8081) instead of the database")
	pf.StringVar(&rf.tokenFile, "token-file", "", "file holding a bearer access token with the strongroom:admin scope (with --endpoint)")
}

// openBackend returns the remote backend when --endpoint is set, else the
// local one over the database. needSecret says whether the command will
// hash client secrets (local mode then needs STRONGROOM_SECRET).
func (a *app) openBackend(ctx context.Context, rf *remoteFlags, needSecret bool) (adminBackend, error) {
	if rf.endpoint != "" {
		return a.newRemote(rf)
	}
	if rf.tokenFile != "" {
		return nil, usageErrorf("--token-file is used only with --endpoint")
	}
	var hasher *authz.SecretHasher
	if needSecret {
		var err error
		if hasher, err = a.secretHasher(); err != nil {
			return nil, err
		}
	}
	store, closeStore, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	actor := authzadmin.Actor{Name: "operator:" + orDefault(a.getenv("USER"), "unknown"), Source: "cli"}
	return &localBackend{
		store: store, closeStore: closeStore, actor: actor,
		clients: authzadmin.NewClientAdmin(store, hasher, authzadmin.ClientAdminOptions{}),
	}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// localBackend runs the authz services over the database.
type localBackend struct {
	store      storage.Store
	closeStore func()
	actor      authzadmin.Actor
	clients    *authzadmin.ClientAdmin
}

func (l *localBackend) Remote() bool { return false }
func (l *localBackend) Close()       { l.closeStore() }

func (l *localBackend) CreateClient(ctx context.Context, spec authzadmin.ClientSpec, opts authzadmin.CreateOptions) (*authzadmin.ClientInfo, *authzadmin.IssuedSecret, error) {
	return l.clients.Create(ctx, l.actor, spec, opts)
}
func (l *localBackend) ListClients(ctx context.Context) ([]authzadmin.ClientInfo, error) {
	return l.clients.List(ctx)
}
func (l *localBackend) GetClient(ctx context.Context, id string) (*authzadmin.ClientInfo, error) {
	return l.clients.Get(ctx, id)
}
func (l *localBackend) UpdateClient(ctx context.Context, id string, patch []byte) (*authzadmin.ClientInfo, error) {
	return l.clients.Update(ctx, l.actor, id, patch)
}
func (l *localBackend) DeleteClient(ctx context.Context, id string) error {
	return l.clients.Delete(ctx, l.actor, id)
}
func (l *localBackend) SetClientDisabled(ctx context.Context, id string, disabled bool) (*authzadmin.ClientInfo, error) {
	return l.clients.SetDisabled(ctx, l.actor, id, disabled)
}
func (l *localBackend) RotateSecret(ctx context.Context, id string, opts authzadmin.RotateOptions) (*authzadmin.IssuedSecret, error) {
	return l.clients.RotateSecret(ctx, l.actor, id, opts)
}
func (l *localBackend) RevokeSecret(ctx context.Context, id, secretID string) (*authzadmin.ClientInfo, error) {
	return l.clients.RevokeSecret(ctx, l.actor, id, secretID)
}
func (l *localBackend) ImportClients(ctx context.Context, specs []authzadmin.ClientSpec, progress func(done, total int)) ([]authzadmin.ImportResult, error) {
	return l.clients.Import(ctx, l.actor, specs, progress)
}
func (l *localBackend) ExportClients(ctx context.Context, ids []string) ([]authzadmin.ClientSpec, error) {
	return l.clients.Export(ctx, ids)
}
func (l *localBackend) ListAudit(ctx context.Context, f storage.AuditFilter) ([]authzadmin.AuditEvent, error) {
	return authzadmin.ListAudit(ctx, l.store, f)
}

// remoteBackend calls the admin API (api/openapi.yaml).
type remoteBackend struct {
	base  string
	token string
	http  *http.Client
}

func (a *app) newRemote(rf *remoteFlags) (*remoteBackend, error) {
	u, err := url.Parse(rf.endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, usageErrorf("--endpoint must be an http(s) URL such as https://auth.internal:8081")
	}
	if u.Scheme == "http" {
		if host := u.Hostname(); host != "127.0.0.1" && host != "::1" && host != "localhost" {
			return nil, usageErrorf("--endpoint must use https except on a loopback address: the token would travel in clear")
		}
	}
	if rf.tokenFile == "" {
		return nil, usageErrorf("--endpoint needs --token-file: a file holding an access token with the %s scope", authz.AdminScope)
	}
	data, err := os.ReadFile(rf.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return nil, fmt.Errorf("--token-file %s is empty", rf.tokenFile)
	}
	client := a.httpClient
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	return &remoteBackend{base: strings.TrimRight(rf.endpoint, "/"), token: token, http: client}, nil
}

func (r *remoteBackend) Remote() bool { return true }
func (r *remoteBackend) Close()       {}

// problem is an RFC 9457 problem document from the admin API.
type problem struct {
	Type   string   `json:"type"`
	Title  string   `json:"title"`
	Status int      `json:"status"`
	Detail string   `json:"detail"`
	Errors []string `json:"errors"`
}

// remoteProblem is any other problem from the admin API; its message is the
// detail, and its type lets a command tell one refusal from another.
type remoteProblem struct{ p problem }

func (e *remoteProblem) Error() string { return e.p.Detail }

// remoteNotFound is a 404 from the admin API; it matches storage.ErrNotFound.
type remoteNotFound struct{ msg string }

func (e *remoteNotFound) Error() string { return e.msg }
func (e *remoteNotFound) Unwrap() error { return storage.ErrNotFound }

// call sends one request and decodes the JSON answer into out; a problem
// document becomes an error like the local backend's.
func (r *remoteBackend) call(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	var rd io.Reader
	if body != nil {
		data, ok := body.([]byte)
		if !ok {
			var err error
			if data, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode request: %w", err)
			}
		}
		rd = bytes.NewReader(data)
	}
	u := r.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("admin API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("read admin API answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		var p problem
		if json.Unmarshal(data, &p) != nil || p.Status == 0 {
			return fmt.Errorf("admin API answered %s", resp.Status)
		}
		switch {
		case len(p.Errors) > 0:
			return &authzadmin.ValidationError{Problems: p.Errors}
		case resp.StatusCode == http.StatusNotFound:
			return &remoteNotFound{msg: p.Detail}
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return fmt.Errorf("admin API refused the token (%d %s): %s", p.Status, p.Title, p.Detail)
		case p.Detail != "":
			return &remoteProblem{p: p}
		}
		return fmt.Errorf("admin API: %d %s", p.Status, p.Title)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode admin API answer: %w", err)
		}
	}
	return nil
}

func clientPath(id string, rest ...string) string {
	p := "/admin/v1/clients/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func (r *remoteBackend) CreateClient(ctx context.Context, spec authzadmin.ClientSpec, opts authzadmin.CreateOptions) (*authzadmin.ClientInfo, *authzadmin.IssuedSecret, error) {
	var q url.Values
	if opts.SecretExpiresIn > 0 {
		q = url.Values{"secret_expires_in": {opts.SecretExpiresIn.String()}}
	}
	var out struct {
		Client authzadmin.ClientInfo    `json:"client"`
		Secret *authzadmin.IssuedSecret `json:"secret"`
	}
	if err := r.call(ctx, http.MethodPost, "/admin/v1/clients", q, spec, &out); err != nil {
		return nil, nil, err
	}
	return &out.Client, out.Secret, nil
}

func (r *remoteBackend) ListClients(ctx context.Context) ([]authzadmin.ClientInfo, error) {
	var out []authzadmin.ClientInfo
	return out, r.call(ctx, http.MethodGet, "/admin/v1/clients", nil, nil, &out)
}

func (r *remoteBackend) GetClient(ctx context.Context, id string) (*authzadmin.ClientInfo, error) {
	var out authzadmin.ClientInfo
	return &out, r.call(ctx, http.MethodGet, clientPath(id), nil, nil, &out)
}

func (r *remoteBackend) UpdateClient(ctx context.Context, id string, patch []byte) (*authzadmin.ClientInfo, error) {
	var out authzadmin.ClientInfo
	return &out, r.call(ctx, http.MethodPatch, clientPath(id), nil, patch, &out)
}

func (r *remoteBackend) DeleteClient(ctx context.Context, id string) error {
	return r.call(ctx, http.MethodDelete, clientPath(id), nil, nil, nil)
}

func (r *remoteBackend) SetClientDisabled(ctx context.Context, id string, disabled bool) (*authzadmin.ClientInfo, error) {
	op := "enable"
	if disabled {
		op = "disable"
	}
	var out authzadmin.ClientInfo
	return &out, r.call(ctx, http.MethodPost, clientPath(id, op), nil, nil, &out)
}

func (r *remoteBackend) RotateSecret(ctx context.Context, id string, opts authzadmin.RotateOptions) (*authzadmin.IssuedSecret, error) {
	body := map[string]string{"grace": opts.Grace.String()}
	if opts.ExpiresIn > 0 {
		body["expires_in"] = opts.ExpiresIn.String()
	}
	var out authzadmin.IssuedSecret
	return &out, r.call(ctx, http.MethodPost, clientPath(id, "secrets"), nil, body, &out)
}

func (r *remoteBackend) RevokeSecret(ctx context.Context, id, secretID string) (*authzadmin.ClientInfo, error) {
	var out authzadmin.ClientInfo
	return &out, r.call(ctx, http.MethodDelete, clientPath(id, "secrets", secretID), nil, nil, &out)
}

func (r *remoteBackend) ImportClients(ctx context.Context, specs []authzadmin.ClientSpec, _ func(done, total int)) ([]authzadmin.ImportResult, error) {
	var out struct {
		Imported []authzadmin.ImportResult `json:"imported"`
	}
	return out.Imported, r.call(ctx, http.MethodPost, "/admin/v1/client-import", nil, specs, &out)
}

func (r *remoteBackend) ExportClients(ctx context.Context, ids []string) ([]authzadmin.ClientSpec, error) {
	var out []authzadmin.ClientSpec
	var q url.Values
	if len(ids) > 0 {
		q = url.Values{"id": ids}
	}
	return out, r.call(ctx, http.MethodGet, "/admin/v1/client-export", q, nil, &out)
}

func (r *remoteBackend) ListAudit(ctx context.Context, f storage.AuditFilter) ([]authzadmin.AuditEvent, error) {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Action, "actor": f.Actor, "target": f.Target} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out []authzadmin.AuditEvent
	return out, r.call(ctx, http.MethodGet, "/admin/v1/audit-events", q, nil, &out)
}
