package devrp

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDemoSessionsAreBounded: a loop of GET /demo/login (each makes a
// session) never holds more than maxSessions; the newest browser's sign-in
// still works.
func TestDemoSessionsAreBounded(t *testing.T) {
	rp := New("http://127.0.0.1:8080", slog.New(slog.DiscardHandler))
	rp.Configure("demo-confidential", "secret", []string{"openid"})
	var last *http.Cookie
	for range maxSessions + 50 {
		rec := httptest.NewRecorder()
		rp.login(rec, httptest.NewRequest(http.MethodGet, PathLogin, nil))
		if rec.Code != http.StatusFound {
			t.Fatalf("login answered %d", rec.Code)
		}
		last = rec.Result().Cookies()[0]
	}
	rp.mu.Lock()
	n := len(rp.sessions)
	_, kept := rp.sessions[last.Value]
	rp.mu.Unlock()
	if n > maxSessions || !kept {
		t.Fatalf("%d sessions held (max %d), newest kept: %v", n, maxSessions, kept)
	}
}
