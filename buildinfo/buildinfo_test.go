package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromPrefersStampedValues(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/strongroom/strongroom", Version: "v0.0.0-20260101-abcdef"},
		Deps:      []*debug.Module{{Path: "github.com/ory/fosite", Version: "v0.49.0"}},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "deadbeef"}, {Key: "vcs.time", Value: "2026-01-01T00:00:00Z"}},
	}
	got := From(Stamped{Version: "v1.2.3", Commit: "c0ffee", Date: "2026-12-03T14:00:00Z"}, bi)
	want := Info{Version: "v1.2.3", Commit: "c0ffee", Date: "2026-12-03T14:00:00Z", GoVersion: "go1.99.1", Fosite: "v0.49.0"}
	if got != want {
		t.Errorf("From = %+v, want %+v", got, want)
	}
}

func TestFromFallsBackToTheToolchainRecord(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/strongroom/strongroom", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/ory/x", Version: "v0.0.665"},
			{Path: "github.com/ory/fosite", Version: "v0.49.0", Replace: &debug.Module{Path: "../fosite"}},
		},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "deadbeef"}, {Key: "vcs.time", Value: "2026-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		},
	}
	got := From(Stamped{}, bi)
	want := Info{Version: "dev", Commit: "deadbeef-dirty", Date: "2026-01-01T00:00:00Z", GoVersion: "go1.99.1", Fosite: "v0.49.0 => ../fosite"}
	if got != want {
		t.Errorf("From = %+v, want %+v", got, want)
	}
}

func TestFromWithoutBuildInfo(t *testing.T) {
	got := From(Stamped{}, nil)
	want := Info{Version: "dev", Commit: Unknown, Date: Unknown, GoVersion: runtime.Version(), Fosite: Unknown}
	if got != want {
		t.Errorf("From = %+v, want %+v", got, want)
	}
}
