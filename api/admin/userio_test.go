package admin_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/api/admin"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
)

func cheapHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := password.Hash(pw, password.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestUserImportExportThroughTheAPI: POST /user-import adds users with
// their hashes and phone numbers, skip_existing skips, GET /user-export
// gives them back (hashes only when asked for), and a failed import names
// each failed record, never quotes a hash, and writes nothing.
func TestUserImportExportThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	h := cheapHash(t, "argon password 1")
	recs := `[{"username":"ann","phone_number":"+14155550100","phone_number_verified":true,"password_hash":"` + h + `"},` +
		`{"id":"5b1f7c52-7a1e-4c59-9d1c-0b7e1c2d3e4f","username":"bea","email":"bea@example.com","password_hash":"` + h + `"}]`
	var res struct {
		Results []authzadmin.UserImportResult `json:"results"`
	}
	f.do(t, "POST", "/admin/v1/user-import", recs, 201, &res)
	if len(res.Results) != 2 || res.Results[0].Status != "created" || res.Results[1].ID != "5b1f7c52-7a1e-4c59-9d1c-0b7e1c2d3e4f" {
		t.Fatalf("results %+v", res.Results)
	}
	f.do(t, "POST", "/admin/v1/user-import?skip_existing=true", recs, 201, &res)
	if res.Results[0].Status != "skipped" || res.Results[1].Status != "skipped" {
		t.Fatalf("second import with skip_existing: %+v", res.Results)
	}

	var out []authzadmin.UserRecord
	f.do(t, "GET", "/admin/v1/user-export", "", 200, &out)
	if len(out) != 2 || out[0].Username != "ann" || out[0].PhoneNumber != "+14155550100" || !out[0].PhoneNumberVerified ||
		out[0].PasswordHash != "" || out[1].Email != "bea@example.com" {
		t.Fatalf("export %+v", out)
	}
	f.do(t, "GET", "/admin/v1/user-export?with_password_hashes=true", "", 200, &out)
	if out[0].PasswordHash != h || out[1].PasswordHash != h {
		t.Fatal("with_password_hashes=true left the hashes out")
	}

	before := f.snapshot(t)
	bad := `[{"username":"cat","password_hash":"` + h + `"},` +
		`{"username":"dan","phone_number":"0044 20 7183 8750","password_hash":"` + h + `"},` +
		`{"username":"ann","password_hash":"` + h + `"}]`
	f.tr.SkipRequestCheck()
	var p admin.Problem
	f.do(t, "POST", "/admin/v1/user-import", bad, 400, &p)
	body, _ := json.Marshal(p)
	if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], `user 2 ("dan")`) || !strings.Contains(p.Errors[0], "E.164") ||
		strings.Contains(string(body), h) {
		t.Fatalf("problem %+v", p)
	}
	// valid records, but ann exists: refused whole without skip_existing
	f.do(t, "POST", "/admin/v1/user-import", `[{"username":"cat","password_hash":"`+h+`"},{"username":"ann","password_hash":"`+h+`"}]`, 400, &p)
	if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], `user 2 ("ann")`) {
		t.Fatalf("problem %+v", p)
	}
	if f.snapshot(t) != before {
		t.Fatal("a failed import wrote something")
	}
	f.tr.SkipRequestCheck()
	f.do(t, "POST", "/admin/v1/user-import", `[{"username":"eve","password_hash":"`+h+`","role":"admin"}]`, 400, &p)
	f.tr.SkipRequestCheck()
	f.do(t, "GET", "/admin/v1/user-export?with_password_hashes=maybe", "", 400, &p)
}
