package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strongroom/strongroom/cmd/strongroom/internal/flagsource"
)

// Configuration sources of serve (and config show): every flag is also
// read from STRONGROOM_<FLAG_NAME> and from the --config YAML file.
const (
	envPrefix  = "STRONGROOM_"
	envConfig  = "STRONGROOM_CONFIG"
	flagConfig = "config"
)

// configSkips are flags that never come from the environment or the file.
var configSkips = []string{"help", flagConfig, "output"}

// addConfigFlag declares --config on fl.
func addConfigFlag(fl *pflag.FlagSet) {
	fl.String(flagConfig, "", "YAML file of settings, keys named as the flags (issuer: https://…); flags and "+
		envPrefix+"<FLAG_NAME> variables override it (default $"+envConfig+")")
}

// configPath is --config, else $STRONGROOM_CONFIG.
func configPath(cmd *cobra.Command, a *app) string {
	if p, _ := cmd.Flags().GetString(flagConfig); p != "" {
		return p
	}
	return a.getenv(envConfig)
}

// applyConfigSources fills cmd's flags that the command line left unset
// from the environment, then from the config file: flag > env > file >
// default. Any error is a usage error naming the variable, file or key.
func applyConfigSources(cmd *cobra.Command, a *app) (map[string]flagsource.Origin, error) {
	origins, err := flagsource.Apply(cmd.Flags(), configPath(cmd, a), flagsource.Options{
		EnvPrefix: envPrefix, Getenv: a.getenv, Skip: configSkips,
	})
	if err != nil {
		return nil, usageErrorf("configuration: %v", err)
	}
	return origins, nil
}

// newConfigCmd builds `strongroom config`.
func newConfigCmd(a *app) *cobra.Command {
	return newGroupCmd("config", "Show the configuration serve would run with",
		"  strongroom config show --config /etc/strongroom/strongroom.yaml", newConfigShowCmd(a))
}

// configEntry is one line of config show.
type configEntry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`         // flag, env, file, default or unset
	From   string `json:"from,omitempty"` // the variable or the file
}

func newConfigShowCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print serve's effective configuration and where each value comes from (secrets redacted)",
		Long: `Print the configuration serve would run with, given the same flags,
environment and --config file, and where each value comes from: a flag, a
STRONGROOM_<FLAG_NAME> variable, the file, or the default (precedence in that
order). Secrets are redacted: the database URL's password, STRONGROOM_SECRET,
STRONGROOM_KEK and STRONGROOM_KEK_PREVIOUS (these three come from the
environment only).`,
		Example: `  strongroom config show --config strongroom.yaml
  STRONGROOM_ISSUER=https://auth.example.com strongroom config show -o json`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().AddFlagSet(newServeCmd(a).Flags())
	out := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		origins, err := applyConfigSources(cmd, a)
		if err != nil {
			return err
		}
		entries := effectiveConfig(cmd.Flags(), origins, a.getenv)
		if *out == formatJSON {
			return writeJSON(a.out, entries)
		}
		tw := newTable(a.out)
		fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
		if p := configPath(cmd, a); p != "" {
			source := "flag"
			if !cmd.Flags().Changed(flagConfig) {
				source = "env " + envConfig
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", flagConfig, p, source)
		}
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, orDash(e.Value), strings.TrimSpace(e.Source+" "+e.From))
		}
		return tw.Flush()
	}
	return cmd
}

// effectiveConfig lists every configurable flag with its value and origin,
// then the secrets read from the environment only, all redacted.
func effectiveConfig(fs *pflag.FlagSet, origins map[string]flagsource.Origin, getenv func(string) string) []configEntry {
	var entries []configEntry
	fs.VisitAll(func(f *pflag.Flag) {
		o, ok := origins[f.Name]
		if !ok {
			return
		}
		value := f.Value.String()
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			value = strings.Join(sv.GetSlice(), ",")
		}
		e := configEntry{Key: f.Name, Value: value, Source: string(o.Kind), From: o.Name}
		if f.Name == "database-url" {
			// As serve: DATABASE_URL when the URL is set nowhere else, except with --dev.
			if o.Kind == flagsource.FromDefault && getenv(envDatabaseURL) != "" && !devMode(fs) {
				e.Value, e.Source, e.From = getenv(envDatabaseURL), string(flagsource.FromEnv), envDatabaseURL
			}
			e.Value = redactDatabaseURL(e.Value)
		}
		if f.Name == "redis-url" {
			// As serve: REDIS_URL when the URL is set nowhere else, except with --dev.
			if o.Kind == flagsource.FromDefault && getenv(envRedisURL) != "" && !devMode(fs) {
				e.Value, e.Source, e.From = getenv(envRedisURL), string(flagsource.FromEnv), envRedisURL
			}
			e.Value = redactDatabaseURL(e.Value)
		}
		entries = append(entries, e)
	})
	for _, env := range []string{envSecret, envKEK, envKEKPrevious} {
		e := configEntry{Key: env, Source: "unset"}
		if getenv(env) != "" {
			e.Value, e.Source, e.From = "(redacted)", string(flagsource.FromEnv), env
		}
		entries = append(entries, e)
	}
	return entries
}

// devMode reports whether --dev is on in fs.
func devMode(fs *pflag.FlagSet) bool {
	dev, err := fs.GetBool("dev")
	return err == nil && dev
}

// passwordParam matches the password of a keyword/value connection string.
var passwordParam = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactDatabaseURL hides the password of a database URL (postgres://…
// or keyword/value form); a value it cannot read is hidden whole.
func redactDatabaseURL(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		return passwordParam.ReplaceAllString(s, "${1}xxxxx")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(redacted: not a valid URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
