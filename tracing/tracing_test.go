package tracing

import (
	"context"
	"strings"
	"testing"
)

// TestTracingOffByDefault: without an endpoint (flag or standard variable)
// nothing is exported, and OTEL_SDK_DISABLED=true wins over an endpoint.
func TestTracingOffByDefault(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for name, c := range map[string]struct {
		opts Options
		want bool
	}{
		"off/nothing set":      {Options{Getenv: env(nil)}, false},
		"off/sdk disabled":     {Options{Endpoint: "http://127.0.0.1:4318", Getenv: env(map[string]string{EnvSDKDisabled: "true"})}, false},
		"on/flag":              {Options{Endpoint: "http://127.0.0.1:4318", Getenv: env(nil)}, true},
		"on/standard variable": {Options{Getenv: env(map[string]string{EnvEndpoint: "http://127.0.0.1:4318"})}, true},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Setup(context.Background(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Shutdown(context.Background())
			if p.Enabled() != c.want {
				t.Fatalf("enabled %v, want %v", p.Enabled(), c.want)
			}
		})
	}
}

// TestOTLPEndpointValidation: the flag takes a collector base URL; spans go
// to its /v1/traces; a password in it never reaches the start log.
func TestOTLPEndpointValidation(t *testing.T) {
	for raw, want := range map[string]string{
		"http://collector:4318":        "http://collector:4318/v1/traces",
		"https://collector:4318/otlp/": "https://collector:4318/otlp/v1/traces",
		"ftp://collector":              "",
		"collector:4318":               "",
		"http://collector:4318/?x=1":   "",
		"http://:4318":                 "",
	} {
		got, err := ParseEndpoint(raw)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("%q: %q %v, want %q", raw, got, err, want)
		}
	}
	p, err := Setup(context.Background(), Options{Endpoint: "http://user:hunter2@127.0.0.1:4318"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if strings.Contains(p.Endpoint, "hunter2") {
		t.Fatalf("endpoint for the log %q holds the password", p.Endpoint)
	}
}
