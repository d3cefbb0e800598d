package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeMetricsAndTracingFlags: --metrics-token-file without the admin
// listener, a token file that is too short (its content never echoed) and
// an --otlp-endpoint that is not a collector URL are usage errors.
func TestServeMetricsAndTracingFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.token")
	if err := os.WriteFile(short, []byte("tiny-SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"fail/token-without-admin-listener", []string{"--admin-listen", "off", "--metrics-token-file", short}, "--metrics-token-file needs the admin listener"},
		{"fail/short-token", []string{"--admin-listen", "127.0.0.1:0", "--metrics-token-file", short}, "shorter than 16 bytes"},
		{"fail/missing-token-file", []string{"--admin-listen", "127.0.0.1:0", "--metrics-token-file", filepath.Join(dir, "none")}, "--metrics-token-file"},
		{"fail/otlp-not-a-url", []string{"--otlp-endpoint", "otel-collector:4318"}, "--otlp-endpoint"},
		{"fail/otlp-with-query", []string{"--otlp-endpoint", "http://collector:4318/?k=v"}, "no query"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _ := runServeOnce(t, env{}, append([]string{"serve", "--dev", "--listen", "127.0.0.1:0"}, c.args...)...)
			if r.code != exitUsage || !strings.Contains(r.errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want a usage error with %q", r.code, r.errOut, c.want)
			}
			if strings.Contains(r.errOut, "tiny-SECRET") {
				t.Fatalf("the token file's content is in the error: %q", r.errOut)
			}
		})
	}
}
