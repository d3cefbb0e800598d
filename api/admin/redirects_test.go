package admin_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/admintest"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage/memory"
)

// TestAdminAPIRefusesLoopbackHTTPForConfidentialClientsByDefault: POST
// /admin/v1/clients with a confidential client's http://localhost redirect
// URI is 400 naming --allow-insecure-redirects under the production policy,
// and 201 under the development policy.
func TestAdminAPIRefusesLoopbackHTTPForConfidentialClientsByDefault(t *testing.T) {
	body := `{"client_name":"local web","grant_types":["authorization_code"],"token_endpoint_auth_method":"client_secret_basic",` +
		`"redirect_uris":["http://localhost:3000/callback"]}`
	for _, allow := range []bool{false, true} {
		store := memory.New()
		hasher, err := authz.NewSecretHasher([]byte("strongroom-admin-api-test-secret-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		svc := server.NewAdminServices(store, server.AdminServicesOptions{
			Hasher: hasher, RedirectPolicy: registration.Policy{AllowInsecureRedirects: allow},
		})
		srv, err := admin.New(admin.Options{Clients: svc.Clients, Users: svc.Users, Audit: svc.Audit, Tokens: fakeTokens{},
			Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		tr := admintest.NewTransport(t, ts.URL, nil)
		f := &fixture{url: ts.URL, tr: tr, store: store}
		if !allow {
			var p admin.Problem
			f.do(t, http.MethodPost, admin.Path(admin.RouteClients), body, http.StatusBadRequest, &p)
			if !strings.Contains(strings.Join(p.Errors, "\n"), registration.FlagAllowInsecureRedirects) {
				t.Errorf("problem %+v does not name %s", p, registration.FlagAllowInsecureRedirects)
			}
		} else {
			f.do(t, http.MethodPost, admin.Path(admin.RouteClients), body, http.StatusCreated, nil)
		}
		ts.Close()
	}
}
