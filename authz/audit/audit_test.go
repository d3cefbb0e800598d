package audit_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

func TestParseAnchor(t *testing.T) {
	h := bytes.Repeat([]byte{0xab}, 32)
	a, err := audit.ParseAnchor("42:" + strings.Repeat("ab", 32))
	if err != nil || a.EventID != 42 || !bytes.Equal(a.Hash, h) || a.String() != "42:"+strings.Repeat("ab", 32) {
		t.Fatalf("ParseAnchor: %+v %v", a, err)
	}
	for _, bad := range []string{"", "42", "x:ab", "0:" + strings.Repeat("ab", 32), "42:abcd", "42:" + strings.Repeat("zz", 32)} {
		if _, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}

func TestNewRefusesAShortKey(t *testing.T) {
	if _, err := audit.New(memory.New(), make([]byte, 16), nil); err == nil {
		t.Fatal("a 16-byte checkpoint key was accepted")
	}
}

// TestExportWritesOneLinePerEventOldestFirst checks Export's bounds.
func TestExportWritesOneLinePerEventOldestFirst(t *testing.T) {
	s := memory.New()
	t.Cleanup(s.Close)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.AppendAudit(t.Context(), &storage.AuditEvent{Time: base.Add(time.Duration(i) * time.Hour), Actor: "a", Action: "x", Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := audit.Export(t.Context(), s, &buf, 0, base.Add(time.Hour), time.Time{})
	if err != nil || n != 2 || strings.Count(buf.String(), "\n") != 2 || !strings.HasPrefix(buf.String(), `{"id":2,`) {
		t.Fatalf("export: %d %v\n%s", n, err, buf.String())
	}
}
