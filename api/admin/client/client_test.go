package client_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/client"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/registration"
)

// answering returns a client of a server that answers every request with
// status and body, and records the last request.
func answering(t *testing.T, status int, body string) (*client.Client, *http.Request) {
	t.Helper()
	var last http.Request
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = *r
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return client.New(ts.URL+"/", "tok", nil), &last
}

func TestProblemsBecomeTheServicesErrors(t *testing.T) {
	ctx := t.Context()
	t.Run("validation", func(t *testing.T) {
		c, _ := answering(t, 400, `{"type":"`+admin.TypeInvalidRequest+`","title":"Invalid request","status":400,"errors":["a","b"]}`)
		_, _, err := c.Clients.CreateClient(ctx, registration.ClientSpec{}, authzadmin.CreateOptions{})
		var ve *registration.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 2 {
			t.Fatalf("err %v, want a ValidationError with 2 problems", err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		c, req := answering(t, 404, `{"type":"`+admin.TypeNotFound+`","title":"Not found","status":404,"detail":"client \"x/y\" not found"}`)
		_, err := c.Clients.GetClient(ctx, "x/y")
		if !errors.Is(err, authzadmin.ErrNotFound) || err.Error() != `client "x/y" not found` {
			t.Fatalf("err %v", err)
		}
		if req.URL.EscapedPath() != "/admin/v1/clients/x%2Fy" || req.Header.Get("Authorization") != "Bearer tok" {
			t.Fatalf("request %s %v", req.URL.EscapedPath(), req.Header)
		}
	})
	t.Run("taken username", func(t *testing.T) {
		c, _ := answering(t, 409, `{"type":"`+admin.TypeConflict+`","title":"Conflict","status":409,"detail":"username taken"}`)
		if _, err := c.Users.CreateUser(ctx, authzadmin.UserSpec{}); !errors.Is(err, authzadmin.ErrConflict) {
			t.Fatalf("err %v, want ErrConflict", err)
		}
	})
	t.Run("no such grant, known user", func(t *testing.T) {
		c, _ := answering(t, 404, `{"type":"`+admin.TypeNotFound+`","title":"Not found","status":404,"detail":"no grant"}`)
		if _, err := c.Users.RevokeGrant(ctx, "alice", "web"); !errors.Is(err, authz.ErrGrantNotFound) {
			t.Fatalf("err %v, want ErrGrantNotFound", err)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		c, _ := answering(t, 404, `{"type":"`+admin.TypeNotFound+`","title":"Not found","status":404,"detail":"user \"bob\" not found"}`)
		err := c.Users.EndSession(ctx, "bob", "s")
		if errors.Is(err, authz.ErrSessionNotFound) || !errors.Is(err, authzadmin.ErrNotFound) {
			t.Fatalf("err %v, want the user's not found", err)
		}
	})
	t.Run("next key not ready", func(t *testing.T) {
		c, _ := answering(t, 409, `{"type":"`+admin.TypeKeyNotReady+`","title":"Next key not ready","status":409,"detail":"wait"}`)
		if _, err := c.Keys.RotateKeys(ctx, "", false); !errors.Is(err, keys.ErrNextNotReady) {
			t.Fatalf("err %v, want ErrNextNotReady", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		c, _ := answering(t, 404, `{"type":"`+admin.TypeNotFound+`","title":"Not found","status":404,"detail":"no key"}`)
		if _, err := c.Keys.RevokeKey(ctx, "k"); !errors.Is(err, keys.ErrKeyNotFound) {
			t.Fatalf("err %v, want ErrKeyNotFound", err)
		}
	})
	t.Run("refused token", func(t *testing.T) {
		c, _ := answering(t, 401, `{"type":"`+admin.TypeUnauthorized+`","title":"Unauthorized","status":401,"detail":"bad token"}`)
		if _, err := c.Users.ListUsers(ctx); err == nil || errors.Is(err, authzadmin.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
}
