package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLoggerStructuresMaps(t *testing.T) {
	var text bytes.Buffer
	newLogger(&text, logText, slog.LevelInfo).Info("signing keys loaded", "active", map[string]string{"RS256": "k1", "ES256": "k2"}, "published", 2)
	if got, want := text.String(), `msg="signing keys loaded" active.ES256=k2 active.RS256=k1 published=2`; !strings.Contains(got, want) {
		t.Errorf("text log %q lacks %q", got, want)
	}
	if strings.Contains(text.String(), "map[") {
		t.Errorf("text log prints a Go map: %s", text.String())
	}

	var js bytes.Buffer
	newLogger(&js, logJSON, slog.LevelInfo).Info("signing keys loaded", "active", map[string]string{"RS256": "k1"})
	var rec struct {
		Active map[string]string `json:"active"`
	}
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil || rec.Active["RS256"] != "k1" {
		t.Errorf("json log %s: %v", js.String(), err)
	}
}

func TestLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, logText, slog.LevelWarn)
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Errorf("warn-level log: %q", buf.String())
	}
}

func TestServeRefusesBadLogFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--log-format", "xml"}, `"xml" is not a log format: use text or json`},
		{[]string{"--log-level", "loud"}, `"loud" is not a log level: use debug, info, warn or error`},
	} {
		r := run(t, nil, "", append([]string{"serve", "--dev"}, tc.args...)...)
		wantFail(t, r, exitUsage, tc.msg)
	}
}

// TestServeLogsJSONWithStructuredStartUp starts the dev server with
// --log-format json --log-level debug and reads its start-up log.
func TestServeLogsJSONWithStructuredStartUp(t *testing.T) {
	logs := &syncBuffer{}
	s := &serving{t: t, args: []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--admin-listen", "off", "--log-format", "json", "--log-level", "debug"},
		out: &syncBuffer{}, errOut: &syncBuffer{}, log: logs, done: make(chan int, 1)}
	a := &app{in: strings.NewReader(""), out: s.out, errOut: s.errOut, log: slog.New(slog.DiscardHandler), logTo: logs,
		getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- execute(ctx, newRootCmd(a), s.args, s.errOut) }()
	t.Cleanup(func() {
		if !s.stopped {
			s.stop()
		}
	})
	s.waitFor("strongroom listening", func() bool { return strings.Contains(logs.String(), "strongroom listening") })

	seen := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		seen[rec["msg"].(string)] = rec
	}
	if start := seen["strongroom starting"]; start == nil || start["version"] == "" || start["fosite_version"] == nil || start["go_version"] == nil {
		t.Errorf("no start-up line with the version: %v", seen)
	}
	if keys := seen["signing keys loaded"]; keys == nil {
		t.Errorf("no signing keys line: %v", seen)
	} else if _, ok := keys["active"].(map[string]any); !ok {
		t.Errorf("active keys logged as %T %v, want an object", keys["active"], keys["active"])
	}
	if strings.Contains(logs.String(), "map[") {
		t.Errorf("a Go map in the log:\n%s", logs)
	}
}
