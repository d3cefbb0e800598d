package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeSecrets are the variables docker-compose.yml must refuse to start
// without: no publicly known fallback.
var composeSecrets = []string{"STRONGROOM_SECRET", "STRONGROOM_KEK", "POSTGRES_PASSWORD"}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerfileRunsServeWithHealthcheck reads the Dockerfile and
// .dockerignore (no Docker engine needed).
func TestDockerfileRunsServeWithHealthcheck(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	for _, want := range []string{
		`CMD ["/usr/local/bin/strongroom", "healthcheck"]`,
		`CMD ["serve", "--insecure-http", "--listen", ":8080"]`,
		"buildinfo.version=${VERSION}",
		"USER nonroot",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	if !strings.Contains(df, "HEALTHCHECK ") || strings.Contains(df, "--issuer") {
		t.Error("Dockerfile: want a HEALTHCHECK and the issuer from STRONGROOM_ISSUER, not a fixed --issuer")
	}
	// The healthcheck's default URL is the default command's listener.
	if !strings.HasPrefix(defaultHealthcheckURL, "http://127.0.0.1:8080/") {
		t.Errorf("healthcheck URL %s does not match the image's --listen :8080", defaultHealthcheckURL)
	}
	ignore := strings.Fields(readRepoFile(t, ".dockerignore"))
	for _, want := range []string{".git", "bin/", "*.test"} {
		if !containsString(ignore, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestComposeFileHasNoFallbackSecrets checks the compose file's text: each
// secret is interpolated as ${NAME:?message}, never ${NAME:-default}.
func TestComposeFileHasNoFallbackSecrets(t *testing.T) {
	compose := readRepoFile(t, "docker-compose.yml")
	for _, name := range composeSecrets {
		if regexp.MustCompile(`\$\{` + name + `(:?-|-)`).MatchString(compose) {
			t.Errorf("docker-compose.yml gives %s a default", name)
		}
		if !strings.Contains(compose, "${"+name+":?set "+name) {
			t.Errorf("docker-compose.yml does not require %s with a message", name)
		}
	}
}

// composeCommand is `docker compose`, or the standalone docker-compose
// when the client has no compose plugin.
func composeCommand(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker binary absent: docker compose config not run on docker-compose.yml")
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	t.Fatal("the docker client has no compose plugin and docker-compose is absent: install one (e.g. apt-get install docker-compose)")
	return nil
}

// composeEnv is the test's environment without the compose secrets, plus
// extra.
func composeEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "STRONGROOM_") || containsString(composeSecrets, name) || strings.HasPrefix(name, "COMPOSE_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// TestDockerComposeConfig runs `docker compose config` on the compose
// file: valid with the secrets set, refused with a message without them;
// the server has a restart policy, a healthcheck through strongroom
// healthcheck and the admin API on its own published port.
func TestDockerComposeConfig(t *testing.T) {
	compose := composeCommand(t)
	run := func(env []string, args ...string) (string, string, error) {
		cmd := exec.Command(compose[0], append(append(compose[1:], "-f", "../../docker-compose.yml", "--project-directory", t.TempDir()), args...)...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	secrets := []string{"STRONGROOM_SECRET=c2VjcmV0", "STRONGROOM_KEK=a2Vr", "POSTGRES_PASSWORD=0123abcd"}
	if _, stderr, err := run(composeEnv(secrets...), "config", "-q"); err != nil {
		t.Fatalf("%s config -q: %v\n%s", strings.Join(compose, " "), err, stderr)
	}
	for i, name := range composeSecrets {
		without := append(append([]string{}, secrets[:i]...), secrets[i+1:]...)
		_, stderr, err := run(composeEnv(without...), "config", "-q")
		if err == nil || !strings.Contains(stderr, "set "+name) {
			t.Errorf("without %s: err %v, stderr %q; want a refusal saying to set it", name, err, stderr)
		}
	}

	out, stderr, err := run(composeEnv(secrets...), "config")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, stderr)
	}
	var cfg struct {
		Services map[string]struct {
			Restart     string         `yaml:"restart"`
			Healthcheck map[string]any `yaml:"healthcheck"`
			Ports       []any          `yaml:"ports"`
			Environment map[string]any `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sr := cfg.Services["strongroom"]
	if sr.Restart != "unless-stopped" {
		t.Errorf("strongroom restart policy %q", sr.Restart)
	}
	if test, _ := sr.Healthcheck["test"].([]any); len(test) < 3 || test[2] != "healthcheck" {
		t.Errorf("strongroom healthcheck %v", sr.Healthcheck)
	}
	if ports := fmtAny(sr.Ports); !strings.Contains(ports, "8081") || !strings.Contains(ports, "8080") {
		t.Errorf("strongroom ports %v: want 8080 and the admin API's 8081", sr.Ports)
	}
	if sr.Environment["STRONGROOM_ADMIN_LISTEN"] != ":8081" || sr.Environment["STRONGROOM_ISSUER"] == nil {
		t.Errorf("strongroom environment %v", sr.Environment)
	}
}

func fmtAny(v any) string {
	b, _ := yaml.Marshal(v)
	return string(b)
}

// TestImageDefaultCommandTakesIssuerFromEnv runs the image's default
// command (serve --insecure-http, on a free port instead of :8080) with
// the issuer and admin listener from the environment, as the compose file
// sets them, and probes it with strongroom healthcheck.
func TestImageDefaultCommandTakesIssuerFromEnv(t *testing.T) {
	e := prodEnv(t)
	e["STRONGROOM_ISSUER"] = "http://issuer-from-env.example"
	e["STRONGROOM_ADMIN_LISTEN"] = "127.0.0.1:0"
	s := startServe(t, e, "serve", "--insecure-http", "--listen", "127.0.0.1:0")
	s.waitFor("the admin API", func() bool { return strings.Contains(s.log.String(), "strongroom admin API listening") })
	log := s.log.String()
	if !strings.Contains(log, "issuer=http://issuer-from-env.example") {
		t.Fatalf("issuer not from STRONGROOM_ISSUER:\n%s", s.dump())
	}
	addr := regexp.MustCompile(`msg="strongroom listening" addr=(\S+)`).FindStringSubmatch(log)
	if addr == nil {
		t.Fatalf("no listening address:\n%s", s.dump())
	}
	if r := run(t, nil, "", "healthcheck", "--url", "http://"+addr[1]+"/readyz"); r.code != exitOK {
		t.Errorf("healthcheck of a ready server: exit %d %s", r.code, r.errOut)
	}

	delete(e, "STRONGROOM_ISSUER")
	r := run(t, e, "", "serve", "--insecure-http", "--listen", "127.0.0.1:0")
	wantFail(t, r, exitUsage, "set STRONGROOM_ISSUER")
}
