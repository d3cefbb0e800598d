package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/postgres"
)

// seedAudit appends one event per time in ats (ids 1, 2, ...): a client
// update by an operator, the client named c<n>.
func seedAudit(t *testing.T, st *postgres.Store, ats ...time.Time) {
	t.Helper()
	for i, at := range ats {
		e := &storage.AuditEvent{Time: at, Actor: "operator:root", Action: "client.update", Target: fmt.Sprintf("c%d", i+1),
			Outcome: storage.OutcomeSuccess, SourceIP: "192.0.2.7", Details: map[string]string{"fields": "client_name"}}
		if i%2 == 1 {
			e.Actor, e.Action, e.Outcome = fmt.Sprintf("client:c%d", i+1), "client.auth", storage.OutcomeFailure
		}
		if err := st.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func execSQL(t *testing.T, st *postgres.Store, sql string, args ...any) {
	t.Helper()
	tag, err := st.Pool().Exec(context.Background(), sql, args...)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("%s: %v (%d rows)", sql, err, tag.RowsAffected())
	}
}

// TestAuditVerifyNamesTheRowChangedWithSQL: `audit verify` passes on an
// intact trail and prints its head; after one row is changed with SQL it
// exits 1 naming that row; a deleted row is named through its successor.
func TestAuditVerifyNamesTheRowChangedWithSQL(t *testing.T) {
	e := newEnv(t)
	st := openTestStore(t, e)
	now := time.Now()
	seedAudit(t, st, now.Add(-4*time.Hour), now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour), now)

	r := mustRun(t, e, "", "audit", "verify")
	head, err := st.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.out, "audit trail intact: 5 events") || !strings.Contains(r.out, fmt.Sprintf("head: 5:%x", head.LastHash)) {
		t.Fatalf("verify output:\n%s", r.out)
	}
	anchor := fmt.Sprintf("5:%x", head.LastHash)
	mustRun(t, e, "", "audit", "verify", "--anchor", anchor)

	execSQL(t, st, `UPDATE audit_events SET details = '{"fields":"redirect_uris"}' WHERE id = 3`)
	wantFail(t, run(t, e, "", "audit", "verify"), exitFailure, "audit trail broken: event 3: changed")
	r = run(t, e, "", "audit", "verify", "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || r.code != exitFailure || rep.Problem == nil || rep.Problem.EventID != 3 || rep.Problem.Kind != audit.ProblemChanged {
		t.Fatalf("verify -o json: exit %d, %s (%v)", r.code, r.out, err)
	}
	execSQL(t, st, `UPDATE audit_events SET details = '{"fields":"client_name"}' WHERE id = 3`)
	mustRun(t, e, "", "audit", "verify")

	execSQL(t, st, `DELETE FROM audit_events WHERE id = 2`)
	wantFail(t, run(t, e, "", "audit", "verify"), exitFailure, "event 3: does not follow event 1: event(s) 2 to 2 before it were deleted")
	wantFail(t, run(t, e, "", "audit", "verify", "--anchor", "5:zz"), exitUsage, "--anchor")
	wantFail(t, run(t, e, "", "audit", "export", "--endpoint", "http://127.0.0.1:1"), exitUsage, "not through --endpoint")
}

// TestAuditPruneThenVerifyPasses: prune --retention 400d deletes the older
// events behind a checkpoint; verify passes afterwards, fails on a
// checkpoint forged with SQL, and with another STRONGROOM_SECRET.
func TestAuditPruneThenVerifyPasses(t *testing.T) {
	e := newEnv(t)
	e["USER"] = "alice"
	st := openTestStore(t, e)
	now := time.Now()
	day := 24 * time.Hour
	seedAudit(t, st, now.Add(-600*day), now.Add(-500*day), now.Add(-401*day), now.Add(-399*day), now.Add(-day))

	r := mustRun(t, e, "", "audit", "prune", "--retention", "400d")
	if !strings.Contains(r.out, "pruned 3 events through event 3") {
		t.Fatalf("prune output: %s", r.out)
	}
	r = mustRun(t, e, "", "audit", "verify")
	if !strings.Contains(r.out, "audit trail intact: 3 events checked from the prune checkpoint at event 3") { // 4, 5 and the prune event
		t.Fatalf("verify after prune: %s", r.out)
	}
	events, err := st.ListAudit(t.Context(), storage.AuditFilter{Action: audit.ActionPrune})
	if err != nil || len(events) != 1 || events[0].Actor != "operator:alice" || events[0].Details["pruned"] != "3" {
		t.Fatalf("prune event: %+v %v", events, err)
	}
	r = mustRun(t, e, "", "audit", "prune", "--retention", "400d")
	if !strings.Contains(r.out, "nothing to prune") {
		t.Fatalf("second prune: %s", r.out)
	}

	other := env{envDatabaseURL: e[envDatabaseURL], envSecret: newSecret(t)}
	wantFail(t, run(t, other, "", "audit", "verify"), exitFailure, "checkpoint 1 (cut at event 3): forged or altered")
	execSQL(t, st, `UPDATE audit_checkpoints SET cut_id = 2 WHERE id = 1`)
	wantFail(t, run(t, e, "", "audit", "verify"), exitFailure, "checkpoint 1 (cut at event 2): forged or altered")

	wantFail(t, run(t, e, "", "audit", "prune"), exitUsage, "--retention is required")
	wantFail(t, run(t, e, "", "audit", "prune", "--retention", "forever"), exitUsage, "--retention must be")
	wantFail(t, run(t, e, "", "audit", "prune", "--retention", "1h"), exitUsage, "at least 1d")
	// A broken trail is never pruned.
	wantFail(t, run(t, e, "", "audit", "prune", "--retention", "1d"), exitFailure, "fails verification")
}

// TestAuditExportWritesJSONLines: export streams every event oldest first
// as one JSON object per line with its hashes; --since and --after-id
// bound it.
func TestAuditExportWritesJSONLines(t *testing.T) {
	e := newEnv(t)
	st := openTestStore(t, e)
	now := time.Now()
	seedAudit(t, st, now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour))

	lines := func(r result) []audit.ExportedEvent {
		t.Helper()
		var out []audit.ExportedEvent
		sc := bufio.NewScanner(strings.NewReader(r.out))
		for sc.Scan() {
			var ev audit.ExportedEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			out = append(out, ev)
		}
		return out
	}
	all := lines(mustRun(t, e, "", "audit", "export", "--format", "jsonl"))
	if len(all) != 3 || all[0].ID != 1 || all[2].ID != 3 || all[1].PrevHash != all[0].Hash || len(all[0].Hash) != 64 ||
		all[1].Actor != "client:c2" || all[0].Details["fields"] != "client_name" {
		t.Fatalf("export: %+v", all)
	}
	if got := lines(mustRun(t, e, "", "audit", "export", "--since", "150m")); len(got) != 2 || got[0].ID != 2 {
		t.Fatalf("export --since 150m: %+v", got)
	}
	if got := lines(mustRun(t, e, "", "audit", "export", "--after-id", "2")); len(got) != 1 || got[0].ID != 3 {
		t.Fatalf("export --after-id 2: %+v", got)
	}
	wantFail(t, run(t, e, "", "audit", "export", "--format", "csv"), exitUsage, `--format must be "jsonl"`)
}

// TestAuditListFilters: list filters by client, outcome and time range.
func TestAuditListFilters(t *testing.T) {
	e := newEnv(t)
	st := openTestStore(t, e)
	now := time.Now()
	seedAudit(t, st, now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour), now)

	list := func(args ...string) []int64 {
		t.Helper()
		var events []authzadmin.AuditEvent
		r := mustRun(t, e, "", append([]string{"audit", "list", "-o", "json"}, args...)...)
		if err := json.Unmarshal([]byte(r.out), &events); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, ev := range events {
			ids = append(ids, ev.ID)
		}
		return ids
	}
	same := func(got []int64, want ...int64) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	same(list("--client", "c2"), 2)
	same(list("--outcome", "failure"), 4, 2)
	same(list("--since", "150m", "--until", "30m"), 3, 2)
	same(list("--subject", "c3"), 3) // the target
	wantFail(t, run(t, e, "", "audit", "list", "--outcome", "maybe"), exitUsage, "--outcome must be")
	wantFail(t, run(t, e, "", "audit", "list", "--until", "tomorrow"), exitUsage, "--until must be")
}

// TestServeAuditsItsStartWithRedactedSettings: serve writes one
// server.start event holding its effective settings, with the database
// password and the secrets redacted, and the chain verifies after it.
func TestServeAuditsItsStartWithRedactedSettings(t *testing.T) {
	e := prodEnv(t)
	e[envDatabaseURL] = strings.Replace(e[envDatabaseURL], "postgres@", "postgres:hunter2pw@", 1) // trust auth ignores it
	addr := freeAddr(t)
	s := startServe(t, e, "serve", "--insecure-http", "--issuer", "http://"+addr, "--listen", addr)
	s.waitListening()
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, s.dump())
	}
	st := openTestStore(t, e)
	events, err := st.ListAudit(t.Context(), storage.AuditFilter{Action: ActionServerStart})
	if err != nil || len(events) != 1 {
		t.Fatalf("server.start events: %+v %v", events, err)
	}
	d := events[0].Details
	if d["issuer"] != "http://"+addr || d["listen"] != addr || d["listen_addr"] != addr || d[envSecret] != "(redacted)" ||
		d[envKEK] != "(redacted)" || d["version"] == "" || events[0].Actor != "system" || d["source"] != "server" {
		t.Errorf("server.start details: %v", d)
	}
	for k, v := range d {
		for _, secret := range []string{"hunter2pw", e[envSecret], e[envKEK]} {
			if strings.Contains(v, secret) {
				t.Errorf("server.start detail %s holds a secret: %q", k, v)
			}
		}
	}
	mustRun(t, e, "", "audit", "verify")
}

// TestAuditVerifyThroughTheAdminAPI: with --endpoint, verify asks the admin
// API (GET /admin/v1/audit/verify) and answers like the local mode: intact,
// then exit 1 naming the row changed with SQL.
func TestAuditVerifyThroughTheAdminAPI(t *testing.T) {
	e := newEnv(t)
	st := openTestStore(t, e)
	now := time.Now()
	seedAudit(t, st, now.Add(-2*time.Hour), now.Add(-time.Hour), now)
	api := startAdminAPI(t, e, nil)
	noDB := env{}
	r := mustRunRemote(t, noDB, api.tr.Client(), api.args("audit", "verify")...)
	if !strings.Contains(r.out, "audit trail intact: 3 events") || !strings.Contains(r.out, "head: 3:") {
		t.Fatalf("remote verify: %s", r.out)
	}
	execSQL(t, st, `UPDATE audit_events SET outcome = 'failure' WHERE id = 1`)
	wantFail(t, runRemote(t, noDB, api.tr.Client(), api.args("audit", "verify")...), exitFailure, "audit trail broken: event 1: changed")
	wantFail(t, run(t, noDB, "", api.args("audit", "verify", "--anchor", "1:"+strings.Repeat("ab", 32))...), exitUsage, "--anchor works on the database only")
}
