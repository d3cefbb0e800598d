package flagsource

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func aliasedFlagSet(d *time.Duration) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.DurationVar(d, "jwks-cache-lifespan", time.Minute, "")
	Alias(fs, "jwks-cache-lifetime", "jwks-cache-lifespan")
	return fs
}

// TestOldFlagNamesKeepWorking: a flag's old name (Alias) still sets it on
// the command line, from its environment variable and from its config file
// key, with the usual precedence; the new name's variable wins over the
// old one's; a file giving both names is refused.
func TestOldFlagNamesKeepWorking(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		file string
		want time.Duration
		from Kind
	}{
		"old flag":                    {args: []string{"--jwks-cache-lifetime", "11s"}, want: 11 * time.Second, from: FromFlag},
		"new flag":                    {args: []string{"--jwks-cache-lifespan", "12s"}, want: 12 * time.Second, from: FromFlag},
		"old variable":                {env: map[string]string{"STRONGROOM_JWKS_CACHE_LIFETIME": "13s"}, want: 13 * time.Second, from: FromEnv},
		"new variable beats old":      {env: map[string]string{"STRONGROOM_JWKS_CACHE_LIFETIME": "13s", "STRONGROOM_JWKS_CACHE_LIFESPAN": "14s"}, want: 14 * time.Second, from: FromEnv},
		"old file key":                {file: "jwks-cache-lifetime: 15s\n", want: 15 * time.Second, from: FromFile},
		"old variable beats file key": {env: map[string]string{"STRONGROOM_JWKS_CACHE_LIFETIME": "13s"}, file: "jwks-cache-lifespan: 15s\n", want: 13 * time.Second, from: FromEnv},
		"default":                     {want: time.Minute, from: FromDefault},
	} {
		t.Run(name, func(t *testing.T) {
			var d time.Duration
			fs := aliasedFlagSet(&d)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			origins, err := Apply(fs, path, Options{EnvPrefix: "STRONGROOM_", Getenv: func(k string) string { return tc.env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			if d != tc.want || origins["jwks-cache-lifespan"].Kind != tc.from {
				t.Fatalf("got %v from %v, want %v from %v", d, origins["jwks-cache-lifespan"], tc.want, tc.from)
			}
		})
	}
	var d time.Duration
	_, err := Apply(aliasedFlagSet(&d), writeFile(t, "jwks-cache-lifetime: 1s\njwks-cache-lifespan: 2s\n"), Options{EnvPrefix: "STRONGROOM_", Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "old name") {
		t.Fatalf("both names in a file: %v", err)
	}
	// The old name is hidden: help lists only the new one.
	if usage := aliasedFlagSet(&d).FlagUsages(); strings.Contains(usage, "lifetime") || !strings.Contains(usage, "jwks-cache-lifespan") {
		t.Fatalf("usage:\n%s", usage)
	}
}
