package admin_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api"
	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage/memory"
)

func TestPathFillsAndEscapesParameters(t *testing.T) {
	for _, tc := range []struct {
		route  string
		params []string
		want   string
	}{
		{admin.RouteClients, nil, "/admin/v1/clients"},
		{admin.RouteClientSecret, []string{"web", "s1"}, "/admin/v1/clients/web/secrets/s1"},
		{admin.RouteUserGrant, []string{"alice", "a/b?c"}, "/admin/v1/users/alice/grants/a%2Fb%3Fc"},
		{admin.RouteKeyRevoke, []string{"k 1"}, "/admin/v1/keys/k%201/revoke"},
	} {
		if got := admin.Path(tc.route, tc.params...); got != tc.want {
			t.Errorf("Path(%q, %q) = %q, want %q", tc.route, tc.params, got, tc.want)
		}
	}
	for _, params := range [][]string{nil, {"a", "b"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Path(RouteClient, %q) did not panic", params)
				}
			}()
			admin.Path(admin.RouteClient, params...)
		}()
	}
}

// Every route the client names is one the server mounts: both sides take
// their paths from the one route table.
func TestServerMountsEveryRoute(t *testing.T) {
	store := memory.New()
	svc := server.NewAdminServices(store, server.AdminServicesOptions{})
	trail, err := audit.New(store, make([]byte, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := admin.New(admin.Options{
		Clients: svc.Clients, Users: svc.Users, Audit: svc.Audit, Sessions: svc.Sessions, Tokens: fakeTokens{},
		Keys:               struct{ admin.KeyAdmin }{}, // never called: only the routes are read
		AuditTrail:         trail,
		AuthorizationTypes: svc.AuthorizationTypes,
	})
	if err != nil {
		t.Fatal(err)
	}
	mounted := map[string]bool{}
	for _, r := range srv.Echo().Routes() {
		mounted[r.Path] = true
	}
	for _, route := range []string{
		admin.RouteClients, admin.RouteClient, admin.RouteClientDisable, admin.RouteClientEnable,
		admin.RouteClientSecrets, admin.RouteClientSecret, admin.RouteClientImport, admin.RouteClientExport,
		admin.RouteUsers, admin.RouteUser, admin.RouteUserGrants, admin.RouteUserGrant,
		admin.RouteUserSessions, admin.RouteUserSession, admin.RouteAuditEvents, admin.RouteAuditVerify,
		admin.RouteKeys, admin.RouteKeysRotate, admin.RouteKeyRevoke,
		admin.RouteAuthorizationTypes, admin.RouteAuthorizationType, admin.RouteOpenAPI, admin.RouteHealth,
	} {
		if !mounted[admin.Prefix+route] {
			t.Errorf("route %s is not mounted", route)
		}
	}
}

// TestServerServesOpenAPIWithoutToken: GET /admin/v1/openapi.yaml answers
// the embedded description without a bearer token, and nothing else under
// the prefix does.
func TestServerServesOpenAPIWithoutToken(t *testing.T) {
	store := memory.New()
	svc := server.NewAdminServices(store, server.AdminServicesOptions{})
	srv, err := admin.New(admin.Options{Clients: svc.Clients, Users: svc.Users, Audit: svc.Audit, Tokens: fakeTokens{}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	rec := get(admin.Path(admin.RouteOpenAPI))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), api.OpenAPI) {
		t.Fatalf("openapi.yaml: %d, %d bytes (want %d)", rec.Code, rec.Body.Len(), len(api.OpenAPI))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("Content-Type %q", ct)
	}
	if rec := get(admin.Path(admin.RouteClients)); rec.Code != http.StatusUnauthorized {
		t.Errorf("clients without a token: %d, want 401", rec.Code)
	}
}
