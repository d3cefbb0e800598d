package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/buildinfo"
)

// fositeRequirement is the fosite version go.mod requires.
func fositeRequirement(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/ory/fosite (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/ory/fosite")
	}
	return string(m[1])
}

func TestVersionCommandPrintsTheBuild(t *testing.T) {
	fosite := fositeRequirement(t)
	r := mustRun(t, nil, "", "version")
	for _, want := range []string{"strongroom ", "\n  commit  ", "\n  built   ", "\n  go      " + runtime.Version(), "\n  fosite  " + fosite + "\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.out)
		}
	}
	if flag := mustRun(t, nil, "", "--version"); flag.out != r.out {
		t.Errorf("--version printed\n%s\nstrongroom version printed\n%s", flag.out, r.out)
	}

	var info buildinfo.Info
	if err := json.Unmarshal([]byte(mustRun(t, nil, "", "version", "-o", "json").out), &info); err != nil {
		t.Fatal(err)
	}
	if info.Fosite != fosite || info.GoVersion != runtime.Version() || info.Version == "" || info.Commit == "" || info.Date == "" {
		t.Errorf("version -o json = %+v", info)
	}
}

// TestVersionStampedWithLdflags builds the binary as the Makefile does and
// checks that the stamped values are what it reports.
func TestVersionStampedWithLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	const pkg = "github.com/strongroom/strongroom/buildinfo"
	for _, v := range []string{"version", "commit", "date"} {
		if !strings.Contains(string(makefile), "-X $(BUILDINFO)."+v+"=") || !strings.Contains(string(makefile), "BUILDINFO := "+pkg) {
			t.Fatalf("the Makefile's build target does not stamp %s.%s", pkg, v)
		}
	}
	bin := filepath.Join(t.TempDir(), "strongroom")
	ldflags := "-X " + pkg + ".version=v9.8.7 -X " + pkg + ".commit=0123456789abcdef -X " + pkg + ".date=2026-12-03T14:00:00Z"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("strongroom version: %v", err)
	}
	var info buildinfo.Info
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := buildinfo.Info{Version: "v9.8.7", Commit: "0123456789abcdef", Date: "2026-12-03T14:00:00Z",
		GoVersion: runtime.Version(), Fosite: fositeRequirement(t)}
	if info != want {
		t.Errorf("stamped binary reports %+v, want %+v", info, want)
	}
	text, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(text), "strongroom v9.8.7\n  commit  0123456789abcdef\n") {
		t.Errorf("strongroom --version: %v\n%s", err, text)
	}
}
