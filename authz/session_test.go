package authz

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestSessionConfirmation: a bound session's access token carries cnf (jkt,
// x5t#S256 or both) in its JWT claims, and the binding survives storage
// (JSON); an unbound one has no cnf.
func TestSessionConfirmation(t *testing.T) {
	s := NewSession()
	s.ClientID = "c1"
	if s.Confirmation() != nil {
		t.Fatal("unbound session has a cnf")
	}
	if _, ok := s.GetJWTClaims().ToMapClaims()["cnf"]; ok {
		t.Fatal("unbound JWT access token has a cnf")
	}
	s.JKT, s.X5TS256, s.CodeJKT, s.RefreshJKT = "jkt-1", "x5t-1", "code-jkt", "refresh-jkt"
	want := map[string]any{"jkt": "jkt-1", "x5t#S256": "x5t-1"}
	if got := s.GetJWTClaims().ToMapClaims()["cnf"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("JWT cnf %v, want %v", got, want)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back := NewSession()
	if err := json.Unmarshal(b, back); err != nil {
		t.Fatal(err)
	}
	if back.JKT != "jkt-1" || back.X5TS256 != "x5t-1" || back.CodeJKT != "code-jkt" || back.RefreshJKT != "refresh-jkt" {
		t.Fatalf("after storage: %+v", back)
	}
}
