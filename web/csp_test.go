package web

import (
	"strings"
	"testing"
)

func TestFlowCSP(t *testing.T) {
	for name, tc := range map[string]struct {
		uris      []string
		script    bool
		want      []string // substrings that must appear
		wantNot   []string // substrings that must not
		wantExact string   // the whole policy, when set
	}{
		"ok/no-redirects-is-base": {wantExact: basePolicy},
		"ok/redirect-origins-are-form-targets": {
			uris: []string{"https://app.example/cb", "https://app.example/other", "http://127.0.0.1:9000/cb", "com.example.app:/cb"},
			want: []string{"form-action 'self' https://app.example http://127.0.0.1:* com.example.app:;", "frame-ancestors 'none'"},
		},
		"ok/script-only-when-asked": {
			uris: []string{"https://app.example/cb"}, script: true,
			want: []string{"; script-src 'self'", "default-src 'none'"},
		},
		"fail/no-script-by-default": {
			uris: []string{"https://app.example/cb"}, wantNot: []string{"script-src"},
		},
		"fail/injection-and-javascript-skipped": {
			uris:    []string{"https://a.example;script-src *", "javascript:alert(1)", "data:text/html,x"},
			wantNot: []string{"script-src", "javascript", "data:text", "a.example"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := flowCSP(tc.uris, tc.script)
			if tc.wantExact != "" && got != tc.wantExact {
				t.Fatalf("flowCSP = %q, want %q", got, tc.wantExact)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("flowCSP = %q lacks %q", got, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("flowCSP = %q holds %q", got, w)
				}
			}
			// the flow policy is the page policy plus, at most, script-src
			if base := pageCSP(nil, origins(tc.uris...)); strings.TrimSuffix(got, "; script-src 'self'") != base {
				t.Errorf("flowCSP drifted from pageCSP:\n%s\n%s", got, base)
			}
		})
	}
}
