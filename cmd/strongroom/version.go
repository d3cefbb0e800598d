package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/buildinfo"
)

// newVersionCmd builds `strongroom version`; the root's --version prints
// the same text.
func newVersionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go and fosite versions",
		Example: `  strongroom version
  strongroom version -o json
  strongroom --version`,
		Args: cobra.NoArgs,
	}
	out := addOutputFlag(cmd)
	cmd.RunE = func(*cobra.Command, []string) error {
		info := buildinfo.Read()
		if *out == formatJSON {
			return writeJSON(a.out, info)
		}
		_, err := fmt.Fprint(a.out, versionText(info))
		return err
	}
	return cmd
}

// versionText renders info for people, one value a line.
func versionText(info buildinfo.Info) string {
	var b strings.Builder
	fmt.Fprintf(&b, "strongroom %s\n", info.Version)
	fmt.Fprintf(&b, "  commit  %s\n", info.Commit)
	fmt.Fprintf(&b, "  built   %s\n", info.Date)
	fmt.Fprintf(&b, "  go      %s\n", info.GoVersion)
	fmt.Fprintf(&b, "  fosite  %s\n", info.Fosite)
	return b.String()
}

// versionTemplate is the root's --version output as a cobra template: the
// text, with any template delimiters in the values quoted.
func versionTemplate(info buildinfo.Info) string {
	return strings.NewReplacer("{{", `{{"{{"}}`, "}}", `{{"}}"}}`).Replace(versionText(info))
}

// versionLogAttrs are the build's values for the start-up log.
func versionLogAttrs(info buildinfo.Info) []any {
	return []any{"version", info.Version, "commit", info.Commit, "build_date", info.Date,
		"go_version", info.GoVersion, "fosite_version", info.Fosite}
}
