package main

import (
	"strings"
	"testing"
)

// TestClientsRateLimitFlag: clients create|update --rate-limit 50/s --burst
// 100 stores the client's own limit (shown by get, kept by JSON), "default"
// removes it, and a malformed rate or a burst without a rate is a usage
// error naming the flag.
func TestClientsRateLimitFlag(t *testing.T) {
	e := newEnv(t)
	id := decodeObject(t, mustRun(t, e, "", "clients", "create", "--name", "Batch", "--grant-type", "client_credentials",
		"--auth-method", "client_secret_basic", "--rate-limit", "50/s", "--burst", "100", "-o", "json").out)["client_id"].(string)
	got := decodeObject(t, mustRun(t, e, "", "clients", "get", id, "-o", "json").out)
	if got["rate_limit"] != "50/s" || got["rate_limit_burst"] != float64(100) {
		t.Fatalf("not stored: %v", got)
	}
	if out := mustRun(t, e, "", "clients", "get", id).out; !strings.Contains(out, "50/s, burst 100") {
		t.Errorf("get does not show the limit:\n%s", out)
	}
	mustRun(t, e, "", "clients", "update", id, "--rate-limit", "600/m")
	got = decodeObject(t, mustRun(t, e, "", "clients", "get", id, "-o", "json").out)
	if got["rate_limit"] != "600/m" || got["rate_limit_burst"] != nil {
		t.Fatalf("a new rate keeps the old burst: %v", got)
	}
	mustRun(t, e, "", "clients", "update", id, "--rate-limit", "default")
	if out := mustRun(t, e, "", "clients", "get", id).out; !strings.Contains(out, "server default") {
		t.Errorf("default not restored:\n%s", out)
	}
	wantFail(t, run(t, e, "", "clients", "update", id, "--rate-limit", "50/day"), exitUsage, "--rate-limit (rate_limit)")
	wantFail(t, run(t, e, "", "clients", "update", id, "--burst", "10"), exitUsage, "--burst (rate_limit_burst) needs rate_limit")

	// The same through the admin API (--endpoint), every exchange checked
	// against api/openapi.yaml.
	api := startAdminAPI(t, e, nil)
	remote := func(args ...string) result { return runRemote(t, env{}, api.tr.Client(), api.args(args...)...) }
	if r := remote("clients", "update", id, "--rate-limit", "20/s", "--burst", "5"); r.code != 0 {
		t.Fatalf("remote update: %d %s", r.code, r.errOut)
	}
	got = decodeObject(t, remote("clients", "get", id, "-o", "json").out)
	if got["rate_limit"] != "20/s" || got["rate_limit_burst"] != float64(5) {
		t.Fatalf("remote update not stored: %v", got)
	}
	wantFail(t, remote("clients", "update", id, "--rate-limit", "fast"), exitUsage, "--rate-limit (rate_limit)")
	if api.tr.Checked() < 3 {
		t.Errorf("only %d exchanges checked against the OpenAPI document", api.tr.Checked())
	}
}
