package registration_test

import (
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/registration"
)

func TestDecodeClientSpecs(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		n    int
		fail string
	}{
		"ok/object":        {`{"client_name":"a"}`, 1, ""},
		"ok/list":          {`[{"client_name":"a"},{"client_name":"b"}]`, 2, ""},
		"fail/unknown":     {`{"client_nam":"a"}`, 0, "unknown field"},
		"fail/trailing":    {`{"client_name":"a"} {}`, 0, "after the document"},
		"fail/empty":       {` `, 0, "empty"},
		"fail/not-json":    {`client_name: a`, 0, "invalid JSON"},
		"fail/wrong-shape": {`"x"`, 0, "invalid JSON"},
	} {
		t.Run(name, func(t *testing.T) {
			specs, err := registration.DecodeClientSpecs([]byte(tc.in))
			if tc.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fail) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || len(specs) != tc.n {
				t.Fatalf("%v %d", err, len(specs))
			}
		})
	}
}
