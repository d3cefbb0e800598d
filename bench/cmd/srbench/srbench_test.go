package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/bench/load"
)

func fakeReport() *Report {
	res := func(sc, srv string, conns int, rps float64) Row {
		return Row{Result: load.Result{Scenario: sc, Server: srv, Conns: conns, RPS: rps, Requests: int64(rps),
			P99: 4 * time.Millisecond}}
	}
	return &Report{
		Commit: "abc", CPUs: 2, Conns: []int{16, 64}, Duration: time.Second, Servers: []string{"strongroom", "node-oidc"},
		Ceiling: []load.Result{{Conns: 16, RPS: 50000}, {Conns: 64, RPS: 48000}},
		Floors: []Floor{{Name: "pg_insert_commit", Conns: 16, Rate: 8000}, {Name: "pg_insert_commit", Conns: 64, Rate: 10000},
			{Name: "es256_sign_per_core", Rate: 20000}},
		Rows: []Row{
			res("cc_opaque", "strongroom", 16, 6000), res("cc_opaque", "node-oidc", 16, 3000),
			res("cc_opaque", "strongroom", 64, 7000), res("cc_opaque", "node-oidc", 64, 3500),
			res("cc_jwt", "strongroom", 16, 5000), {Result: load.Result{Scenario: "cc_jwt", Server: "node-oidc", Conns: 16}, Skipped: "not offered: 400"},
			res("cc_dpop", "strongroom", 16, 4000), res("cc_dpop", "node-oidc", 16, 2000),
		},
	}
}

func TestTableShowsRatioFloorAndSkips(t *testing.T) {
	var buf bytes.Buffer
	printTable(&buf, fakeReport())
	out := buf.String()
	for _, want := range []string{
		"2.00x",                   // 6000 / 3000
		"75%",                     // 6000 of the 8000 INSERT floor
		"70%",                     // 7000 of 10000
		"es256_sign_all_cores(2)", // the per-core rate times the CPUs
		"n/a",
		"node-oidc cc_jwt c=16 not measured: not offered: 400",
		"cc_dpop c=16 costs 83.3 µs per request more than plain cc_opaque",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPlotsAreWrittenAsPNG(t *testing.T) {
	dir := t.TempDir()
	if err := writePlots(dir, fakeReport()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"throughput.png", "p99.png"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 5000 {
			t.Errorf("%s: not a drawn PNG (%d bytes)", f, len(b))
		}
	}
}

func TestFlagsTargetAndConns(t *testing.T) {
	c, err := parseFlags([]string{"-conns", "1,4,128", "-target-issuer", "https://as.example", "-target-client-id", "a",
		"-target-client-secret", "b", "-target-params", "scope=x", "-scenarios", "cc_opaque,jwks"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.conns) != 3 || c.conns[2] != 128 || c.target == nil || c.target.Opaque.Params != "scope=x" || !c.scenarios["jwks"] || c.scenarios["cc_jwt"] {
		t.Fatalf("%+v", c)
	}
	for _, bad := range [][]string{{"-conns", "16,x"}, {"-conns", "0"}, {"-scenarios", "nope"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestSmokeAgainstStrongroom runs srbench end to end against a Strongroom it
// builds and starts (1 s per point, 2 connections, without node): every
// scenario must be measured without an error. It needs PostgreSQL and a Go
// toolchain, so it runs with STRONGROOM_BENCH_SMOKE=1 (make bench-smoke).
func TestSmokeAgainstStrongroom(t *testing.T) {
	if os.Getenv("STRONGROOM_BENCH_SMOKE") == "" || os.Getenv("STRONGROOM_TEST_DATABASE_URL") == "" {
		t.Skip("set STRONGROOM_BENCH_SMOKE=1 and STRONGROOM_TEST_DATABASE_URL (make bench-smoke)")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	var stdout bytes.Buffer
	err := run([]string{"-repo", "../../..", "-duration", "1s", "-warmup", "200ms", "-floor-duration", "300ms", "-conns", "2",
		"-pool", "50", "-no-node", "-json", out, "-plots", dir}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := readReport(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != len(scenarios) {
		t.Fatalf("%d rows, want one per scenario (%d):\n%s", len(rep.Rows), len(scenarios), stdout.String())
	}
	for _, r := range rep.Rows {
		if r.Skipped != "" || r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: skipped %q, %d requests, %d errors (%s)", r.Scenario, r.Skipped, r.Requests, r.Errors, r.FirstError)
		}
	}
	if !strings.Contains(stdout.String(), "node-oidc-provider NOT measured: -no-node") {
		t.Errorf("the table does not say node was left out:\n%s", stdout.String())
	}
}
