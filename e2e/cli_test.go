package e2e

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cliBinary builds the strongroom command once per test binary.
var cliBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "strongroom-e2e-cli-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "strongroom")
	out, err := exec.Command("go", "build", "-o", path, "github.com/strongroom/strongroom/cmd/strongroom").CombinedOutput()
	if err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return path, nil
})

// cli runs the real strongroom binary against the deployment's database,
// with its system secret and key-encryption key, and returns stdout.
func (e *env) cli(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := cliBinary()
	if err != nil {
		t.Fatalf("build strongroom: %v", err)
	}
	secret, kek := e.Secrets()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.DBURL,
		"STRONGROOM_SECRET="+base64.StdEncoding.EncodeToString(secret),
		"STRONGROOM_KEK="+base64.StdEncoding.EncodeToString(kek))
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("strongroom %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}
