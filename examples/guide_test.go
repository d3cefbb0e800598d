package examples_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGuideGoBlocksAreExampleCode: every Go block in docs/integrate.md is
// a verbatim piece of a file under examples/, which compiles with the
// module and runs in the examples' tests, so the guide shows code that works.
func TestGuideGoBlocksAreExampleCode(t *testing.T) {
	guide, err := os.ReadFile("../docs/integrate.md")
	if err != nil {
		t.Fatal(err)
	}
	var sources strings.Builder
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && path != "guide_test.go" {
			b, rerr := os.ReadFile(path)
			sources.Write(b)
			return rerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(guide), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d Go blocks in the guide, expected at least 8", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(sources.String(), b[1]) {
			t.Errorf("this Go block of docs/integrate.md is not in examples/:\n%s", b[1])
		}
	}
}
