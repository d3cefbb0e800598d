package flagsource

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// values are the flags a test FlagSet binds.
type values struct {
	issuer  string
	ttl     time.Duration
	dev     bool
	proxies []string
	scopes  []string
	workers int
}

func newFlagSet(v *values) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.StringVar(&v.issuer, "issuer", "https://default", "")
	fs.DurationVar(&v.ttl, "access-token-lifespan", 10*time.Minute, "")
	fs.BoolVar(&v.dev, "dev", false, "")
	fs.StringArrayVar(&v.proxies, "trusted-proxy", nil, "")
	fs.StringSliceVar(&v.scopes, "scope", []string{"openid"}, "")
	fs.IntVar(&v.workers, "workers", 2, "")
	fs.String("config", "", "")
	return fs
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "strongroom.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullFile = `
issuer: https://file
access-token-lifespan: 3m
dev: true
trusted-proxy: [10.0.0.0/8, 192.168.0.0/16]
scope:
  - email
workers: 5
`

func TestPrecedenceFlagOverEnvOverFileOverDefault(t *testing.T) {
	env := map[string]string{
		"STRONGROOM_ISSUER": "https://env", "STRONGROOM_ACCESS_TOKEN_LIFESPAN": "2m", "STRONGROOM_DEV": "false",
		"STRONGROOM_TRUSTED_PROXY": "172.16.0.0/12, 127.0.0.1", "STRONGROOM_SCOPE": "profile,phone", "STRONGROOM_WORKERS": "7",
	}
	args := []string{"--issuer", "https://flag", "--access-token-lifespan", "1m", "--dev", "--trusted-proxy", "::1", "--scope", "address", "--workers", "9"}
	flagWant := values{"https://flag", time.Minute, true, []string{"::1"}, []string{"address"}, 9}
	envWant := values{"https://env", 2 * time.Minute, false, []string{"172.16.0.0/12", "127.0.0.1"}, []string{"profile", "phone"}, 7}
	fileWant := values{"https://file", 3 * time.Minute, true, []string{"10.0.0.0/8", "192.168.0.0/16"}, []string{"email"}, 5}
	defaultWant := values{"https://default", 10 * time.Minute, false, nil, []string{"openid"}, 2}
	names := []string{"issuer", "access-token-lifespan", "dev", "trusted-proxy", "scope", "workers"}

	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		file       string
		want       values
		wantOrigin Kind
	}{
		{"flag beats env and file", args, env, fullFile, flagWant, FromFlag},
		{"env beats file", nil, env, fullFile, envWant, FromEnv},
		{"file beats default", nil, nil, fullFile, fileWant, FromFile},
		{"default", nil, nil, "", defaultWant, FromDefault},
		{"empty variable counts as unset", nil, map[string]string{"STRONGROOM_ISSUER": ""}, "", defaultWant, FromDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got values
			fs := newFlagSet(&got)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			origins, err := Apply(fs, path, Options{EnvPrefix: "STRONGROOM_", Getenv: func(k string) string { return tc.env[k] }, Skip: []string{"config"}})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("values %+v, want %+v", got, tc.want)
			}
			for _, name := range names {
				o := origins[name]
				if o.Kind != tc.wantOrigin {
					t.Errorf("%s: origin %v, want %s", name, o, tc.wantOrigin)
				}
				switch o.Kind {
				case FromEnv:
					if o.Name != EnvName("STRONGROOM_", name) {
						t.Errorf("%s: origin %v names the wrong variable", name, o)
					}
				case FromFile:
					if o.Name != path {
						t.Errorf("%s: origin %v names the wrong file", name, o)
					}
				}
				if changed := fs.Changed(name); changed != (o.Kind != FromDefault) {
					t.Errorf("%s: Changed = %v with origin %v", name, changed, o)
				}
			}
			if _, ok := origins["config"]; ok {
				t.Error("a skipped flag has an origin")
			}
		})
	}
}

func TestMixedSources(t *testing.T) {
	var got values
	fs := newFlagSet(&got)
	if err := fs.Parse([]string{"--workers", "4"}); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "issuer: https://file\nworkers: 5\naccess-token-lifespan: 3m\n")
	origins, err := Apply(fs, path, Options{EnvPrefix: "SR_", Getenv: func(k string) string {
		return map[string]string{"SR_ACCESS_TOKEN_LIFESPAN": "90s"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got.workers != 4 || got.issuer != "https://file" || got.ttl != 90*time.Second || got.dev {
		t.Errorf("values %+v", got)
	}
	want := map[string]string{"workers": "flag", "issuer": "file " + path, "access-token-lifespan": "env SR_ACCESS_TOKEN_LIFESPAN", "dev": "default"}
	for name, w := range want {
		if origins[name].String() != w {
			t.Errorf("%s: origin %q, want %q", name, origins[name], w)
		}
	}
}

func TestFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown key", "issuer: https://x\nisuer: https://y\n", `unknown key "isuer"`},
		{"skipped flag is unknown", "config: other.yaml\n", `unknown key "config"`},
		{"bad YAML", "issuer: [https://x\n", "not valid YAML"},
		{"not a mapping", "- issuer\n", "want a mapping of flag names to values"},
		{"duplicate key", "issuer: a\nissuer: b\n", `key "issuer" given twice`},
		{"list for a single value", "issuer: [a, b]\n", "issuer (line 1): takes one value, not a list"},
		{"mapping value", "issuer:\n  url: x\n", "must be a value, not a mapping"},
		{"bad duration", "access-token-lifespan: soon\n", `access-token-lifespan (line 1): invalid argument "soon"`},
		{"empty value", "issuer:\n", "issuer (line 1): has no value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v values
			fs := newFlagSet(&v)
			path := writeFile(t, tc.file)
			_, err := Apply(fs, path, Options{EnvPrefix: "STRONGROOM_", Getenv: func(string) string { return "" }, Skip: []string{"config"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

func TestMissingFileAndBadVariable(t *testing.T) {
	var v values
	fs := newFlagSet(&v)
	if _, err := Apply(fs, filepath.Join(t.TempDir(), "absent.yaml"), Options{}); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("missing file: %v", err)
	}
	_, err := Apply(fs, "", Options{EnvPrefix: "STRONGROOM_", Getenv: func(k string) string {
		return map[string]string{"STRONGROOM_WORKERS": "many"}[k]
	}})
	if err == nil || !strings.Contains(err.Error(), "STRONGROOM_WORKERS") {
		t.Errorf("bad variable: %v", err)
	}
}

func TestEmptyFileConfiguresNothing(t *testing.T) {
	var v values
	fs := newFlagSet(&v)
	origins, err := Apply(fs, writeFile(t, "# nothing yet\n"), Options{Getenv: func(string) string { return "" }})
	if err != nil || origins["issuer"].Kind != FromDefault {
		t.Errorf("origins %v, err %v", origins, err)
	}
}
