package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/pgtest"
)

func TestMigrateUpThenStatus(t *testing.T) {
	e := env{envDatabaseURL: pgtest.NewEmptyDatabase(t)}

	r := mustRun(t, e, "", "migrate", "status")
	if !strings.Contains(r.out, "NAME") || !strings.Contains(r.out, "0001_init.sql") || !strings.Contains(r.out, " no ") {
		t.Errorf("status before up:\n%s", r.out)
	}
	wantFail(t, run(t, e, "", "clients", "list"), exitFailure, "strongroom migrate up")

	r = mustRun(t, e, "", "migrate", "up")
	if !strings.Contains(r.out, "Applied 0001_init.sql") {
		t.Errorf("up:\n%s", r.out)
	}
	r = mustRun(t, e, "", "migrate", "up")
	if !strings.Contains(r.out, "up to date") {
		t.Errorf("second up:\n%s", r.out)
	}
	r = mustRun(t, e, "", "migrate", "up", "-o", "json")
	if strings.TrimSpace(r.out) != `{"applied":[]}` {
		t.Errorf("up -o json: %s", r.out)
	}

	r = mustRun(t, e, "", "migrate", "status")
	if strings.Contains(r.out, " no ") || !strings.Contains(r.out, " yes ") {
		t.Errorf("status after up:\n%s", r.out)
	}
	r = mustRun(t, e, "", "migrate", "status", "-o", "json")
	var states []struct {
		Name      string     `json:"name"`
		Applied   bool       `json:"applied"`
		AppliedAt *time.Time `json:"applied_at"`
	}
	if err := json.Unmarshal([]byte(r.out), &states); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.out)
	}
	if len(states) == 0 || states[0].Name != "0001_init.sql" {
		t.Fatalf("status -o json: %s", r.out)
	}
	for _, s := range states {
		if !s.Applied || s.AppliedAt == nil || time.Since(*s.AppliedAt) > time.Hour {
			t.Errorf("migration %+v", s)
		}
	}

	mustRun(t, e, "", "clients", "list")
}

func TestMigrateStatusOnFreshDatabaseJSON(t *testing.T) {
	e := env{envDatabaseURL: pgtest.NewEmptyDatabase(t)}
	r := mustRun(t, e, "", "migrate", "status", "-o", "json")
	if !strings.Contains(r.out, `"name":"0001_init.sql","applied":false,"applied_at":null`) {
		t.Errorf("status -o json: %s", r.out)
	}
}
