package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time, e.g.
//
//	go build -ldflags "-X github.com/strongroom/strongroom/buildinfo.version=v1.2.3 \
//	  -X github.com/strongroom/strongroom/buildinfo.commit=$(git rev-parse HEAD) \
//	  -X github.com/strongroom/strongroom/buildinfo.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// Empty when not stamped. They are written only by the linker.
var (
	version string
	commit  string
	date    string
)

// fositeModule is the module path of the OAuth 2.0 framework underneath.
const fositeModule = "github.com/ory/fosite"

// Unknown is shown for a value neither stamped nor recorded by the toolchain.
const Unknown = "unknown"

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Fosite    string `json:"fosite_version"`
}

// Stamped reports whether the linker set a version. Unstamped binaries
// (go run, go install without -ldflags) show the toolchain's record.
type Stamped struct{ Version, Commit, Date string }

// Read returns this binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return From(Stamped{Version: version, Commit: commit, Date: date}, bi)
}

// From combines the stamped values with the toolchain's build information
// (nil when unavailable): a stamped value wins, then the module version
// and the VCS settings, then Unknown ("dev" for the version).
func From(s Stamped, bi *debug.BuildInfo) Info {
	info := Info{Version: s.Version, Commit: s.Commit, Date: s.Date, GoVersion: runtime.Version(), Fosite: Unknown}
	var revision, vcsTime string
	var modified bool
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, dep := range bi.Deps {
			if dep.Path != fositeModule {
				continue
			}
			info.Fosite = dep.Version
			if dep.Replace != nil {
				info.Fosite = dep.Version + " => " + strings.TrimSpace(dep.Replace.Path+" "+dep.Replace.Version)
			}
		}
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				revision = kv.Value
			case "vcs.time":
				vcsTime = kv.Value
			case "vcs.modified":
				modified = kv.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = Unknown
		if revision != "" {
			info.Commit = revision
			if modified {
				info.Commit += "-dirty"
			}
		}
	}
	if info.Date == "" {
		info.Date = Unknown
		if vcsTime != "" {
			info.Date = vcsTime
		}
	}
	return info
}
