package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// readAuditDown is an audit trail whose admin.read writes fail (the
// database went away between the read and its record) while down is set.
type readAuditDown struct {
	*memory.Store
	down atomic.Bool
}

func (a *readAuditDown) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	if a.down.Load() && e.Action == admin.ActionAdminRead {
		return fmt.Errorf("append audit event: %w", storage.ErrUnavailable)
	}
	return a.Store.AppendAudit(ctx, e)
}

// A read whose audit event cannot be written is not answered: 503, and
// nothing of the content leaves the server. A refused read (404) stays
// refused.
func TestAdminReadWithoutAuditRecordIsRefused(t *testing.T) {
	store := memory.New()
	audit := &readAuditDown{Store: store}
	hasher, err := authz.NewSecretHasher([]byte("strongroom-admin-api-test-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	svc := server.NewAdminServices(store, server.AdminServicesOptions{Hasher: hasher})
	srv, err := admin.New(admin.Options{
		Clients: svc.Clients,
		Users:   svc.Users,
		Audit:   authzadmin.NewAuditLog(audit),
		Tokens:  fakeTokens{},
		Log:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tr := admintest.NewTransport(t, ts.URL, nil)
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer good")
		resp, err := tr.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	if _, _, err := authzadmin.NewClientAdmin(store, hasher, authzadmin.ClientAdminOptions{}).Create(t.Context(), authzadmin.Actor{Name: "operator:test"},
		registration.ClientSpec{ClientName: "Confidential Partner", GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic}, authzadmin.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if status, body, _ := get("/admin/v1/clients"); status != http.StatusOK || !strings.Contains(body, "Confidential Partner") {
		t.Fatalf("read with the audit trail up: %d %s", status, body)
	}

	audit.down.Store(true)
	for _, path := range []string{"/admin/v1/clients", "/admin/v1/client-export", "/admin/v1/users", "/admin/v1/audit-events"} {
		status, body, h := get(path)
		if status != http.StatusServiceUnavailable || strings.Contains(body, "Confidential Partner") || strings.Contains(body, "client.create") ||
			h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s without an audit record: %d %s %v", path, status, body, h)
		}
	}
	if status, _, _ := get("/admin/v1/clients/nope"); status != http.StatusNotFound {
		t.Errorf("a refused read: %d, want 404", status)
	}
	events, err := store.ListAudit(t.Context(), storage.AuditFilter{Action: admin.ActionAdminRead})
	if err != nil || len(events) != 1 {
		t.Fatalf("read events %+v %v", events, err)
	}
	if !errors.Is(audit.AppendAudit(t.Context(), &storage.AuditEvent{Action: admin.ActionAdminRead}), storage.ErrUnavailable) {
		t.Fatal("fault injection inactive")
	}
}
