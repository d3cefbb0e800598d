package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configFile writes a strongroom.yaml for a test.
func configFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "strongroom.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configShow runs config show -o json and indexes its entries by key.
func configShow(t *testing.T, e env, args ...string) map[string]configEntry {
	t.Helper()
	r := mustRun(t, e, "", append([]string{"config", "show", "-o", "json"}, args...)...)
	var entries []configEntry
	if err := json.Unmarshal([]byte(r.out), &entries); err != nil {
		t.Fatalf("%v: %s", err, r.out)
	}
	byKey := map[string]configEntry{}
	for _, e := range entries {
		byKey[e.Key] = e
	}
	return byKey
}

func TestConfigShowPrecedence(t *testing.T) {
	file := configFile(t, `
issuer: https://file.example
access-token-lifespan: 3m
insecure-http: true
trusted-proxy: [10.0.0.0/8, 192.168.0.0/16]
`)
	envs := env{
		"STRONGROOM_ISSUER": "https://env.example", "STRONGROOM_ACCESS_TOKEN_LIFESPAN": "2m",
		"STRONGROOM_INSECURE_HTTP": "false", "STRONGROOM_TRUSTED_PROXY": "172.16.0.0/12,127.0.0.1",
	}
	flags := []string{"--issuer", "https://flag.example", "--access-token-lifespan", "1m", "--insecure-http", "--trusted-proxy", "::1"}
	type want struct{ value, source, from string }
	for _, tc := range []struct {
		name  string
		e     env
		args  []string
		wants map[string]want
	}{
		{"flag over env over file", envs, append([]string{"--config", file}, flags...), map[string]want{
			"issuer": {"https://flag.example", "flag", ""}, "access-token-lifespan": {"1m0s", "flag", ""},
			"insecure-http": {"true", "flag", ""}, "trusted-proxy": {"::1", "flag", ""},
		}},
		{"env over file", envs, []string{"--config", file}, map[string]want{
			"issuer":                {"https://env.example", "env", "STRONGROOM_ISSUER"},
			"access-token-lifespan": {"2m0s", "env", "STRONGROOM_ACCESS_TOKEN_LIFESPAN"},
			"insecure-http":         {"false", "env", "STRONGROOM_INSECURE_HTTP"},
			"trusted-proxy":         {"172.16.0.0/12,127.0.0.1", "env", "STRONGROOM_TRUSTED_PROXY"},
		}},
		{"file over default (file from STRONGROOM_CONFIG)", env{"STRONGROOM_CONFIG": file}, nil, map[string]want{
			"issuer": {"https://file.example", "file", file}, "access-token-lifespan": {"3m0s", "file", file},
			"insecure-http": {"true", "file", file}, "trusted-proxy": {"10.0.0.0/8,192.168.0.0/16", "file", file},
		}},
		{"default", nil, nil, map[string]want{
			"issuer": {"", "default", ""}, "access-token-lifespan": {"10m0s", "default", ""},
			"insecure-http": {"false", "default", ""}, "trusted-proxy": {"", "default", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := configShow(t, tc.e, tc.args...)
			for key, w := range tc.wants {
				if g := got[key]; g.Value != w.value || g.Source != w.source || g.From != w.from {
					t.Errorf("%s = %+v, want %+v", key, g, w)
				}
			}
		})
	}
}

func TestServeReadsEnvironmentAndConfigFile(t *testing.T) {
	file := configFile(t, "listen: 127.0.0.1:0\nadmin-listen: \"off\"\nproduct-name: From The File\n")
	s := startServe(t, env{"STRONGROOM_ISSUER": "http://issuer-from-env.example"}, "serve", "--dev", "--config", file)
	s.waitFor("strongroom listening", func() bool { return strings.Contains(s.log.String(), "strongroom listening") })
	log := s.log.String()
	if !strings.Contains(log, "issuer=http://issuer-from-env.example") {
		t.Errorf("issuer not taken from STRONGROOM_ISSUER:\n%s", s.dump())
	}
	if strings.Contains(log, "admin API listening") || !strings.Contains(log, "addr=127.0.0.1:") {
		t.Errorf("listen/admin-listen not taken from the file:\n%s", s.dump())
	}
}

func TestConfigFileErrorsAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, msg string
	}{
		{"unknown key", "issuer: https://x\nacess-token-lifespan: 5m\n", `unknown key "acess-token-lifespan"`},
		{"bad YAML", "issuer: [https://x\n", "not valid YAML"},
		{"bad value", "log-format: xml\n", `log-format (line 1): invalid argument "xml"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := configFile(t, tc.file)
			for _, cmd := range [][]string{{"serve", "--dev"}, {"config", "show"}} {
				r := run(t, nil, "", append(cmd, "--config", file)...)
				wantFail(t, r, exitUsage, tc.msg)
				if !strings.Contains(r.errOut, file) {
					t.Errorf("%s: the error does not name the file: %s", cmd[0], r.errOut)
				}
			}
		})
	}
	r := run(t, env{"STRONGROOM_LOG_LEVEL": "loud"}, "", "serve", "--dev")
	wantFail(t, r, exitUsage, "STRONGROOM_LOG_LEVEL")
}

func TestConfigShowRedactsSecrets(t *testing.T) {
	const (
		secret   = "c3Ryb25ncm9vbS1kZXYtc3lzdGVtLXNlY3JldC0zMmJ5dGVzIQ=="
		kek      = "c3Ryb25ncm9vbS1leGFtcGxlLWtlay0zMmJ5dGVzISE="
		password = "hunter2-db-password"
	)
	e := env{envSecret: secret, envKEK: kek, envKEKPrevious: kek + "x", envDatabaseURL: "postgres://strongroom:" + password + "@db:5432/strongroom?sslmode=disable"}
	for _, args := range [][]string{{"config", "show"}, {"config", "show", "-o", "json"}} {
		r := mustRun(t, e, "", args...)
		for _, s := range []string{secret, kek, password} {
			if strings.Contains(r.out, s) {
				t.Errorf("%v prints a secret:\n%s", args, r.out)
			}
		}
	}
	got := configShow(t, e)
	if db := got["database-url"]; db.Value != "postgres://strongroom:xxxxx@db:5432/strongroom?sslmode=disable" || db.From != envDatabaseURL {
		t.Errorf("database-url = %+v", db)
	}
	for _, key := range []string{envSecret, envKEK, envKEKPrevious} {
		if g := got[key]; g.Value != "(redacted)" || g.Source != "env" {
			t.Errorf("%s = %+v", key, g)
		}
	}
	if g := configShow(t, nil)[envSecret]; g.Source != "unset" || g.Value != "" {
		t.Errorf("unset secret shown as %+v", g)
	}

	file := configFile(t, "database-url: postgres://u:"+password+"@db/x?password="+password+"\n")
	if db := configShow(t, nil, "--config", file)["database-url"]; strings.Contains(db.Value, password) || db.Source != "file" {
		t.Errorf("database-url from the file = %+v", db)
	}
	if got := redactDatabaseURL("host=db user=u password=" + password + " dbname=x"); strings.Contains(got, password) {
		t.Errorf("keyword/value DSN not redacted: %s", got)
	}
}

// TestConfigShowDevIgnoresDatabaseURL: like serve --dev, config show --dev
// does not take DATABASE_URL (the dev server runs in memory).
func TestConfigShowDevIgnoresDatabaseURL(t *testing.T) {
	e := env{envDatabaseURL: "postgres://u:pw@db/x"}
	if db := configShow(t, e, "--dev")["database-url"]; db.Value != "" || db.Source != "default" {
		t.Errorf("--dev: database-url = %+v", db)
	}
	if db := configShow(t, e)["database-url"]; db.From != envDatabaseURL {
		t.Errorf("database-url = %+v", db)
	}
}

// TestConfigShowRedactsRedisURL: the Redis URL's password is hidden, from
// STRONGROOM_REDIS_URL and from REDIS_URL (used when nothing else sets it).
func TestConfigShowRedactsRedisURL(t *testing.T) {
	const password = "hunter2-redis-password"
	got := configShow(t, env{envRedisURL: "redis://:" + password + "@cache:6379/0"})["redis-url"]
	if got.Value != "redis://:xxxxx@cache:6379/0" || got.From != envRedisURL {
		t.Errorf("redis-url from REDIS_URL = %+v", got)
	}
	got = configShow(t, env{"STRONGROOM_REDIS_URL": "rediss://u:" + password + "@cache:6380", envRedisURL: "redis://other:6379"})["redis-url"]
	if strings.Contains(got.Value, password) || got.From != "STRONGROOM_REDIS_URL" {
		t.Errorf("redis-url from STRONGROOM_REDIS_URL = %+v", got)
	}
}
